//! The composition root: configuration, storage selection, wiring of the core, the HTTP
//! server and the CLI commands. `anyhow` lives here and nowhere else.

pub mod app;
pub mod cli;
pub mod config;
pub mod database;
pub mod master_key;
pub mod redis_check;
pub mod telemetry;

pub use app::{RunningServer, spawn};
pub use config::{Config, Sources};
