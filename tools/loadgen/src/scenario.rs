//! The scenarios: what one request of each is, and the per-worker state some of them keep
//! (a refresh chain follows its own token from one answer to the next).

use crate::model::SeedFile;
use crate::seed::{TokenPair, login};
use crate::target::join;
use anyhow::Context;
use serde_json::json;
use std::sync::Arc;
use url::Url;

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Scenario {
    /// `GET /api/v1/users/{id}` with the tenant admin's bearer token (the authenticated read).
    ReadUser,
    /// `GET /api/v1/auth/me`.
    Me,
    /// `GET /api/v1/users` (first page, default limit).
    ListUsers,
    /// `POST /api/v1/auth/login` (one Argon2id verification each).
    Login,
    /// `POST /api/v1/auth/refresh`, each worker following its own rotation chain.
    RefreshChain,
    /// `GET /users/{id}` on `tessera-baseline` (tenant in `X-Tenant-Id`, no auth).
    BaselineRead,
}

impl Scenario {
    pub fn name(self) -> &'static str {
        match self {
            Self::ReadUser => "read-user",
            Self::Me => "me",
            Self::ListUsers => "list-users",
            Self::Login => "login",
            Self::RefreshChain => "refresh-chain",
            Self::BaselineRead => "baseline-read",
        }
    }
}

/// A seeded account that can log in.
#[derive(Debug, Clone)]
struct Account {
    email: String,
    slug: String,
}

/// Everything the workers share.
pub struct Shared {
    pub scenario: Scenario,
    client: reqwest::Client,
    base: Url,
    seed: Arc<SeedFile>,
    /// The non-admin users, across all tenants (login pool and refresh chains draw from it).
    accounts: Vec<Account>,
    login_pool: Vec<Account>,
}

/// One worker's state.
pub struct Worker {
    rng: u64,
    account: Option<Account>,
    refresh_token: Option<String>,
}

/// How one request ended.
pub enum Outcome {
    Ok,
    /// A kind to count (`status_401`, `timeout`, …) and a description.
    Failed(String, String),
}

impl Shared {
    /// Prepares the scenario. `login` logs every account of its pool in once before the
    /// measurement (this also re-encodes hashes made with other Argon2 parameters, so the
    /// measured logins each cost exactly one verification at the server's parameters).
    pub async fn new(
        scenario: Scenario,
        client: reqwest::Client,
        base: Url,
        seed: Arc<SeedFile>,
        login_pool: usize,
    ) -> anyhow::Result<Self> {
        let accounts: Vec<Account> = seed
            .tenants
            .iter()
            .flat_map(|t| {
                t.users
                    .iter()
                    .filter(|u| u.role != "admin")
                    .map(|u| Account { email: u.email.clone(), slug: t.slug.clone() })
            })
            .collect();
        anyhow::ensure!(!seed.tenants.is_empty(), "the seed file has no tenants");
        let mut shared = Self { scenario, client, base, seed, accounts, login_pool: Vec::new() };
        if scenario == Scenario::Login {
            anyhow::ensure!(!shared.accounts.is_empty(), "the login scenario needs non-admin users in the seed");
            let n = login_pool.clamp(1, shared.accounts.len());
            let len = shared.accounts.len();
            shared.login_pool = (0..n).filter_map(|k| shared.accounts.get(k * len / n).cloned()).collect();
            for account in &shared.login_pool {
                shared.login(account).await?;
            }
        }
        Ok(shared)
    }

    async fn login(&self, account: &Account) -> anyhow::Result<TokenPair> {
        login(&self.client, &self.base, &account.email, &self.seed.password, &account.slug).await
    }

    /// A worker; a refresh chain starts with a login of an account of its own.
    pub async fn worker(&self, index: usize) -> anyhow::Result<Worker> {
        // Distinct, non-zero xorshift seeds per worker.
        let rng = 0x9E37_79B9_7F4A_7C15_u64 ^ ((index as u64 + 1).wrapping_mul(0xD6E8_FEB8_6659_FD93));
        let mut worker = Worker { rng, account: None, refresh_token: None };
        if self.scenario == Scenario::RefreshChain {
            anyhow::ensure!(!self.accounts.is_empty(), "the refresh-chain scenario needs non-admin users in the seed");
            let spread = (index * 7919) % self.accounts.len();
            let account = self.accounts.get(spread).cloned().context("no account")?;
            worker.refresh_token = Some(self.login(&account).await?.refresh_token);
            worker.account = Some(account);
        }
        Ok(worker)
    }

