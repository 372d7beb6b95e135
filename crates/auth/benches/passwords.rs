//! Argon2id at the default (OWASP) parameters: one hash is what registration and a
//! re-encoding cost, one verification is what every login costs (SPEC §6.1, §16). The
//! `make bench` login figure is compared with `cores ÷ hash time`; this is the in-process
//! reference for that hash time. `cargo bench -p tessera-auth --bench passwords`.
#![allow(clippy::expect_used, reason = "benchmark set-up that cannot hash must stop loudly")]

use criterion::{Criterion, criterion_group, criterion_main};
use std::hint::black_box;
use std::time::Duration;
use tessera_auth::password::{Argon2Params, PasswordHasher};

const PASSWORD: &str = "correct horse battery staple";

fn argon2id(c: &mut Criterion) {
    let hasher = PasswordHasher::new(Argon2Params::default()).expect("default parameters");
    let phc = hasher.hash(PASSWORD).expect("hash");
    let mut group = c.benchmark_group("argon2id/owasp");
    // Tens of milliseconds per call: few samples keep the run short.
    group.sample_size(10).warm_up_time(Duration::from_secs(1)).measurement_time(Duration::from_secs(5));
    group.bench_function("hash", |b| b.iter(|| hasher.hash(black_box(PASSWORD))));
    group.bench_function("verify", |b| b.iter(|| hasher.verify(black_box(PASSWORD), black_box(&phc))));
    group.finish();
}

criterion_group!(benches, argon2id);
criterion_main!(benches);
