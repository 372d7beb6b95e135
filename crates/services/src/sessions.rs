//! Login sessions (SPEC §6.3): the caller's own (list, revoke one, revoke all but the
//! current) and, for admins, any user's of their tenant.

use crate::rules::require;
use crate::{Core, ServiceError, ServiceResult};
use tessera_domain::session::Session;
use tessera_domain::{Permission, Principal, SessionId, UserId};

pub struct SessionService {
    core: Core,
}

impl SessionService {
    pub(crate) fn new(core: Core) -> Self {
        Self { core }
    }

    /// The caller's live sessions, newest first.
    pub async fn list_mine(&self, principal: &Principal) -> ServiceResult<Vec<Session>> {
        let now = self.core.clock.now();
        Ok(self.core.repos.sessions.list_live(principal.home_tenant_id, principal.user_id, now).await?)
    }

    /// Revokes one of the caller's sessions; anyone else's id is 404.
    pub async fn revoke_mine(&self, principal: &Principal, id: SessionId) -> ServiceResult<()> {
        let session = self.core.repos.sessions.get(principal.home_tenant_id, id).await?;
        if session.user_id != principal.user_id {
            return Err(ServiceError::NotFound);
        }
        self.core.revoke_session(principal.home_tenant_id, id).await
    }

    /// Revokes every session of the caller but the current one.
    pub async fn revoke_others(&self, principal: &Principal) -> ServiceResult<usize> {
        self.core.revoke_user_sessions(principal.home_tenant_id, principal.user_id, principal.session_id).await
    }

    /// An admin's view of a user's live sessions (`users:read`).
    pub async fn list_for_user(&self, principal: &Principal, user: UserId) -> ServiceResult<Vec<Session>> {
        require(principal, Permission::UsersRead)?;
        self.core.repos.users.get(principal.tenant_id, user).await?;
        let now = self.core.clock.now();
        Ok(self.core.repos.sessions.list_live(principal.tenant_id, user, now).await?)
    }

    /// Revokes every session of a user (`users:write`).
    pub async fn revoke_for_user(&self, principal: &Principal, user: UserId) -> ServiceResult<usize> {
        require(principal, Permission::UsersWrite)?;
        self.core.repos.users.get(principal.tenant_id, user).await?;
        let n = self.core.revoke_user_sessions(principal.tenant_id, user, None).await?;
        let data = serde_json::json!({ "user_id": user, "sessions": n });
        self.core.record("user.sessions_revoked", principal.tenant_id, Some(principal.user_id), data).await;
        Ok(n)
    }
}
