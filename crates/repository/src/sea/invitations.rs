//! Invitations on SQL (SPEC §5), tenant-owned and under row-level security on PostgreSQL.
//!
//! One pending invitation per (tenant, email): "pending" depends on the clock (`expires_at`),
//! so no unique index can say it. Inserts are serialised per tenant instead: the insert's
//! transaction locks the tenant's row (`FOR NO KEY UPDATE`, which the foreign-key checks of
//! concurrent user and invitation inserts — `FOR KEY SHARE` — do not wait for), then checks
//! the registered users and the pending invitations in *one* statement, so it sees either
//! both or neither of an acceptance committing meanwhile, then inserts. A second insert
//! for the tenant waits for the lock and its check, a new statement, sees the first one's
//! row (READ COMMITTED). SQLite's `BEGIN IMMEDIATE` serialises every writer anyway.
//!
//! Not serialised: a plain user insert (`UserRepository::insert`) racing an invitation for
//! the same email. The invitation then cannot be accepted (`Conflict("email")`), which is
//! the outcome the check would have given, one step later.
//!
//! Acceptance locks the invitation row, selected with every condition of "pending for this
//! email" in the statement itself: a concurrent acceptance that waited for the lock has the
//! condition re-checked on the winner's committed row and finds nothing (`NotFound`). Lock
//! order: an insert takes the tenant row and no invitation row; acceptance and revocation
//! take one invitation row (then acceptance inserts a user, which only takes `FOR KEY
//! SHARE` on the tenant) — no cycle.

use super::SeaStore;
use super::db::{Access, all, commit, exec, get, locking, one};
use super::rows::{self, invitation_columns};
use super::users::insert_user;
use crate::rules::{check_new_invitation, check_revocable, cursor, ensure_in_scope, overfetch};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use tessera_domain::credentials::{Invitation, InvitationRepository};
use tessera_domain::{Page, PageRequest, RepoError, RoleName, TenantId, User};
use uuid::Uuid;

/// "Pending at `$3`" for the invitations of tenant `$1`.
macro_rules! pending {
    () => {
        "tenant_id = $1 AND accepted_at IS NULL AND revoked_at IS NULL AND expires_at > $3"
    };
}

const LOCK_TENANT: &str = "SELECT id FROM tenants WHERE id = $1 FOR NO KEY UPDATE";

const CHECK_NEW: &str = concat!(
    "SELECT EXISTS (SELECT 1 FROM users WHERE tenant_id = $1 AND email = $2) AS registered, \
     EXISTS (SELECT 1 FROM invitations WHERE email = $2 AND ",
    pending!(),
    ") AS invited"
);

const LOCK_PENDING_FOR_EMAIL: &str =
    concat!("SELECT id, role FROM invitations WHERE token_hash = $2 AND ", pending!(), " AND email = $4 FOR UPDATE");

const PENDING_WITH_ROLE: &str =
    concat!("SELECT EXISTS (SELECT 1 FROM invitations WHERE role = $2 AND ", pending!(), ") AS pending");

#[derive(Debug, Clone)]
pub struct SeaInvitationRepository {
    store: SeaStore,
}

impl SeaInvitationRepository {
    pub fn new(store: &SeaStore) -> Self {
        Self { store: store.clone() }
    }
}

