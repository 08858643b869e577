//! The agent-side engine of Huddle, with no GUI: the link to the hub, the local cache, the
//! keychain, and the state of each IM session.
//!
//! The desktop app wraps it; tests and scripted peers use it directly.

mod address;
pub mod cache;
mod connect;
mod engine;
mod error;
mod following;
mod keychain;
mod link;
pub mod private_files;
pub mod proxy;
mod session_state;
mod tls;

pub use address::{
    hub_ws_url, hub_ws_urls, unencrypted_to_another_machine, unencrypted_to_another_machine_at,
    AddressError,
};
pub use engine::{
    ConnectionState, Credential, Engine, EngineEvent, Hub, SavedSignInError, SessionUpdate,
};
pub use error::ClientError;
pub use keychain::{Keychain, KeychainError, Secret, KEYCHAIN_SERVICE};
pub use session_state::{Action, EndCause, IllegalTransition, SessionStatus, UpdateRefused};
pub use tls::TlsError;

/// This client's name and version, as told to the hub at hello.
pub const CLIENT_VERSION: &str = concat!("huddle/", env!("CARGO_PKG_VERSION"));
