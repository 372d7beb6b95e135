//! Memory invitations (SPEC §5). Token hashes are unique across tenants and ids are primary
//! keys, as in SQL; every look-up is filtered by the scope tenant. Acceptance checks the
//! invitation and the new user under one write lock, then writes both.

use super::{MemoryStore, State};
use crate::rules::{check_new_invitation, check_revocable, conflict, cursor, ensure_in_scope, overfetch};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use std::ops::Bound;
use tessera_domain::credentials::{Invitation, InvitationRepository, InvitationStatus};
use tessera_domain::{Email, Page, PageRequest, RepoError, RoleName, TenantId, User};
use uuid::Uuid;

#[derive(Debug, Clone)]
pub struct MemoryInvitationRepository {
    store: MemoryStore,
}

impl MemoryInvitationRepository {
    pub fn new(store: &MemoryStore) -> Self {
        Self { store: store.clone() }
    }
}

impl State {
    fn tenant_invitations(&self, tenant: TenantId) -> impl Iterator<Item = &Invitation> {
        self.invitations.values().filter(move |i| i.tenant_id == tenant)
    }

    fn pending_invitation(&self, tenant: TenantId, email: &Email, at: DateTime<Utc>) -> bool {
        self.tenant_invitations(tenant).any(|i| &i.email == email && i.status(at) == InvitationStatus::Pending)
    }
}

#[async_trait]
impl InvitationRepository for MemoryInvitationRepository {
    #[tracing::instrument(skip_all, fields(tenant_id = %tenant))]
    async fn insert(&self, tenant: TenantId, invitation: &Invitation) -> Result<(), RepoError> {
        ensure_in_scope(tenant, invitation.tenant_id)?;
        let mut state = self.store.write();
        // The order SQL reports them in: the tenant (its row is locked first), the rules,
        // then the unique keys of the insert.
        if !state.tenants.contains_key(&tenant) {
            return Err(RepoError::NotFound);
        }
        check_new_invitation(
            state.email_taken(tenant, &invitation.email, None),
            state.pending_invitation(tenant, &invitation.email, invitation.created_at),
        )?;
        if state.invitations.contains_key(&invitation.id) {
            return Err(conflict(conflict::ID));
        }
        if state.invitations.values().any(|i| i.token_hash == invitation.token_hash) {
            return Err(conflict(conflict::TOKEN_HASH));
        }
        state.invitations.insert(invitation.id, invitation.clone());
        Ok(())
    }

    #[tracing::instrument(skip_all, fields(tenant_id = %tenant))]
    async fn get(&self, tenant: TenantId, id: Uuid) -> Result<Invitation, RepoError> {
        let state = self.store.read();
        state.invitations.get(&id).filter(|i| i.tenant_id == tenant).cloned().ok_or(RepoError::NotFound)
    }

    #[tracing::instrument(skip_all, fields(tenant_id = %tenant))]
    async fn list(&self, tenant: TenantId, page: PageRequest) -> Result<Page<Invitation>, RepoError> {
        let rows = self
            .store
            .read()
            .invitations
            .range((Bound::Excluded(cursor(page.after)), Bound::Unbounded))
            .map(|(_, i)| i)
            .filter(|i| i.tenant_id == tenant)
            .take(overfetch(page.limit))
            .cloned()
            .collect();
        Ok(Page::from_overfetch(rows, page.limit, |i: &Invitation| i.id))
    }

    #[tracing::instrument(skip_all, fields(tenant_id = %tenant))]
    async fn revoke(&self, tenant: TenantId, id: Uuid, at: DateTime<Utc>) -> Result<(), RepoError> {
        let mut state = self.store.write();
        let invitation = state.invitations.get_mut(&id).filter(|i| i.tenant_id == tenant).ok_or(RepoError::NotFound)?;
        if check_revocable(invitation.accepted_at, invitation.revoked_at)? {
            invitation.revoked_at = Some(at);
        }
        Ok(())
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
        let mut state = self.store.write();
        let (id, role) = state
            .tenant_invitations(tenant)
            .find(|i| i.token_hash == token_hash && i.email == user.email && i.status(now) == InvitationStatus::Pending)
            .map(|i| (i.id, i.role.clone()))
            .ok_or(RepoError::NotFound)?;
        let stored = User { role, ..user.clone() };
        state.check_new_user(&stored)?;
        state.users.insert(stored.id, stored.clone());
        if let Some(invitation) = state.invitations.get_mut(&id) {
            invitation.accepted_at = Some(now);
        }
        Ok(stored)
    }

    #[tracing::instrument(skip_all, fields(tenant_id = %tenant))]
    async fn pending_with_role(
        &self,
        tenant: TenantId,
        role: &RoleName,
        now: DateTime<Utc>,
    ) -> Result<bool, RepoError> {
        let state = self.store.read();
        Ok(state.tenant_invitations(tenant).any(|i| &i.role == role && i.status(now) == InvitationStatus::Pending))
    }
}