#[async_trait]
impl InvitationRepository for SeaInvitationRepository {
    #[tracing::instrument(skip_all, fields(tenant_id = %tenant))]
    async fn insert(&self, tenant: TenantId, invitation: &Invitation) -> Result<(), RepoError> {
        ensure_in_scope(tenant, invitation.tenant_id)?;
        let tx = self.store.begin_tenant(tenant, Access::Write).await?;
        one(&tx, locking(&tx, LOCK_TENANT), [tenant.as_uuid().into()]).await?.ok_or(RepoError::NotFound)?;
        let values = [tenant.as_uuid().into(), invitation.email.as_str().into(), invitation.created_at.into()];
        let row = one(&tx, CHECK_NEW, values).await?.ok_or(RepoError::NotFound)?;
        check_new_invitation(get(&row, "registered")?, get(&row, "invited")?)?;
        exec(
            &tx,
            concat!(
                "INSERT INTO invitations (",
                invitation_columns!(),
                ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)"
            ),
            [
                invitation.id.into(),
                tenant.as_uuid().into(),
                invitation.email.as_str().into(),
                invitation.role.as_str().into(),
                invitation.token_hash.as_str().into(),
                invitation.created_by.as_uuid().into(),
                invitation.created_at.into(),
                invitation.expires_at.into(),
                invitation.accepted_at.into(),
                invitation.revoked_at.into(),
            ],
        )
        .await?;
        commit(tx).await
    }

    #[tracing::instrument(skip_all, fields(tenant_id = %tenant))]
    async fn get(&self, tenant: TenantId, id: Uuid) -> Result<Invitation, RepoError> {
        let sql = concat!("SELECT ", invitation_columns!(), " FROM invitations WHERE tenant_id = $1 AND id = $2");
        let tx = self.store.begin_tenant(tenant, Access::Read).await?;
        let row = one(&tx, sql, [tenant.as_uuid().into(), id.into()]).await?;
        commit(tx).await?;
        row.as_ref().map(rows::invitation).ok_or(RepoError::NotFound)?
    }

    #[tracing::instrument(skip_all, fields(tenant_id = %tenant))]
    async fn list(&self, tenant: TenantId, page: PageRequest) -> Result<Page<Invitation>, RepoError> {
        let sql = concat!(
            "SELECT ",
            invitation_columns!(),
            " FROM invitations WHERE tenant_id = $1 AND id > $2 ORDER BY id LIMIT $3"
        );
        let limit = overfetch(page.limit) as i64;
        let tx = self.store.begin_tenant(tenant, Access::Read).await?;
        let found = all(&tx, sql, [tenant.as_uuid().into(), cursor(page.after).into(), limit.into()]).await?;
        commit(tx).await?;
        Ok(Page::from_overfetch(rows::each(&found, rows::invitation)?, page.limit, |i| i.id))
    }

    #[tracing::instrument(skip_all, fields(tenant_id = %tenant))]
    async fn revoke(&self, tenant: TenantId, id: Uuid, at: DateTime<Utc>) -> Result<(), RepoError> {
        let key = || [tenant.as_uuid().into(), id.into()];
        let tx = self.store.begin_tenant(tenant, Access::Write).await?;
        let sql =
            locking(&tx, "SELECT accepted_at, revoked_at FROM invitations WHERE tenant_id = $1 AND id = $2 FOR UPDATE");
        let row = one(&tx, sql, key()).await?.ok_or(RepoError::NotFound)?;
        if check_revocable(get(&row, "accepted_at")?, get(&row, "revoked_at")?)? {
            let sql = "UPDATE invitations SET revoked_at = $3 WHERE tenant_id = $1 AND id = $2";
            exec(&tx, sql, key().into_iter().chain([at.into()])).await?;
        }
        commit(tx).await
    }

    #[tracing::instrument(skip_all, fields(tenant_id = %tenant))]
    async fn accept(
        &self,
        tenant: TenantId,
        token_hash: &str,
        user: &User,
        now: DateTime<Utc>,
    ) -> Result<User, RepoError> {
        ensure_in_scope(tenant, user.tenant_id)?;
        let tx = self.store.begin_tenant(tenant, Access::Write).await?;
        let values = [tenant.as_uuid().into(), token_hash.into(), now.into(), user.email.as_str().into()];
        let row = one(&tx, locking(&tx, LOCK_PENDING_FOR_EMAIL), values).await?.ok_or(RepoError::NotFound)?;
        let id: Uuid = get(&row, "id")?;
        let stored = User { role: RoleName::new(get::<String>(&row, "role")?), ..user.clone() };
        insert_user(&tx, &stored).await?;
        exec(
            &tx,
            "UPDATE invitations SET accepted_at = $3 WHERE tenant_id = $1 AND id = $2",
            [tenant.as_uuid().into(), id.into(), now.into()],
        )
        .await?;
        // Any error above dropped `tx` uncommitted: no user, the invitation still pending.
        commit(tx).await?;
        Ok(stored)
    }

    #[tracing::instrument(skip_all, fields(tenant_id = %tenant))]
    async fn pending_with_role(
        &self,
        tenant: TenantId,
        role: &RoleName,
        now: DateTime<Utc>,
    ) -> Result<bool, RepoError> {
        let tx = self.store.begin_tenant(tenant, Access::Read).await?;
        let row = one(&tx, PENDING_WITH_ROLE, [tenant.as_uuid().into(), role.as_str().into(), now.into()]).await?;
        commit(tx).await?;
        row.as_ref().map_or(Ok(false), |row| get(row, "pending"))
    }
}
