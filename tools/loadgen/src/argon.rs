//! The Argon2id hash time at the server's parameters, with the server's own hasher
//! (`tessera_auth::password`), on the calling thread. The harness runs it pinned to the
//! server's core while nothing else is loaded: `cores ÷ hash time` is then the most logins
//! per second that core count can do, the bound the login scenario is compared with.

use crate::model::Argon2Timing;
use std::time::Instant;
use tessera_auth::password::{Argon2Params, PasswordCheck, PasswordHasher};

pub fn measure(params: Argon2Params, samples: usize) -> anyhow::Result<Argon2Timing> {
    let samples = samples.max(1);
    // Building the hasher computes one hash: it doubles as the warm-up.
    let hasher = PasswordHasher::new(params).map_err(|e| anyhow::anyhow!("Argon2 parameters: {e}"))?;
    let password = "a benchmark passphrase of ordinary length";
    let mut hash_ms = Vec::with_capacity(samples);
    let mut phc = String::new();
    for _ in 0..samples {
        let t = Instant::now();
        phc = hasher.hash(password).map_err(|e| anyhow::anyhow!("hashing: {e}"))?;
        hash_ms.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    let mut verify_ms = Vec::with_capacity(samples);
    for _ in 0..samples {
        let t = Instant::now();
        let check = hasher.verify(password, &phc);
        verify_ms.push(t.elapsed().as_secs_f64() * 1000.0);
        anyhow::ensure!(matches!(check, PasswordCheck::Valid { .. }), "the hash did not verify");
    }
    Ok(Argon2Timing {
        kind: "argon2".into(),
        memory_kib: params.memory_kib,
        iterations: params.iterations,
        parallelism: params.parallelism,
        samples,
        hash_ms_median: median(&mut hash_ms.clone()),
        hash_ms_min: hash_ms.iter().copied().fold(f64::INFINITY, f64::min),
        hash_ms_mean: hash_ms.iter().sum::<f64>() / samples as f64,
        verify_ms_median: median(&mut verify_ms),
    })
}

fn median(values: &mut [f64]) -> f64 {
    values.sort_by(f64::total_cmp);
    match values.len() {
        0 => 0.0,
        n if n % 2 == 1 => values.get(n / 2).copied().unwrap_or(0.0),
        n => (values.get(n / 2 - 1).copied().unwrap_or(0.0) + values.get(n / 2).copied().unwrap_or(0.0)) / 2.0,
    }
}
