//! Outbound non-storage adapters (ARCHITECTURE.md): for now the mail port
//! ([`tessera_domain::ports::Mailer`]) over SMTP or into `.eml` files.

pub mod mail;

pub use mail::{DEFAULT_FROM, FileMailer, SmtpMailer, SmtpSettings, SmtpTls, mailer_from};
