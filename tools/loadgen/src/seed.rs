//! `seed`: N tenants × M users created through the public REST API (register, login, then
//! `POST /api/v1/users`), written to a JSON file the scenarios read; `tokens`: fresh admin
//! access tokens for an existing seed (tokens live 15 minutes).

use crate::model::{SeedFile, SeedTenant, SeedUser};
use crate::target::join;
use anyhow::Context;
use serde::Deserialize;
use serde_json::json;
use std::sync::Arc;
use tokio::sync::Semaphore;
use tokio::task::JoinSet;
use url::Url;
use uuid::Uuid;

#[derive(Debug, Clone)]
pub struct SeedPlan {
    pub tenants: usize,
    /// Users per tenant, the admin included.
    pub users: usize,
    /// Tenants seeded at once.
    pub concurrency: usize,
    pub password: String,
    pub slug_prefix: String,
}

#[derive(Deserialize)]
struct IdOnly {
    id: Uuid,
}

#[derive(Deserialize)]
struct Registered {
    user: IdOnly,
    tenant: IdOnly,
}

#[derive(Deserialize)]
pub struct TokenPair {
    pub access_token: String,
    pub refresh_token: String,
}

/// Sends `request` and decodes a 2xx JSON answer; anything else is an error naming `what`.
async fn expect_json<T: for<'de> Deserialize<'de>>(request: reqwest::RequestBuilder, what: &str) -> anyhow::Result<T> {
    let response = request.send().await.with_context(|| format!("{what}: request failed"))?;
    let status = response.status();
    if !status.is_success() {
        let body = response.text().await.unwrap_or_default();
        anyhow::bail!("{what}: HTTP {status}: {}", body.chars().take(400).collect::<String>());
    }
    response.json().await.with_context(|| format!("{what}: unexpected body"))
}

/// `POST /api/v1/auth/login`.
pub async fn login(
    client: &reqwest::Client,
    base: &Url,
    email: &str,
    password: &str,
    slug: &str,
) -> anyhow::Result<TokenPair> {
    let body = json!({ "email": email, "password": password, "tenant_slug": slug });
    expect_json(client.post(join(base, "/api/v1/auth/login")).json(&body), &format!("login {email}@{slug}")).await
}

pub async fn seed(client: reqwest::Client, base: Url, plan: SeedPlan) -> anyhow::Result<SeedFile> {
    anyhow::ensure!(plan.tenants > 0 && plan.users > 0, "--tenants and --users must be positive");
    let limit = Arc::new(Semaphore::new(plan.concurrency.max(1)));
    let mut tasks = JoinSet::new();
    for index in 0..plan.tenants {
        let (client, base, plan, limit) = (client.clone(), base.clone(), plan.clone(), limit.clone());
        tasks.spawn(async move {
            let _permit = limit.acquire_owned().await.context("seeding stopped")?;
            seed_tenant(&client, &base, &plan, index).await.map(|t| (index, t))
        });
    }
    let mut tenants = Vec::with_capacity(plan.tenants);
    while let Some(joined) = tasks.join_next().await {
        tenants.push(joined.context("a seeding task failed")??);
    }
    tenants.sort_by_key(|(index, _)| *index);
    Ok(SeedFile { password: plan.password, tenants: tenants.into_iter().map(|(_, t)| t).collect() })
}

async fn seed_tenant(
    client: &reqwest::Client,
    base: &Url,
    plan: &SeedPlan,
    index: usize,
) -> anyhow::Result<SeedTenant> {
    let slug = format!("{}-{index}", plan.slug_prefix);
    let admin_email = format!("admin@{slug}.bench.test");
    let register = json!({
        "email": admin_email,
        "password": plan.password,
        "full_name": format!("Bench Admin {index}"),
        "tenant_slug": slug,
        "tenant_name": format!("Bench Tenant {index}"),
    });
    let registered: Registered = expect_json(
        client.post(join(base, "/api/v1/auth/register")).json(&register),
        &format!("register tenant {slug}"),
    )
    .await?;
    let admin_token = login(client, base, &admin_email, &plan.password, &slug).await?.access_token;
    let mut users = vec![SeedUser { id: registered.user.id, email: admin_email.clone(), role: "admin".into() }];
    for n in 1..plan.users {
        let email = format!("user{n}@{slug}.bench.test");
        let body = json!({
            "email": email,
            "full_name": format!("Bench User {index}.{n}"),
            "role": "viewer",
            "password": plan.password,
        });
        let created: IdOnly = expect_json(
            client.post(join(base, "/api/v1/users")).bearer_auth(&admin_token).json(&body),
            &format!("create {email}"),
        )
        .await?;
        users.push(SeedUser { id: created.id, email, role: "viewer".into() });
    }
    Ok(SeedTenant { id: registered.tenant.id, slug, admin_email, admin_token, users })
}

/// Logs every tenant's admin in again and stores the new access tokens (this also re-encodes
/// their password hashes when the server's Argon2 parameters changed since seeding).
pub async fn renew_tokens(
    client: reqwest::Client,
    base: Url,
    mut seed: SeedFile,
    concurrency: usize,
) -> anyhow::Result<SeedFile> {
    let limit = Arc::new(Semaphore::new(concurrency.max(1)));
    let mut tasks = JoinSet::new();
    for (index, tenant) in seed.tenants.iter().enumerate() {
        let (client, base, limit) = (client.clone(), base.clone(), limit.clone());
        let (email, slug, password) = (tenant.admin_email.clone(), tenant.slug.clone(), seed.password.clone());
        tasks.spawn(async move {
            let _permit = limit.acquire_owned().await.context("stopped")?;
            login(&client, &base, &email, &password, &slug).await.map(|pair| (index, pair.access_token))
        });
    }
    while let Some(joined) = tasks.join_next().await {
        let (index, token) = joined.context("a login task failed")??;
        if let Some(tenant) = seed.tenants.get_mut(index) {
            tenant.admin_token = token;
        }
    }
    Ok(seed)
}
