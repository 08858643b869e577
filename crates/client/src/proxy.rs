//! Reaching the hub through a proxy. By default the system's proxy settings apply: the
//! `https_proxy`, `http_proxy`, `all_proxy` and `no_proxy` variables, or what the desktop app
//! reads of the system's own settings ([`SystemProxySource`]). An agent can also name a
//! proxy, `http://` (a CONNECT tunnel) or `socks5://`, with a user name and password when it
//! asks for them, or go direct. A proxy that refuses says why in words an agent can act on.

use std::fmt;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use base64::Engine as _;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Which way the hub is reached, as the agent chose.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum ProxySetting {
    /// The system's proxy settings.
    #[default]
    System,
    /// No proxy, whatever the system says.
    Direct,
    /// This proxy.
    Manual(ProxyUrl),
}

impl FromStr for ProxySetting {
    type Err = ProxyUrlError;

    /// `system`, `none`, or a proxy's URL.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim() {
            "" | "system" => Ok(Self::System),
            "none" | "direct" => Ok(Self::Direct),
            url => url.parse().map(Self::Manual),
        }
    }
}

impl fmt::Display for ProxySetting {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::System => f.write_str("system"),
            Self::Direct => f.write_str("none"),
            Self::Manual(url) => url.fmt(f),
        }
    }
}

/// How a proxy is spoken to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProxyKind {
    /// An HTTP proxy, asked for a tunnel with `CONNECT`.
    Http,
    /// A SOCKS5 proxy, which resolves the hub's name itself.
    Socks5,
}

/// A proxy, named by URL: `http://[user[:password]@]host[:port]` or `socks5://…`.
#[derive(Clone, PartialEq, Eq)]
pub struct ProxyUrl {
    /// How it is spoken to.
    pub kind: ProxyKind,
    /// Its host name or address.
    pub host: String,
    /// Its port.
    pub port: u16,
    /// The user name it asks for, if any.
    pub user: Option<String>,
    /// The password that goes with the user name.
    pub password: Option<String>,
}

/// Why a proxy's URL cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProxyUrlError {
    /// A scheme Huddle does not speak.
    #[error("a proxy's address starts with http:// or socks5://, not {0}")]
    Scheme(String),
    /// No host.
    #[error("the proxy's address has no host name")]
    NoHost,
    /// A port that is not a number from 1 to 65535.
    #[error("the proxy's port {0:?} is not a number from 1 to 65535")]
    Port(String),
}

impl FromStr for ProxyUrl {
    type Err = ProxyUrlError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.trim();
        let (scheme, rest) = s.split_once("://").unwrap_or(("http", s));
        let (kind, default_port) = match scheme.to_ascii_lowercase().as_str() {
            "http" => (ProxyKind::Http, 8080),
            "socks5" | "socks5h" | "socks" => (ProxyKind::Socks5, 1080),
            other => return Err(ProxyUrlError::Scheme(format!("{other}://"))),
        };
        let rest = rest.trim_end_matches('/');
        let (userinfo, hostport) = match rest.rsplit_once('@') {
            Some((userinfo, hostport)) => (Some(userinfo), hostport),
            None => (None, rest),
        };
        let (user, password) = match userinfo {
            Some(info) => match info.split_once(':') {
                Some((u, p)) => (Some(percent_decoded(u)), Some(percent_decoded(p))),
                None => (Some(percent_decoded(info)), None),
            },
            None => (None, None),
        };
        let (host, port) = split_host_port(hostport);
        if host.is_empty() {
            return Err(ProxyUrlError::NoHost);
        }
        let port = match port {
            None => default_port,
            Some(p) => match p.parse::<u16>() {
                Ok(n) if n > 0 => n,
                _ => return Err(ProxyUrlError::Port(p.to_string())),
            },
        };
        Ok(Self {
            kind,
            host: host.to_string(),
            port,
            user: user.filter(|u| !u.is_empty()),
            password,
        })
    }
}

/// Shown without its password.
impl fmt::Display for ProxyUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let scheme = match self.kind {
            ProxyKind::Http => "http",
            ProxyKind::Socks5 => "socks5",
        };
        let user = self
            .user
            .as_deref()
            .map(|u| format!("{u}@"))
            .unwrap_or_default();
        let host = if self.host.contains(':') {
            format!("[{}]", self.host)
        } else {
            self.host.clone()
        };
        write!(f, "{scheme}://{user}{host}:{}", self.port)
    }
}

