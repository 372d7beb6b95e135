//! Tessera's domain: entities, validated value objects, roles and permissions, and the
//! outbound port traits every adapter implements. No runtime, web or storage types here.

pub mod credentials;
pub mod error;
pub mod ids;
pub mod page;
pub mod ports;
pub mod principal;
pub mod role;
pub mod session;
pub mod settings;
pub mod signing;
pub mod tenant;
pub mod user;
pub mod values;

pub use error::{FieldError, RepoError};
pub use ids::{SessionId, TenantId, UserId};
pub use page::{Page, PageRequest};
pub use principal::Principal;
pub use role::{Permission, RoleName};
pub use tenant::{Plan, Tenant, TenantStatus};
pub use user::{User, UserStatus};
pub use values::{Email, Slug};
