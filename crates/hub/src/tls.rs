//! TLS on the hub's own listener, from a certificate chain and a private key in PEM files.
//!
//! The certificate can be replaced while the hub serves (a renewal): [`TlsCertificate::reload`]
//! reads the files again and, only if they make a valid pair, new connections get the new
//! certificate. Handshakes run beside the accept loop, so a slow or silent client never holds
//! up the others.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};
use std::time::Duration;

use rustls::server::{ClientHello, ResolvesServerCert};
use rustls::sign::CertifiedKey;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio_rustls::server::TlsStream;
use tokio_rustls::TlsAcceptor;

/// How long a client may take to finish its TLS handshake.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// Why a certificate or key could not be used.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    /// A file could not be read or does not hold what it should.
    #[error("cannot use the TLS {what} file {path}: {reason}")]
    File {
        /// "certificate" or "private key".
        what: &'static str,
        /// The file.
        path: PathBuf,
        /// Why.
        reason: String,
    },
    /// The private key does not belong to the certificate, or is of a kind TLS cannot use.
    #[error("the TLS private key {key} does not go with the certificate {certificate}: {reason}")]
    Mismatch {
        /// The certificate file.
        certificate: PathBuf,
        /// The key file.
        key: PathBuf,
        /// What the TLS library said.
        reason: String,
    },
}

/// The hub's certificate and key, as read from their files, replaceable while serving.
#[derive(Debug)]
pub struct TlsCertificate {
    certificate: PathBuf,
    key: PathBuf,
    current: RwLock<Arc<CertifiedKey>>,
}

impl TlsCertificate {
    /// Reads the certificate chain (leaf first) and its private key (PKCS#8, PKCS#1 or SEC1).
    pub fn load(certificate: &Path, key: &Path) -> Result<Self, TlsError> {
        let pair = read_pair(certificate, key)?;
        Ok(Self {
            certificate: certificate.to_path_buf(),
            key: key.to_path_buf(),
            current: RwLock::new(Arc::new(pair)),
        })
    }

    /// Reads the files again; on success new connections get the new certificate, on failure
    /// the one in use stays.
    pub fn reload(&self) -> Result<(), TlsError> {
        let pair = read_pair(&self.certificate, &self.key)?;
        *self.current.write().unwrap_or_else(|p| p.into_inner()) = Arc::new(pair);
        Ok(())
    }

    fn current(&self) -> Arc<CertifiedKey> {
        self.current
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }
}

impl ResolvesServerCert for TlsCertificate {
    fn resolve(&self, _hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        Some(self.current())
    }
}

fn read_pair(certificate: &Path, key: &Path) -> Result<CertifiedKey, TlsError> {
    fn file<'p>(what: &'static str, path: &'p Path) -> impl Fn(String) -> TlsError + 'p {
        move |reason| TlsError::File {
            what,
            path: path.to_path_buf(),
            reason,
        }
    }
    let bad_cert = file("certificate", certificate);
    let chain: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(certificate)
        .map_err(|e| bad_cert(e.to_string()))?
        .collect::<Result<_, _>>()
        .map_err(|e| bad_cert(e.to_string()))?;
    if chain.is_empty() {
        return Err(bad_cert("it holds no PEM certificate".into()));
    }
    let bad_key = file("private key", key);
    let private = PrivateKeyDer::from_pem_file(key).map_err(|e| {
        bad_key(match e {
            rustls_pki_types::pem::Error::NoItemsFound => "it holds no PEM private key".into(),
            other => other.to_string(),
        })
    })?;
    let provider = rustls::crypto::ring::default_provider();
    CertifiedKey::from_der(chain, private, &provider).map_err(|e| TlsError::Mismatch {
        certificate: certificate.to_path_buf(),
        key: key.to_path_buf(),
        reason: e.to_string(),
    })
}

/// The TLS settings of the hub's listener: TLS 1.2 and 1.3, HTTP/1.1 (WebSocket upgrades).
pub(crate) fn server_config(certificate: Arc<TlsCertificate>) -> Arc<rustls::ServerConfig> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder =
        rustls::ServerConfig::builder_with_provider(provider).with_safe_default_protocol_versions();
    // The ring provider supports every safe default version; this cannot fail.
    let mut config = match builder {
        Ok(b) => b.with_no_client_auth().with_cert_resolver(certificate),
        Err(e) => unreachable!("ring supports TLS 1.2 and 1.3: {e}"),
    };
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Arc::new(config)
}