impl fmt::Debug for ProxyUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

/// `host:port`, `[v6]:port`, or a host alone.
fn split_host_port(s: &str) -> (&str, Option<&str>) {
    if let Some(rest) = s.strip_prefix('[') {
        return match rest.split_once(']') {
            Some((host, tail)) => (host, tail.strip_prefix(':')),
            None => (rest, None),
        };
    }
    match s.rsplit_once(':') {
        Some((host, port)) if !host.contains(':') => (host, Some(port)),
        _ => (s, None),
    }
}

fn percent_decoded(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        match (bytes[i], bytes.get(i + 1), bytes.get(i + 2)) {
            (b'%', Some(&h), Some(&l)) if hex(h).is_some() && hex(l).is_some() => {
                out.push((hex(h).unwrap_or(0) * 16 + hex(l).unwrap_or(0)) as u8);
                i += 3;
            }
            (b, _, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The system's proxy settings, as read from the OS.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SystemProxy {
    /// For `wss://` hubs.
    pub https: Option<ProxyUrl>,
    /// For `ws://` hubs.
    pub http: Option<ProxyUrl>,
    /// For either, when the other two do not say.
    pub all: Option<ProxyUrl>,
    /// Hosts reached directly: names, `.domain` or `*.domain` suffixes, or `*` for all.
    pub bypass: Vec<String>,
}

impl SystemProxy {
    /// The `https_proxy`, `http_proxy`, `all_proxy` and `no_proxy` variables (lower or upper
    /// case). One that cannot be read is left out, and logged.
    pub fn from_env() -> Self {
        let var = |name: &str| {
            std::env::var(name)
                .or_else(|_| std::env::var(name.to_ascii_uppercase()))
                .ok()
                .filter(|v| !v.trim().is_empty())
        };
        let proxy = |name: &str| {
            let value = var(name)?;
            value
                .parse::<ProxyUrl>()
                .inspect_err(
                    |e| tracing::warn!(variable = name, error = %e, "ignoring a proxy variable"),
                )
                .ok()
        };
        Self {
            https: proxy("https_proxy"),
            http: proxy("http_proxy"),
            all: proxy("all_proxy"),
            bypass: var("no_proxy")
                .map(|v| {
                    v.split([',', ';', ' '])
                        .filter(|s| !s.is_empty())
                        .map(str::to_string)
                        .collect()
                })
                .unwrap_or_default(),
        }
    }

    /// Whether it names any proxy.
    pub fn is_set(&self) -> bool {
        self.https.is_some() || self.http.is_some() || self.all.is_some()
    }

    /// The proxy for a hub at `host`, over TLS or not; `None` to go direct. The computer
    /// itself (loopback) is always reached directly, as browsers do.
    pub fn for_hub(&self, host: &str, secure: bool) -> Option<&ProxyUrl> {
        if is_loopback(host) || self.bypasses(host) {
            return None;
        }
        if secure {
            self.https.as_ref().or(self.all.as_ref())
        } else {
            self.http.as_ref().or(self.all.as_ref())
        }
    }

    fn bypasses(&self, host: &str) -> bool {
        let host = host.trim_matches(['[', ']']).to_ascii_lowercase();
        self.bypass.iter().any(|entry| {
            let entry = entry.trim().to_ascii_lowercase();
            let (entry, _) = split_host_port(&entry);
            let entry = entry.trim_start_matches('*');
            if entry.is_empty() {
                return true; // "*"
            }
            if entry == "<local>" {
                return !host.contains('.');
            }
            let suffix = entry.trim_start_matches('.');
            host == suffix || host.ends_with(&format!(".{suffix}"))
        })
    }
}

fn is_loopback(host: &str) -> bool {
    let host = host.trim_matches(['[', ']']);
    host.eq_ignore_ascii_case("localhost")
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// Reads the system's proxy settings when a connection is made: the desktop app reads more
/// of the system than the variables (GNOME's settings, Windows' Internet settings).
pub type SystemProxySource = Arc<dyn Fn() -> SystemProxy + Send + Sync>;

/// The way to the hub: the agent's choice, and where the system's settings come from.
#[derive(Clone, Default)]
pub struct Proxy {
    /// The agent's choice.
    pub setting: ProxySetting,
    /// Where the system's settings come from; the variables when `None`.
    pub system: Option<SystemProxySource>,
}

impl fmt::Debug for Proxy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Proxy({})", self.setting)
    }
}

impl Proxy {
    /// The agent's proxy's password, if one is set.
    pub fn password(&self) -> Option<&str> {
        match &self.setting {
            ProxySetting::Manual(url) => url.password.as_deref(),
            _ => None,
        }
    }

    /// The same way, with the agent's proxy given `password` when it names a user without
    /// one (the settings keep the user; the keychain keeps the password).
    pub fn with_password(&self, password: Option<&str>) -> Self {
        let mut proxy = self.clone();
        if let (ProxySetting::Manual(url), Some(password)) = (&mut proxy.setting, password) {
            if url.user.is_some() && url.password.is_none() {
                url.password = Some(password.to_string());
            }
        }
        proxy
    }

    /// The proxy to reach a hub at `host` through, if any.
    pub fn for_hub(&self, host: &str, secure: bool) -> Option<ProxyUrl> {
        match &self.setting {
            ProxySetting::Direct => None,
            ProxySetting::Manual(url) => Some(url.clone()),
            ProxySetting::System => {
                let system = match &self.system {
                    Some(read) => read(),
                    None => SystemProxy::from_env(),
                };
                system.for_hub(host, secure).cloned()
            }
        }
    }
}

/// Why a proxy did not carry the connection.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProxyError {
    /// The proxy could not be reached.
    #[error("cannot be reached: {0}")]
    Unreachable(String),
    /// The proxy asks for a user name and password and none was given.
    #[error("asks for a user name and password{}", schemes_note(.0))]
    AuthRequired(Vec<String>),
    /// The proxy refused the user name and password given.
    #[error("refused the user name and password{}", schemes_note(.0))]
    AuthRejected(Vec<String>),
    /// The proxy refused to reach the hub.
    #[error("refused to reach the hub: {0}")]
    Refused(String),
    /// The proxy answered something that is not its protocol.
    #[error("answered in a way Huddle does not understand: {0}")]
    Garbled(String),
}

