//! Turning what an agent types as the hub's address into a WebSocket URL.

use huddle_protocol::WS_PATH;

/// Why a hub address cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AddressError {
    /// Nothing was typed.
    #[error("enter the hub's address, for example hub.example.com:7878")]
    Empty,
    /// The scheme is not one a hub speaks.
    #[error("the hub's address must start with ws:// or wss:// (or have no scheme), not {0}://")]
    Scheme(String),
    /// No host in the address.
    #[error("the hub's address has no host name")]
    NoHost,
}

/// Accepts `host:port`, `ws://` or `wss://host:port[/path]` (or `http://`, `https://`), and
/// returns the hub's WebSocket URL. Without a scheme the connection is plain `ws://`; without a
/// path, the protocol's endpoint path is added.
pub fn hub_ws_url(typed: &str) -> Result<String, AddressError> {
    let typed = typed.trim();
    if typed.is_empty() {
        return Err(AddressError::Empty);
    }
    let (scheme, rest) = match typed.split_once("://") {
        Some((scheme, rest)) => (scheme.to_ascii_lowercase(), rest),
        None => ("ws".to_string(), typed),
    };
    let scheme = match scheme.as_str() {
        "ws" | "http" => "ws",
        "wss" | "https" => "wss",
        _ => return Err(AddressError::Scheme(scheme)),
    };
    let (authority, path) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, ""),
    };
    if authority.is_empty() || authority.starts_with(':') {
        return Err(AddressError::NoHost);
    }
    let path = if path.is_empty() || path == "/" {
        WS_PATH
    } else {
        path
    };
    Ok(format!("{scheme}://{authority}{path}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typed_addresses_become_ws_urls() {
        assert_eq!(hub_ws_url("hub:7878").unwrap(), "ws://hub:7878/v1/ws");
        assert_eq!(
            hub_ws_url(" ws://hub:7878 ").unwrap(),
            "ws://hub:7878/v1/ws"
        );
        assert_eq!(
            hub_ws_url("http://hub:7878/").unwrap(),
            "ws://hub:7878/v1/ws"
        );
        assert_eq!(
            hub_ws_url("WS://hub/custom/ws").unwrap(),
            "ws://hub/custom/ws"
        );
        assert_eq!(hub_ws_url("127.0.0.1:1").unwrap(), "ws://127.0.0.1:1/v1/ws");
        assert_eq!(
            hub_ws_url("wss://hub.example.com").unwrap(),
            "wss://hub.example.com/v1/ws"
        );
        assert_eq!(
            hub_ws_url("https://hub:443/").unwrap(),
            "wss://hub:443/v1/ws"
        );
    }

    #[test]
    fn unusable_addresses_say_why() {
        assert_eq!(hub_ws_url("  "), Err(AddressError::Empty));
        assert_eq!(
            hub_ws_url("ftp://hub"),
            Err(AddressError::Scheme("ftp".into()))
        );
        assert_eq!(hub_ws_url("ws://:7878"), Err(AddressError::NoHost));
        assert_eq!(hub_ws_url("wss://:443"), Err(AddressError::NoHost));
    }
}
