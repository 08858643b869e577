//! The agent-side engine of Huddle, with no GUI: it connects to a hub and logs in.
//!
//! The desktop app wraps it; tests and scripted peers use it directly.

mod address;
pub mod cache;
mod connection;
mod engine;
mod keychain;
mod link;
mod session_state;

pub use address::{hub_ws_url, AddressError};
pub use connection::{ClientError, Connection};
pub use engine::{ConnectionState, Credential, Engine, EngineEvent};
pub use keychain::{Keychain, KeychainError, Secret, KEYCHAIN_SERVICE};
pub use session_state::{Action, EndCause, IllegalTransition, SessionStatus, UpdateRefused};

/// This client's name and version, as told to the hub at hello.
pub const CLIENT_VERSION: &str = concat!("huddle/", env!("CARGO_PKG_VERSION"));
