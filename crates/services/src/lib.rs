//! Tessera's use cases. All authorization and tenant checks happen here; the world is
//! reached only through the ports of `tessera-domain`.

pub mod auth;
pub mod config;
pub mod error;
pub mod keys;
pub mod password;
mod rules;
pub mod tenants;
pub mod users;

use std::sync::Arc;
use tessera_domain::ports::{Clock, IdGenerator, Repositories};

pub use auth::AuthService;
pub use config::CoreConfig;
pub use error::{ServiceError, ServiceResult};
pub use keys::SigningKeys;
pub use password::PasswordWorker;
pub use tenants::TenantService;
pub use users::UserService;

/// The ports and shared parts every service is built from.
#[derive(Clone)]
pub struct Core {
    pub repos: Repositories,
    pub clock: Arc<dyn Clock>,
    pub ids: Arc<dyn IdGenerator>,
    pub passwords: PasswordWorker,
    pub config: Arc<CoreConfig>,
}

/// Every service of the core, built once by the composition root.
pub struct Services {
    pub tenants: TenantService,
    pub users: UserService,
    pub auth: AuthService,
}

impl Services {
    pub fn new(core: Core, keys: SigningKeys) -> Self {
        Self {
            tenants: TenantService::new(core.clone()),
            users: UserService::new(core.clone()),
            auth: AuthService::new(core, keys),
        }
    }
}
