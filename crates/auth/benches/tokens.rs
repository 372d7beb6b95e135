//! Micro-benchmarks of the per-request token work (SPEC §16: EdDSA verification + RBAC check
//! in-process < 50 µs): access-token issue and verify for EdDSA and ES256, the RBAC check the
//! auth service does after verifying (built-in permissions of the role, then `contains`), and
//! the opaque refresh-token hash used for lookups. `cargo bench -p tessera-auth --bench tokens`.
#![allow(clippy::expect_used, reason = "benchmark set-up that cannot build its keys must stop loudly")]

use chrono::Utc;
use criterion::{Criterion, criterion_group, criterion_main};
use std::hint::black_box;
use tessera_auth::jwt::{AccessClaims, TokenValidation};
use tessera_auth::keys::{KeyRing, MasterKey, generate_signing_key};
use tessera_auth::opaque::{hash_token, new_refresh_token_for};
use tessera_domain::signing::SigningAlgorithm;
use tessera_domain::{Permission, RoleName};

const ISS: &str = "http://127.0.0.1:8080";
const AUD: &str = "tessera";

fn ring(alg: SigningAlgorithm) -> KeyRing {
    let master = MasterKey::generate().expect("master key");
    let key = generate_signing_key(alg, &master, Utc::now()).expect("signing key");
    KeyRing::from_stored(std::slice::from_ref(&key), &master).expect("key ring")
}

/// The claims the server issues (UUIDv7-shaped ids, a session, `amr: ["pwd"]`).
fn claims(now: i64) -> AccessClaims {
    AccessClaims {
        iss: ISS.to_owned(),
        sub: "0190f5c2-7c1e-7000-8000-000000000001".to_owned(),
        aud: AUD.to_owned(),
        exp: now + 900,
        iat: now,
        nbf: now,
        jti: "0190f5c2-7c1e-7000-8000-0000000000aa".to_owned(),
        tid: "0190f5c2-7c1e-7000-8000-0000000000bb".to_owned(),
        role: RoleName::ADMIN.to_owned(),
        sid: Some("0190f5c2-7c1e-7000-8000-0000000000cc".to_owned()),
        amr: vec!["pwd".to_owned()],
    }
}

/// What `AuthService::authenticate` + `require(users:read)` do with verified claims.
fn rbac_allows(role: &str, needed: Permission) -> bool {
    RoleName::new(role.to_owned()).built_in_permissions().unwrap_or_default().contains(&needed)
}

fn access_tokens(c: &mut Criterion) {
    let now = Utc::now().timestamp();
    let validation = TokenValidation::new(ISS, AUD);
    for (name, alg) in [("eddsa", SigningAlgorithm::EdDSA), ("es256", SigningAlgorithm::ES256)] {
        let ring = ring(alg);
        let claims = claims(now);
        let token = ring.sign_access_token(&claims).expect("sign");
        let mut group = c.benchmark_group(format!("access_token/{name}"));
        group.bench_function("issue", |b| b.iter(|| ring.sign_access_token(black_box(&claims))));
        group.bench_function("verify", |b| {
            b.iter(|| ring.verify_access_token(black_box(&token), &validation, now).expect("valid"))
        });
        group.bench_function("verify+rbac", |b| {
            b.iter(|| {
                let claims = ring.verify_access_token(black_box(&token), &validation, now).expect("valid");
                rbac_allows(&claims.role, Permission::UsersRead)
            })
        });
        group.finish();
    }
}

fn rbac(c: &mut Criterion) {
    let mut group = c.benchmark_group("rbac");
    for role in [RoleName::ADMIN, RoleName::VIEWER] {
        group.bench_function(format!("check/{role}"), |b| {
            b.iter(|| rbac_allows(black_box(role), black_box(Permission::UsersRead)))
        });
    }
    group.finish();
}

fn opaque_tokens(c: &mut Criterion) {
    let tenant = uuid::Uuid::now_v7();
    let token = new_refresh_token_for(tenant).expect("refresh token");
    let mut group = c.benchmark_group("refresh_token");
    group.bench_function("hash", |b| b.iter(|| hash_token(black_box(&token))));
    group.bench_function("new", |b| b.iter(|| new_refresh_token_for(black_box(tenant))));
    group.finish();
}

criterion_group!(benches, access_tokens, rbac, opaque_tokens);
criterion_main!(benches);
