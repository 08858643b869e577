//! A proxy for the tests, on a loopback port: HTTP (`CONNECT`) or SOCKS5, asking for a user
//! name and password or not, and counting the tunnels it carried. It can stand for a
//! corporate proxy that alone knows the hub's name: every tunnel then goes to one address,
//! whatever name the client asked for.

#![allow(dead_code)] // The client's tests and the app's use different parts.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use base64::Engine as _;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// How the proxy is spoken to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// HTTP `CONNECT`.
    Http,
    /// SOCKS5.
    Socks5,
}

/// What the proxy asks of its clients.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Auth {
    /// Nothing.
    None,
    /// This user name and password.
    Password(String, String),
    /// Windows sign-in (NTLM, Negotiate), which Huddle does not speak (HTTP only).
    WindowsOnly,
}

/// A running test proxy; it stops when dropped.
pub struct TestProxy {
    /// Where it listens.
    pub addr: SocketAddr,
    kind: Kind,
    tunnels: Arc<AtomicUsize>,
    task: tokio::task::JoinHandle<()>,
}

impl TestProxy {
    /// Starts a proxy. With `only_to`, every tunnel goes to that address, whatever the
    /// client named.
    pub async fn start(
        kind: Kind,
        auth: Auth,
        only_to: Option<SocketAddr>,
    ) -> std::io::Result<Self> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let tunnels = Arc::new(AtomicUsize::new(0));
        let counted = tunnels.clone();
        let task = tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                let (auth, counted) = (auth.clone(), counted.clone());
                tokio::spawn(async move {
                    let _ = serve(client, kind, &auth, only_to, &counted).await;
                });
            }
        });
        Ok(Self {
            addr,
            kind,
            tunnels,
            task,
        })
    }

    /// The proxy's URL, with these credentials if any.
    pub fn url(&self, credentials: Option<(&str, &str)>) -> String {
        let scheme = match self.kind {
            Kind::Http => "http",
            Kind::Socks5 => "socks5",
        };
        let user = credentials
            .map(|(u, p)| format!("{u}:{p}@"))
            .unwrap_or_default();
        format!("{scheme}://{user}{}", self.addr)
    }

    /// How many tunnels it has opened.
    pub fn tunnels(&self) -> usize {
        self.tunnels.load(Ordering::SeqCst)
    }
}

impl Drop for TestProxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn serve(
    mut client: TcpStream,
    kind: Kind,
    auth: &Auth,
    only_to: Option<SocketAddr>,
    tunnels: &AtomicUsize,
) -> std::io::Result<()> {
    let target = match kind {
        Kind::Http => http_handshake(&mut client, auth).await?,
        Kind::Socks5 => socks5_handshake(&mut client, auth).await?,
    };
    let Some(target) = target else {
        return Ok(());
    };
    let upstream = match only_to {
        Some(addr) => TcpStream::connect(addr).await,
        None => TcpStream::connect(target.as_str()).await,
    };
    let mut upstream = match upstream {
        Ok(s) => s,
        Err(_) => {
            let refusal: &[u8] = match kind {
                Kind::Http => b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n",
                Kind::Socks5 => &[5, 5, 0, 1, 0, 0, 0, 0, 0, 0],
            };
            return client.write_all(refusal).await;
        }
    };
    let granted: &[u8] = match kind {
        Kind::Http => b"HTTP/1.1 200 Connection established\r\n\r\n",
        Kind::Socks5 => &[5, 0, 0, 1, 0, 0, 0, 0, 0, 0],
    };
    client.write_all(granted).await?;
    tunnels.fetch_add(1, Ordering::SeqCst);
    tokio::io::copy_bidirectional(&mut client, &mut upstream).await?;
    Ok(())
}

/// Reads a `CONNECT`; returns its target, or `None` once it has answered a refusal.
async fn http_handshake(client: &mut TcpStream, auth: &Auth) -> std::io::Result<Option<String>> {
    let mut header = Vec::new();
    while !header.ends_with(b"\r\n\r\n") {
        header.push(client.read_u8().await?);
    }
    let header = String::from_utf8_lossy(&header).to_string();
    let target = header
        .lines()
        .next()
        .and_then(|l| l.strip_prefix("CONNECT "))
        .and_then(|l| l.split_whitespace().next())
        .unwrap_or_default()
        .to_string();
    let given = header
        .lines()
        .filter_map(|l| l.split_once(':'))
        .find(|(name, _)| name.eq_ignore_ascii_case("proxy-authorization"))
        .map(|(_, value)| value.trim().to_string());
    let challenge = match auth {
        Auth::None => None,
        Auth::Password(user, password) => {
            let expected = format!(
                "Basic {}",
                base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"))
            );
            (given.as_deref() != Some(expected.as_str())).then_some("Basic realm=\"test\"")
        }
        Auth::WindowsOnly => Some("NTLM\r\nProxy-Authenticate: Negotiate"),
    };
    if let Some(challenge) = challenge {
        let answer = format!(
            "HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: {challenge}\r\nContent-Length: 0\r\n\r\n"
        );
        client.write_all(answer.as_bytes()).await?;
        return Ok(None);
    }
    Ok(Some(target))
}

/// Reads a SOCKS5 greeting and request; returns the target, or `None` once refused.
async fn socks5_handshake(client: &mut TcpStream, auth: &Auth) -> std::io::Result<Option<String>> {
    let mut head = [0u8; 2];
    client.read_exact(&mut head).await?;
    let mut methods = vec![0u8; usize::from(head[1])];
    client.read_exact(&mut methods).await?;
    match auth {
        Auth::None => client.write_all(&[5, 0]).await?,
        Auth::Password(user, password) => {
            if !methods.contains(&2) {
                client.write_all(&[5, 0xff]).await?;
                return Ok(None);
            }
            client.write_all(&[5, 2]).await?;
            let mut version_and_length = [0u8; 2];
            client.read_exact(&mut version_and_length).await?;
            let mut given_user = vec![0u8; usize::from(version_and_length[1])];
            client.read_exact(&mut given_user).await?;
            let length = client.read_u8().await?;
            let mut given_password = vec![0u8; usize::from(length)];
            client.read_exact(&mut given_password).await?;
            if given_user != user.as_bytes() || given_password != password.as_bytes() {
                client.write_all(&[1, 1]).await?;
                return Ok(None);
            }
            client.write_all(&[1, 0]).await?;
        }
        Auth::WindowsOnly => {
            client.write_all(&[5, 0xff]).await?;
            return Ok(None);
        }
    }
    let mut request = [0u8; 4];
    client.read_exact(&mut request).await?;
    let host = match request[3] {
        1 => {
            let mut ip = [0u8; 4];
            client.read_exact(&mut ip).await?;
            std::net::Ipv4Addr::from(ip).to_string()
        }
        3 => {
            let length = client.read_u8().await?;
            let mut name = vec![0u8; usize::from(length)];
            client.read_exact(&mut name).await?;
            String::from_utf8_lossy(&name).to_string()
        }
        _ => return Ok(None),
    };
    let port = client.read_u16().await?;
    Ok(Some(format!("{host}:{port}")))
}
