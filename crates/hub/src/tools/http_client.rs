//! A small HTTP/1.1 client for talking to a hub's integration API: the simulator uses it, and
//! so do the tests. One connection per request; `https://` hubs are reached over rustls,
//! trusting the system's certificates and, for an on-premise hub, a given CA file.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper::header::{AUTHORIZATION, CONTENT_TYPE, HOST};
use hyper::{Method, Request, Uri};
use hyper_util::rt::TokioIo;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, ServerName};
use tokio::io::{AsyncRead, AsyncWrite};

/// How long one request may take, connecting included.
pub const TIMEOUT: Duration = Duration::from_secs(10);

/// An answer: its status and body.
#[derive(Debug, Clone)]
pub struct Response {
    /// The HTTP status code.
    pub status: u16,
    /// The body's bytes.
    pub body: Vec<u8>,
}

impl Response {
    /// The body as JSON (`null` when it is not JSON).
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap_or(serde_json::Value::Null)
    }
}

/// A hub's address, parsed once.
#[derive(Debug, Clone)]
pub struct HttpClient {
    base: String,
    host: String,
    port: u16,
    /// A path the hub is served under (behind a proxy), without the trailing slash.
    prefix: String,
    /// How to speak TLS, for an `https://` hub.
    tls: Option<Arc<rustls::ClientConfig>>,
}

impl HttpClient {
    /// A client of the hub at `base`, for example `http://127.0.0.1:7878` or
    /// `https://hub.example:7878`.
    pub fn new(base: &str) -> anyhow::Result<Self> {
        Self::with_ca_file(base, None)
    }

    /// A client of the hub at `base` that also trusts the certificate authority in `ca_file`
    /// (PEM) for an `https://` hub.
    pub fn with_ca_file(base: &str, ca_file: Option<&Path>) -> anyhow::Result<Self> {
        let uri: Uri = base
            .parse()
            .with_context(|| format!("{base:?} is not a URL like http://127.0.0.1:7878"))?;
        let (tls, default_port) = match uri.scheme_str() {
            Some("http") => (None, 80),
            Some("https") => (Some(tls_config(ca_file)?), 443),
            _ => anyhow::bail!("{base:?}: only http:// and https:// URLs are supported"),
        };
        let host = uri
            .host()
            .with_context(|| format!("{base:?} names no host"))?
            .trim_start_matches('[')
            .trim_end_matches(']')
            .to_string();
        Ok(Self {
            base: base.trim_end_matches('/').to_string(),
            port: uri.port_u16().unwrap_or(default_port),
            prefix: uri.path().trim_end_matches('/').to_string(),
            host,
            tls,
        })
    }

    /// Sends one request; `authorization` is the header's whole value.
    pub async fn send(
        &self,
        method: &str,
        path: &str,
        authorization: Option<&str>,
        body: Option<Vec<u8>>,
    ) -> anyhow::Result<Response> {
        let method = Method::from_bytes(method.as_bytes())
            .with_context(|| format!("{method:?} is not an HTTP method"))?;
        tokio::time::timeout(TIMEOUT, self.exchange(method, path, authorization, body))
            .await
            .with_context(|| format!("the hub at {} did not answer in time", self.base))?
    }

    /// Sends JSON with the integration token, and reads JSON back.
    pub async fn json(
        &self,
        method: &str,
        path: &str,
        token: &str,
        body: &serde_json::Value,
    ) -> anyhow::Result<(u16, serde_json::Value)> {
        let authorization = format!("Bearer {token}");
        let answer = self
            .send(
                method,
                path,
                Some(&authorization),
                Some(body.to_string().into_bytes()),
            )
            .await?;
        Ok((answer.status, answer.json()))
    }