impl ProxyError {
    /// Whether the proxy asks for authentication that Huddle cannot give it (only Basic is
    /// spoken): NTLM, Negotiate (Kerberos) and the like.
    pub fn needs_other_authentication(&self) -> bool {
        match self {
            Self::AuthRequired(schemes) | Self::AuthRejected(schemes) => {
                !schemes.is_empty() && !schemes.iter().any(|s| s.eq_ignore_ascii_case("basic"))
            }
            _ => false,
        }
    }
}

fn schemes_note(schemes: &[String]) -> String {
    if schemes.is_empty() {
        String::new()
    } else {
        format!(" ({})", schemes.join(", "))
    }
}

/// How long a proxy may take for each step.
const STEP: Duration = Duration::from_secs(15);
/// The longest answer header a proxy may send to `CONNECT`.
const MAX_HEADER: usize = 16 * 1024;

/// Opens a connection to `host:port` through `proxy`: a tunnel that carries the hub's
/// WebSocket (and its TLS) as a direct connection would.
pub async fn tunnel(proxy: &ProxyUrl, host: &str, port: u16) -> Result<TcpStream, ProxyError> {
    let connecting = TcpStream::connect((proxy.host.as_str(), proxy.port));
    let mut stream = match tokio::time::timeout(STEP, connecting).await {
        Ok(Ok(stream)) => stream,
        Ok(Err(e)) => return Err(ProxyError::Unreachable(e.to_string())),
        Err(_) => return Err(ProxyError::Unreachable("no answer in time".into())),
    };
    let handshake = async {
        match proxy.kind {
            ProxyKind::Http => http_connect(&mut stream, proxy, host, port).await,
            ProxyKind::Socks5 => socks5_connect(&mut stream, proxy, host, port).await,
        }
    };
    match tokio::time::timeout(STEP, handshake).await {
        Ok(Ok(())) => Ok(stream),
        Ok(Err(e)) => Err(e),
        Err(_) => Err(ProxyError::Unreachable("no answer in time".into())),
    }
}

fn garbled(e: std::io::Error) -> ProxyError {
    ProxyError::Garbled(e.to_string())
}

