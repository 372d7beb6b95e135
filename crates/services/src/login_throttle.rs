//! Login throttles besides the per-account lockout (SPEC §6.5, §7): per IP, per (IP,
//! email), per tenant, and a credential-stuffing signal (many distinct accounts from one IP).
//! Every key is independent of whether the account exists, so the 429 tells nothing.

use crate::{Core, ServiceError, ServiceResult};
use std::time::Duration;
use tessera_auth::opaque::hash_token;
use tessera_domain::TenantId;

const MINUTE: Duration = Duration::from_secs(60);
const STUFFING_WINDOW: Duration = Duration::from_secs(600);

/// 429 with the longest wait among the throttles this attempt exceeds.
pub(crate) async fn check(core: &Core, ip: Option<&str>, email: &str, tenant: Option<TenantId>) -> ServiceResult<()> {
    let limits = core.config.login_limits;
    if !limits.enabled {
        return Ok(());
    }
    let now = core.clock.now();
    let email = hash_token(&email.trim().to_lowercase());
    let mut wait: Option<Duration> = None;
    let mut note = |w: Option<Duration>| {
        if let Some(w) = w {
            wait = Some(wait.map_or(w, |cur| cur.max(w)));
        }
    };
    if let Some(ip) = ip {
        note(core.attempts.hit(&format!("ip:{ip}"), limits.per_ip_per_minute, MINUTE, now).await?);
        let key = format!("ip-email:{ip}:{email}");
        note(core.attempts.hit(&key, limits.per_ip_email_per_minute, MINUTE, now).await?);
        let accounts = core.attempts.distinct(&format!("ip-accounts:{ip}"), &email, STUFFING_WINDOW, now).await?;
        if accounts > u64::from(limits.stuffing_accounts) {
            if accounts == u64::from(limits.stuffing_accounts) + 1 {
                tracing::warn!(ip, accounts, "credential stuffing suspected");
                if let Some(t) = tenant {
                    let data = serde_json::json!({ "ip": ip, "accounts": accounts });
                    core.record("auth.credential_stuffing_suspected", t, None, data).await;
                }
            }
            note(Some(STUFFING_WINDOW));
        }
    }
    if let Some(t) = tenant {
        note(core.attempts.hit(&format!("{t}:logins"), limits.per_tenant_per_minute, MINUTE, now).await?);
    }
    match wait {
        Some(retry_after) => Err(ServiceError::RateLimited { retry_after }),
        None => Ok(()),
    }
}
