//! The Huddle hub: the server that the desktop apps of one contact center connect to.
//!
//! It keeps the agents' accounts in SQLite and speaks the protocol of [`huddle_protocol`]
//! over WebSocket; the contact center's systems deliver interactions and contacts through
//! its integration API over HTTP. [`start`] runs a hub inside the current process (as the
//! tests and the `serve` command do).

pub mod accounts;
pub mod config;
mod connection;
mod consultations;
mod contacts;
mod directory;
mod fold;
mod hashing;
pub mod http_client;
mod integration;
mod interactions;
mod listener;
mod metrics;
pub mod password;
mod registry;
mod send_path;
mod server;
mod sessions;
pub mod simulate;
pub mod store;
mod store_health;
pub mod telephony;
mod throttle;
pub mod tls;
pub mod tokens;
mod writer;

pub use config::Config;
pub use server::{start, start_with_switch, RunningHub, Stopper, READ_BUFFER_BYTES};

/// The hub software's name and version, as reported to clients.
pub const HUB_VERSION: &str = concat!("huddle-hub/", env!("CARGO_PKG_VERSION"));
