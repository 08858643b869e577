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

/// Whether signing in at this hub URL would send the password unencrypted (`ws://`) to
/// another machine: only this machine's own addresses (loopback, `localhost`) are spared.
pub fn unencrypted_to_another_machine(ws_url: &str) -> bool {
    let Some(rest) = ws_url.strip_prefix("ws://") else {
        return false;
    };
    let authority = rest.split('/').next().unwrap_or_default();
    // The host without the port: `[::1]:7878`, `host:7878`, `host`.
    let host = match authority.strip_prefix('[') {
        Some(bracketed) => bracketed.split(']').next().unwrap_or_default(),
        None => authority
            .rsplit_once(':')
            .map_or(authority, |(host, _)| host),
    };
    let host = host.to_ascii_lowercase();
    let local = host == "localhost"
        || host.ends_with(".localhost")
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback());
    !local
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_plain_connections_to_other_machines_expose_the_password() {
        for url in [
            "ws://hub.example.com:7878/v1/ws",
            "ws://10.0.0.5:7878/v1/ws",
            "ws://[2001:db8::1]:7878/v1/ws",
            "ws://127.0.0.1.evil.example/v1/ws",
        ] {
            assert!(unencrypted_to_another_machine(url), "{url}");
        }
        for url in [
            "wss://hub.example.com:7878/v1/ws",
            "ws://127.0.0.1:7878/v1/ws",
            "ws://127.8.9.10:7878/v1/ws",
            "ws://localhost:7878/v1/ws",
            "ws://LOCALHOST/v1/ws",
            "ws://[::1]:7878/v1/ws",
        ] {
            assert!(!unencrypted_to_another_machine(url), "{url}");
        }
    }

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
