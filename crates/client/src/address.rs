//! Turning what an agent types as the hub's address into WebSocket URLs: one, or several
//! separated by commas (the nodes of one hub, tried in turn).

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

/// The WebSocket URLs of a hub typed as one address or several separated by commas (the
/// nodes of a hub that runs on several machines), in the order typed.
pub fn hub_ws_urls(typed: &str) -> Result<Vec<String>, AddressError> {
    let urls = typed
        .split(',')
        .map(str::trim)
        .filter(|one| !one.is_empty())
        .map(hub_ws_url)
        .collect::<Result<Vec<_>, _>>()?;
    if urls.is_empty() {
        return Err(AddressError::Empty);
    }
    Ok(urls)
}

/// Whether signing in at any of a hub's typed addresses would send the password unencrypted
/// to another machine.
pub fn unencrypted_to_another_machine_at(typed: &str) -> bool {
    hub_ws_urls(typed).is_ok_and(|urls| urls.iter().any(|url| unencrypted_to_another_machine(url)))
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
    fn several_addresses_are_the_nodes_of_one_hub() {
        assert_eq!(
            hub_ws_urls("hub-a:7878, wss://hub-b ,").unwrap(),
            ["ws://hub-a:7878/v1/ws", "wss://hub-b/v1/ws"]
        );
        assert_eq!(hub_ws_urls("hub:7878").unwrap(), ["ws://hub:7878/v1/ws"]);
        assert_eq!(hub_ws_urls(" , "), Err(AddressError::Empty));
        assert_eq!(
            hub_ws_urls("hub-a, ftp://hub-b"),
            Err(AddressError::Scheme("ftp".into()))
        );
        assert!(unencrypted_to_another_machine_at(
            "wss://hub-a, ws://hub-b:7878"
        ));
        assert!(!unencrypted_to_another_machine_at(
            "wss://hub-a, ws://127.0.0.1:7878"
        ));
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
