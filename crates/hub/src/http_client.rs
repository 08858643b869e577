//! A small HTTP/1.1 client over plain TCP, for talking to a hub's integration API: the
//! simulator uses it, and so do the tests. One connection per request; no TLS (a hub
//! behind TLS is reached through its local plain listener).

use std::time::Duration;

use anyhow::Context;
use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper::header::{AUTHORIZATION, CONTENT_TYPE, HOST};
use hyper::{Method, Request, Uri};
use hyper_util::rt::TokioIo;

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
}

impl HttpClient {
    /// A client of the hub at `base`, for example `http://127.0.0.1:7878`.
    pub fn new(base: &str) -> anyhow::Result<Self> {
        let uri: Uri = base
            .parse()
            .with_context(|| format!("{base:?} is not a URL like http://127.0.0.1:7878"))?;
        anyhow::ensure!(
            uri.scheme_str() == Some("http"),
            "{base:?}: only http:// URLs are supported (use the hub's plain listener)"
        );
        let host = uri
            .host()
            .with_context(|| format!("{base:?} names no host"))?
            .trim_start_matches('[')
            .trim_end_matches(']')
            .to_string();
        Ok(Self {
            base: base.trim_end_matches('/').to_string(),
            port: uri.port_u16().unwrap_or(80),
            prefix: uri.path().trim_end_matches('/').to_string(),
            host,
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
        let e = HttpClient::new("https://hub.example").unwrap_err();
        assert!(e.to_string().contains("only http://"), "{e}");
        assert!(HttpClient::new("not a url").is_err());
    }
}
