//! TLS on the hub's own listener, from a certificate chain and a private key in PEM files.
//!
//! The certificate can be replaced while the hub serves (a renewal): [`TlsCertificate::reload`]
//! reads the files again and, only if they make a valid pair, new connections get the new
//! certificate. Handshakes are the listener's (see `listener`): each runs beside the accept
//! loop with a deadline, so a slow or silent client never holds up the others.

use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};

use rustls::server::{ClientHello, ResolvesServerCert};
use rustls::sign::CertifiedKey;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};

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