/// A listener that hands out connections whose TLS handshake has finished.
pub(crate) struct TlsListener {
    addr: SocketAddr,
    ready: mpsc::Receiver<(TlsStream<TcpStream>, SocketAddr)>,
    accepting: JoinHandle<()>,
}

impl TlsListener {
    pub(crate) fn new(listener: TcpListener, config: Arc<rustls::ServerConfig>) -> Self {
        let addr = listener
            .local_addr()
            .unwrap_or_else(|_| ([0, 0, 0, 0], 0).into());
        let (ready_tx, ready) = mpsc::channel(64);
        let acceptor = TlsAcceptor::from(config);
        let accepting = tokio::spawn(async move {
            loop {
                let (tcp, peer) = match listener.accept().await {
                    Ok(accepted) => accepted,
                    Err(e) => {
                        // Out of file descriptors and the like: wait rather than spin.
                        tracing::warn!(error = %e, "cannot accept a connection");
                        tokio::time::sleep(Duration::from_millis(200)).await;
                        continue;
                    }
                };
                let _ = tcp.set_nodelay(true);
                let (acceptor, ready_tx) = (acceptor.clone(), ready_tx.clone());
                tokio::spawn(async move {
                    match tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(tcp)).await {
                        Ok(Ok(tls)) => {
                            let _ = ready_tx.send((tls, peer)).await;
                        }
                        Ok(Err(e)) => tracing::debug!(%peer, error = %e, "TLS handshake failed"),
                        Err(_) => tracing::debug!(%peer, "TLS handshake timed out"),
                    }
                });
            }
        });
        Self {
            addr,
            ready,
            accepting,
        }
    }
}

impl Drop for TlsListener {
    fn drop(&mut self) {
        self.accepting.abort();
    }
}

impl axum::serve::Listener for TlsListener {
    type Io = TlsStream<TcpStream>;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        match self.ready.recv().await {
            Some(accepted) => accepted,
            // The accepting task only ends when this listener is dropped.
            None => std::future::pending().await,
        }
    }

    fn local_addr(&self) -> std::io::Result<Self::Addr> {
        Ok(self.addr)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pair(dir: &Path, name: &str) -> (PathBuf, PathBuf) {
        let key = rcgen::KeyPair::generate().unwrap();
        let cert = rcgen::CertificateParams::new(vec!["localhost".to_string()])
            .unwrap()
            .self_signed(&key)
            .unwrap();
        let (c, k) = (
            dir.join(format!("{name}.crt")),
            dir.join(format!("{name}.key")),
        );
        std::fs::write(&c, cert.pem()).unwrap();
        std::fs::write(&k, key.serialize_pem()).unwrap();
        (c, k)
    }

    #[test]
    fn missing_empty_and_mismatched_files_are_clear_errors() {
        let dir = tempfile::tempdir().unwrap();
        let (cert, key) = pair(dir.path(), "a");
        let (_, other_key) = pair(dir.path(), "b");
        assert!(TlsCertificate::load(&cert, &key).is_ok());

        let missing = dir.path().join("missing.pem");
        let e = TlsCertificate::load(&missing, &key)
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("certificate file") && e.contains("missing.pem"),
            "{e}"
        );

        let e = TlsCertificate::load(&key, &key).unwrap_err().to_string();
        assert!(e.contains("no PEM certificate"), "{e}");

        let e = TlsCertificate::load(&cert, &cert).unwrap_err().to_string();
        assert!(e.contains("no PEM private key"), "{e}");

        let e = TlsCertificate::load(&cert, &other_key)
            .unwrap_err()
            .to_string();
        assert!(e.contains("does not go with"), "{e}");
    }

    #[test]
    fn a_failed_reload_keeps_the_certificate_in_use() {
        let dir = tempfile::tempdir().unwrap();
        let (cert, key) = pair(dir.path(), "a");
        let loaded = TlsCertificate::load(&cert, &key).unwrap();
        let before = loaded.current().cert[0].clone();

        std::fs::write(&cert, "garbage").unwrap();
        assert!(loaded.reload().is_err());
        assert_eq!(loaded.current().cert[0], before);

        let (new_cert, new_key) = pair(dir.path(), "b");
        std::fs::copy(&new_cert, &cert).unwrap();
        std::fs::copy(&new_key, &key).unwrap();
        loaded.reload().unwrap();
        assert_ne!(loaded.current().cert[0], before);
    }
}
