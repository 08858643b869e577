//! The Huddle hub: the server that the desktop apps of one contact center connect to.
//!
//! It keeps the agents' accounts in SQLite and speaks the protocol of [`huddle_protocol`]
//! over WebSocket; the contact center's systems deliver interactions and contacts through
//! its integration API over HTTP. [`start`] runs a hub inside the current process (as the
//! tests and the `serve` command do).
//!
//! Three layers, each using only the ones below it: `transport` (the WebSocket connections,
//! the integration API, /healthz and /metrics) on `services` (accounts, presence, the
//! directory, sessions and messages, interactions, consultations, telephony) on `store`
//! (the database). `tools` are the command line's helpers beside the hub.

pub mod config;
mod services;
pub mod store;
mod tools;
mod transport;

pub use config::Config;
pub use services::{accounts, password, telephony, tokens};
pub use tools::{http_client, simulate};
pub use transport::server::{start, start_with_switch, RunningHub, Stopper, READ_BUFFER_BYTES};
pub use transport::tls;

/// The hub software's name and version, as reported to clients.
pub const HUB_VERSION: &str = concat!("huddle-hub/", env!("CARGO_PKG_VERSION"));
