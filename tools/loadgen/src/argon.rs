//! The Argon2id time at the server's parameters, on the calling thread. The harness runs it
//! pinned to the server's core while the server is idle.
//!
//! Two figures: the server's own hasher (`tessera_auth::password`: allocates its 19 MiB per
//! call, so it includes the page faults of fresh memory) and the bare computation with the
//! `argon2` crate into one reused block buffer — the physical limit of one core. `cores ÷
//! compute time` is the most logins per second those cores can do: the login bound.

use crate::model::Argon2Timing;
use argon2::{Algorithm, Argon2, Block, Params, Version};
use std::time::Instant;
use tessera_auth::password::{Argon2Params, PasswordCheck, PasswordHasher};

pub fn measure(params: Argon2Params, samples: usize, backend: Option<String>) -> anyhow::Result<Argon2Timing> {
    let samples = samples.max(1);
    // Building the hasher computes one hash: it doubles as the warm-up.
    let hasher = PasswordHasher::new(params).map_err(|e| anyhow::anyhow!("Argon2 parameters: {e}"))?;
    let password = "a benchmark passphrase of ordinary length";
    let mut phc = hasher.hash(password).map_err(|e| anyhow::anyhow!("hashing: {e}"))?;
    // Interleaved, so that drift (other processes, frequency) weighs on both alike.
    let (mut hash_ms, mut verify_ms) = (Vec::with_capacity(samples), Vec::with_capacity(samples));
    for _ in 0..samples {
        let t = Instant::now();
        let check = hasher.verify(password, &phc);
        verify_ms.push(t.elapsed().as_secs_f64() * 1000.0);
        anyhow::ensure!(matches!(check, PasswordCheck::Valid { .. }), "the hash did not verify");
        let t = Instant::now();
        phc = hasher.hash(password).map_err(|e| anyhow::anyhow!("hashing: {e}"))?;
        hash_ms.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    let compute_ms = compute_only(params, samples)?;
    Ok(Argon2Timing {
        kind: "argon2".into(),
        backend,
        memory_kib: params.memory_kib,
        iterations: params.iterations,
        parallelism: params.parallelism,
        samples,
        hash_ms_median: median(&mut hash_ms.clone()),
        hash_ms_min: hash_ms.iter().copied().fold(f64::INFINITY, f64::min),
        hash_ms_mean: hash_ms.iter().sum::<f64>() / samples as f64,
        verify_ms_median: median(&mut verify_ms),
        compute_ms_median: median(&mut compute_ms.clone()),
        compute_ms_min: compute_ms.iter().copied().fold(f64::INFINITY, f64::min),
    })
}

/// Argon2id into a block buffer allocated (and touched) once: no allocator, no page faults.
fn compute_only(params: Argon2Params, samples: usize) -> anyhow::Result<Vec<f64>> {
    let argon2_params = Params::new(params.memory_kib, params.iterations, params.parallelism, Some(32))
        .map_err(|e| anyhow::anyhow!("Argon2 parameters: {e}"))?;
    let argon2 = Argon2::new(Algorithm::Argon2id, Version::V0x13, argon2_params.clone());
    let mut blocks = vec![Block::default(); argon2_params.block_count()];
    let mut out = [0u8; 32];
    let salt = *b"benchmark-salt-16";
    let mut run = |blocks: &mut [Block]| {
        argon2
            .hash_password_into_with_memory(b"a benchmark passphrase", &salt, &mut out, blocks)
            .map_err(|e| anyhow::anyhow!("Argon2: {e}"))
    };
    run(&mut blocks)?; // warm-up
    let mut times = Vec::with_capacity(samples);
    for _ in 0..samples {
        let t = Instant::now();
        run(&mut blocks)?;
        times.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    Ok(times)
}

fn median(values: &mut [f64]) -> f64 {
    values.sort_by(f64::total_cmp);
    match values.len() {
        0 => 0.0,
        n if n % 2 == 1 => values.get(n / 2).copied().unwrap_or(0.0),
        n => (values.get(n / 2 - 1).copied().unwrap_or(0.0) + values.get(n / 2).copied().unwrap_or(0.0)) / 2.0,
    }
}
