//! The platform's signing keys (a global table: no tenant, no row-level security).

use super::SeaStore;
use super::db::{all, exec};
use super::rows::{self, signing_key_columns};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use tessera_domain::RepoError;
use tessera_domain::ports::SigningKeyRepository;
use tessera_domain::signing::StoredSigningKey;

#[derive(Debug, Clone)]
pub struct SeaSigningKeyRepository {
    store: SeaStore,
}

impl SeaSigningKeyRepository {
    pub fn new(store: &SeaStore) -> Self {
        Self { store: store.clone() }
    }
}

#[async_trait]
impl SigningKeyRepository for SeaSigningKeyRepository {
    #[tracing::instrument(skip_all, fields(kid = %key.kid))]
    async fn insert(&self, key: &StoredSigningKey) -> Result<(), RepoError> {
        exec(
            self.store.connection(),
            concat!("INSERT INTO signing_keys (", signing_key_columns!(), ") VALUES ($1, $2, $3, $4, $5, $6)"),
            [
                key.kid.as_str().into(),
                key.algorithm.as_str().into(),
                key.public_key.clone().into(),
                key.private_key_sealed.clone().into(),
                key.created_at.into(),
                key.retired_at.into(),
            ],
        )
        .await
        .map(drop)
    }

    async fn list(&self) -> Result<Vec<StoredSigningKey>, RepoError> {
        let sql = concat!("SELECT ", signing_key_columns!(), " FROM signing_keys ORDER BY created_at DESC, kid DESC");
        rows::each(&all(self.store.connection(), sql, []).await?, rows::signing_key)
    }

    /// One statement, so atomic on its own.
    #[tracing::instrument(skip_all, fields(keep = %keep))]
    async fn retire_all_except(&self, keep: &str, at: DateTime<Utc>) -> Result<u64, RepoError> {
        exec(
            self.store.connection(),
            "UPDATE signing_keys SET retired_at = $2 WHERE retired_at IS NULL AND kid <> $1",
            [keep.into(), at.into()],
        )
        .await
    }
}