async fn http_connect(
    stream: &mut TcpStream,
    proxy: &ProxyUrl,
    host: &str,
    port: u16,
) -> Result<(), ProxyError> {
    let authority = if host.contains(':') {
        format!("[{host}]:{port}")
    } else {
        format!("{host}:{port}")
    };
    let mut request = format!("CONNECT {authority} HTTP/1.1\r\nHost: {authority}\r\n");
    if let Some(user) = &proxy.user {
        let pair = format!("{user}:{}", proxy.password.as_deref().unwrap_or(""));
        let encoded = base64::engine::general_purpose::STANDARD.encode(pair);
        request.push_str(&format!("Proxy-Authorization: Basic {encoded}\r\n"));
    }
    request.push_str("\r\n");
    stream
        .write_all(request.as_bytes())
        .await
        .map_err(garbled)?;
    // Byte by byte up to the blank line: what follows it is the tunnel's, not the proxy's.
    let mut header = Vec::with_capacity(256);
    while !header.ends_with(b"\r\n\r\n") {
        if header.len() >= MAX_HEADER {
            return Err(ProxyError::Garbled("an endless answer header".into()));
        }
        let byte = stream.read_u8().await.map_err(garbled)?;
        header.push(byte);
    }
    let header = String::from_utf8_lossy(&header);
    let mut lines = header.lines();
    let status_line = lines.next().unwrap_or_default();
    let mut parts = status_line.splitn(3, ' ');
    let (version, code, reason) = (parts.next(), parts.next(), parts.next());
    if !version.is_some_and(|v| v.starts_with("HTTP/")) {
        return Err(ProxyError::Garbled(status_line.to_string()));
    }
    let code: u16 = code.and_then(|c| c.parse().ok()).unwrap_or(0);
    let schemes = || -> Vec<String> {
        header
            .lines()
            .filter_map(|l| l.split_once(':'))
            .filter(|(name, _)| name.trim().eq_ignore_ascii_case("proxy-authenticate"))
            .filter_map(|(_, value)| value.split_whitespace().next().map(str::to_string))
            .collect()
    };
    match code {
        200..=299 => Ok(()),
        407 if proxy.user.is_none() => Err(ProxyError::AuthRequired(schemes())),
        407 => Err(ProxyError::AuthRejected(schemes())),
        _ => Err(ProxyError::Refused(
            format!("{code} {}", reason.unwrap_or_default())
                .trim()
                .to_string(),
        )),
    }
}

async fn socks5_connect(
    stream: &mut TcpStream,
    proxy: &ProxyUrl,
    host: &str,
    port: u16,
) -> Result<(), ProxyError> {
    const NO_AUTH: u8 = 0x00;
    const USER_PASSWORD: u8 = 0x02;
    let offered: &[u8] = if proxy.user.is_some() {
        &[NO_AUTH, USER_PASSWORD]
    } else {
        &[NO_AUTH]
    };
    let mut greeting = vec![0x05, offered.len() as u8];
    greeting.extend_from_slice(offered);
    stream.write_all(&greeting).await.map_err(garbled)?;
    let mut chosen = [0u8; 2];
    stream.read_exact(&mut chosen).await.map_err(garbled)?;
    if chosen[0] != 0x05 {
        return Err(ProxyError::Garbled("not a SOCKS5 proxy".into()));
    }
    match chosen[1] {
        NO_AUTH => {}
        USER_PASSWORD => {
            let user = proxy.user.as_deref().unwrap_or_default().as_bytes();
            let password = proxy.password.as_deref().unwrap_or_default().as_bytes();
            if user.len() > 255 || password.len() > 255 {
                return Err(ProxyError::AuthRejected(Vec::new()));
            }
            let mut auth = vec![0x01, user.len() as u8];
            auth.extend_from_slice(user);
            auth.push(password.len() as u8);
            auth.extend_from_slice(password);
            stream.write_all(&auth).await.map_err(garbled)?;
            let mut verdict = [0u8; 2];
            stream.read_exact(&mut verdict).await.map_err(garbled)?;
            if verdict[1] != 0 {
                return Err(ProxyError::AuthRejected(Vec::new()));
            }
        }
        _ if proxy.user.is_none() => return Err(ProxyError::AuthRequired(Vec::new())),
        _ => return Err(ProxyError::AuthRejected(Vec::new())),
    }
    let name = host.trim_matches(['[', ']']).as_bytes();
    if name.len() > 255 {
        return Err(ProxyError::Refused(
            "the hub's name is too long for SOCKS5".into(),
        ));
    }
    let mut request = vec![0x05, 0x01, 0x00, 0x03, name.len() as u8];
    request.extend_from_slice(name);
    request.extend_from_slice(&port.to_be_bytes());
    stream.write_all(&request).await.map_err(garbled)?;
    let mut reply = [0u8; 4];
    stream.read_exact(&mut reply).await.map_err(garbled)?;
    if reply[1] != 0 {
        return Err(ProxyError::Refused(socks5_reason(reply[1]).into()));
    }
    // The address the proxy bound, which the tunnel does not need.
    let skip = match reply[3] {
        0x01 => 4,
        0x04 => 16,
        0x03 => usize::from(stream.read_u8().await.map_err(garbled)?),
        other => return Err(ProxyError::Garbled(format!("address type {other}"))),
    };
    let mut bound = vec![0u8; skip + 2];
    stream.read_exact(&mut bound).await.map_err(garbled)?;
    Ok(())
}