    /// Sends one request of the scenario and reads the whole answer.
    pub async fn request(&self, w: &mut Worker) -> Outcome {
        let tenant_index = w.below(self.seed.tenants.len());
        let Some(tenant) = self.seed.tenants.get(tenant_index) else {
            return Outcome::Failed("setup".into(), "no tenant".into());
        };
        let user = tenant.users.get(w.below(tenant.users.len()));
        let request = match (self.scenario, user) {
            (Scenario::ReadUser, Some(user)) => self
                .client
                .get(join(&self.base, &format!("/api/v1/users/{}", user.id)))
                .bearer_auth(&tenant.admin_token),
            (Scenario::Me, _) => self.client.get(join(&self.base, "/api/v1/auth/me")).bearer_auth(&tenant.admin_token),
            (Scenario::ListUsers, _) => {
                self.client.get(join(&self.base, "/api/v1/users")).bearer_auth(&tenant.admin_token)
            }
            (Scenario::BaselineRead, Some(user)) => self
                .client
                .get(join(&self.base, &format!("/users/{}", user.id)))
                .header("x-tenant-id", tenant.id.to_string()),
            (Scenario::Login, _) => {
                let Some(account) = self.login_pool.get(w.below(self.login_pool.len())) else {
                    return Outcome::Failed("setup".into(), "empty login pool".into());
                };
                let body =
                    json!({ "email": account.email, "password": self.seed.password, "tenant_slug": account.slug });
                self.client.post(join(&self.base, "/api/v1/auth/login")).json(&body)
            }
            (Scenario::RefreshChain, _) => return self.refresh(w).await,
            (_, None) => return Outcome::Failed("setup".into(), "tenant without users".into()),
        };
        match request.send().await {
            Ok(response) if response.status().is_success() => match response.bytes().await {
                Ok(_) => Outcome::Ok,
                Err(e) => Outcome::Failed("body".into(), e.to_string()),
            },
            Ok(response) => failed_status(response).await,
            Err(e) => transport(&e),
        }
    }

    async fn refresh(&self, w: &mut Worker) -> Outcome {
        let Some(token) = w.refresh_token.take() else {
            return Outcome::Failed("setup".into(), "refresh chain without a token".into());
        };
        let request =
            self.client.post(join(&self.base, "/api/v1/auth/refresh")).json(&json!({ "refresh_token": token }));
        let outcome = match request.send().await {
            Ok(response) if response.status().is_success() => match response.json::<TokenPair>().await {
                Ok(pair) => {
                    w.refresh_token = Some(pair.refresh_token);
                    return Outcome::Ok;
                }
                Err(e) => Outcome::Failed("body".into(), e.to_string()),
            },
            Ok(response) => failed_status(response).await,
            Err(e) => transport(&e),
        };
        // The chain broke: start a new one (counted as part of the failed request).
        if let Some(account) = w.account.clone() {
            match self.login(&account).await {
                Ok(pair) => w.refresh_token = Some(pair.refresh_token),
                Err(e) => return Outcome::Failed("relogin".into(), format!("{e:#}")),
            }
        }
        outcome
    }
}

impl Worker {
    /// Uniform in `0..n` (xorshift64*; quality is irrelevant here, speed and no lock are not).
    fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            return 0;
        }
        let mut x = self.rng;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.rng = x;
        (x.wrapping_mul(0x2545_F491_4F6C_DD1D) % n as u64) as usize
    }
}

async fn failed_status(response: reqwest::Response) -> Outcome {
    let status = response.status();
    let body = response.text().await.unwrap_or_default();
    Outcome::Failed(
        format!("status_{}", status.as_u16()),
        format!("HTTP {status}: {}", body.chars().take(300).collect::<String>()),
    )
}

fn transport(e: &reqwest::Error) -> Outcome {
    let kind = if e.is_timeout() {
        "timeout"
    } else if e.is_connect() {
        "connect"
    } else {
        "transport"
    };
    Outcome::Failed(kind.into(), e.to_string())
}