    async fn exchange(
        &self,
        method: Method,
        path: &str,
        authorization: Option<&str>,
        body: Option<Vec<u8>>,
    ) -> anyhow::Result<Response> {
        let stream = tokio::net::TcpStream::connect((self.host.as_str(), self.port))
            .await
            .with_context(|| format!("cannot reach the hub at {}", self.base))?;
        match &self.tls {
            None => self.over(stream, method, path, authorization, body).await,
            Some(tls) => {
                let name = ServerName::try_from(self.host.clone())
                    .with_context(|| format!("{:?} is not a host name for TLS", self.host))?;
                let stream = tokio_rustls::TlsConnector::from(tls.clone())
                    .connect(name, stream)
                    .await
                    .with_context(|| format!("no TLS connection with {}", self.base))?;
                self.over(stream, method, path, authorization, body).await
            }
        }
    }

    async fn over(
        &self,
        stream: impl AsyncRead + AsyncWrite + Unpin + Send + 'static,
        method: Method,
        path: &str,
        authorization: Option<&str>,
        body: Option<Vec<u8>>,
    ) -> anyhow::Result<Response> {
        let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
            .await
            .with_context(|| format!("cannot speak HTTP with {}", self.base))?;
        tokio::spawn(async move {
            if let Err(e) = connection.await {
                tracing::debug!(error = %e, "HTTP connection ended with an error");
            }
        });
        let authority = if self.host.contains(':') {
            format!("[{}]:{}", self.host, self.port)
        } else {
            format!("{}:{}", self.host, self.port)
        };
        let mut request = Request::builder()
            .method(method)
            .uri(format!("{}{path}", self.prefix))
            .header(HOST, authority);
        if let Some(authorization) = authorization {
            request = request.header(AUTHORIZATION, authorization);
        }
        if body.is_some() {
            request = request.header(CONTENT_TYPE, "application/json");
        }
        let request = request
            .body(Full::new(Bytes::from(body.unwrap_or_default())))
            .context("cannot build the request")?;
        let answer = sender
            .send_request(request)
            .await
            .with_context(|| format!("the request to {} failed", self.base))?;
        let status = answer.status().as_u16();
        let body = answer
            .into_body()
            .collect()
            .await
            .context("cannot read the hub's answer")?
            .to_bytes()
            .to_vec();
        Ok(Response { status, body })
    }
}

/// The system's trusted certificates, plus the authority in `ca_file` if given.
fn tls_config(ca_file: Option<&Path>) -> anyhow::Result<Arc<rustls::ClientConfig>> {
    let mut roots = rustls::RootCertStore::empty();
    roots.add_parsable_certificates(rustls_native_certs::load_native_certs().certs);
    if let Some(path) = ca_file {
        let certs = CertificateDer::pem_file_iter(path)
            .and_then(|certs| certs.collect::<Result<Vec<_>, _>>())
            .with_context(|| format!("cannot read the CA file {}", path.display()))?;
        anyhow::ensure!(
            !certs.is_empty(),
            "the CA file {} holds no PEM certificate",
            path.display()
        );
        for cert in certs {
            roots
                .add(cert)
                .with_context(|| format!("a certificate in {} is unusable", path.display()))?;
        }
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(Arc::new(config))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base_urls_are_read_or_refused_clearly() {
        let c = HttpClient::new("http://127.0.0.1:7878/").unwrap();
        assert_eq!(
            (c.host.as_str(), c.port, c.prefix.as_str()),
            ("127.0.0.1", 7878, "")
        );
        let c = HttpClient::new("http://hub.example/huddle").unwrap();
        assert_eq!((c.port, c.prefix.as_str()), (80, "/huddle"));
        let c = HttpClient::new("http://[::1]:9000").unwrap();
        assert_eq!(c.host, "::1");
        let c = HttpClient::new("https://hub.example").unwrap();
        assert_eq!((c.port, c.tls.is_some()), (443, true));
        let e = HttpClient::new("ftp://hub.example").unwrap_err();
        assert!(e.to_string().contains("only http:// and https://"), "{e}");
        assert!(HttpClient::new("not a url").is_err());
    }
}