fn socks5_reason(code: u8) -> &'static str {
    match code {
        0x01 => "the proxy failed",
        0x02 => "its rules do not allow this connection",
        0x03 => "the network is unreachable from the proxy",
        0x04 => "the hub's host is unreachable from the proxy",
        0x05 => "the hub refused the proxy's connection",
        0x06 => "the connection timed out",
        0x07 => "the proxy does not support the request",
        0x08 => "the proxy does not support the address type",
        _ => "an unknown reason",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn proxy_urls_are_read_with_their_credentials_and_shown_without_the_password() {
        let url: ProxyUrl = "http://agent%40corp:s%3Acret@proxy.corp:3128/"
            .parse()
            .unwrap();
        assert_eq!(url.kind, ProxyKind::Http);
        assert_eq!((url.host.as_str(), url.port), ("proxy.corp", 3128));
        assert_eq!(url.user.as_deref(), Some("agent@corp"));
        assert_eq!(url.password.as_deref(), Some("s:cret"));
        assert_eq!(url.to_string(), "http://agent@corp@proxy.corp:3128");
        let socks: ProxyUrl = "socks5://[::1]".parse().unwrap();
        assert_eq!(
            (socks.kind, socks.host.as_str(), socks.port),
            (ProxyKind::Socks5, "::1", 1080)
        );
        assert_eq!(
            "proxy:8000".parse::<ProxyUrl>().unwrap().kind,
            ProxyKind::Http
        );
        assert_eq!(
            "ftp://x".parse::<ProxyUrl>(),
            Err(ProxyUrlError::Scheme("ftp://".into()))
        );
        assert_eq!(
            "http://proxy:99999".parse::<ProxyUrl>(),
            Err(ProxyUrlError::Port("99999".into()))
        );
        assert_eq!("http://:80".parse::<ProxyUrl>(), Err(ProxyUrlError::NoHost));
        assert_eq!(
            "system".parse::<ProxySetting>().unwrap(),
            ProxySetting::System
        );
        assert_eq!(
            "none".parse::<ProxySetting>().unwrap(),
            ProxySetting::Direct
        );
    }

    #[test]
    fn the_system_proxy_is_chosen_by_scheme_and_bypassed_for_the_listed_hosts() {
        let url = |s: &str| Some(s.parse::<ProxyUrl>().unwrap());
        let system = SystemProxy {
            https: url("http://secure:1"),
            http: None,
            all: url("socks5://any:2"),
            bypass: vec![".corp.example".into(), "hub.lan:7878".into()],
        };
        let host = |h: &str, secure| system.for_hub(h, secure).map(|p| p.host.clone());
        assert_eq!(host("hub.example.com", true).as_deref(), Some("secure"));
        assert_eq!(host("hub.example.com", false).as_deref(), Some("any"));
        assert_eq!(host("hub.corp.example", true), None);
        assert_eq!(host("corp.example", true), None);
        assert_eq!(host("hub.lan", true), None);
        assert_eq!(host("127.0.0.1", true), None, "loopback is always direct");
        assert_eq!(host("localhost", true), None);
        let everything = SystemProxy {
            bypass: vec!["*".into()],
            ..system.clone()
        };
        assert_eq!(everything.for_hub("hub.example.com", true), None);
    }

    #[test]
    fn an_authentication_huddle_cannot_give_is_told_apart() {
        assert!(
            ProxyError::AuthRequired(vec!["NTLM".into(), "Negotiate".into()])
                .needs_other_authentication()
        );
        assert!(!ProxyError::AuthRequired(vec!["Basic".into()]).needs_other_authentication());
        assert!(!ProxyError::AuthRequired(Vec::new()).needs_other_authentication());
    }
}
