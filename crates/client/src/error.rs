//! Why talking to the hub failed.

use huddle_protocol::ErrorFrame;

use crate::address::AddressError;
use crate::cache::CacheError;
use crate::proxy::ProxyError;
use crate::session_state::IllegalTransition;
use crate::tls::TlsError;

/// Why talking to the hub failed.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// The typed hub address cannot be used.
    #[error(transparent)]
    Address(#[from] AddressError),
    /// The hub could not be reached.
    #[error("cannot reach the hub at {url}: {reason}")]
    Unreachable {
        /// The URL tried.
        url: String,
        /// What the network said.
        reason: String,
    },
    /// The proxy on the way to the hub did not carry the connection.
    #[error("the proxy {proxy} {error}")]
    Proxy {
        /// The proxy, without its password.
        proxy: String,
        /// Why.
        error: ProxyError,
    },
    /// The hub refused the request.
    #[error("the hub refused: {0}")]
    Refused(ErrorFrame),
    /// The hub answered something this client does not expect.
    #[error("the hub answered unexpectedly: {0}")]
    Protocol(String),
    /// The connection ended before the answer came.
    #[error("the connection to the hub was lost: {0}")]
    Lost(String),
    /// No answer came in time.
    #[error("the hub did not answer in time")]
    Timeout,
    /// The TLS settings for a `wss://` hub could not be made.
    #[error(transparent)]
    Tls(#[from] TlsError),
    /// The local cache failed.
    #[error(transparent)]
    Cache(#[from] CacheError),
    /// The session's status does not allow the action; nothing was sent.
    #[error(transparent)]
    Illegal(#[from] IllegalTransition),
    /// No session with this id is known here.
    #[error("Huddle knows no session {0}")]
    UnknownSession(String),
    /// A message with nothing but blanks; nothing was sent.
    #[error("the message is empty")]
    EmptyMessage,
    /// A message over the hub's limit; nothing was sent.
    #[error("the message has {length} characters; the hub takes at most {limit}")]
    MessageTooLong {
        /// Its length, in characters.
        length: usize,
        /// The hub's limit.
        limit: u32,
    },
}
