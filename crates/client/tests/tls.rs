//! `wss://` hubs: a hub behind TLS with a certificate from an on-premise certificate
//! authority is reached when that authority's file is given, and refused otherwise.

mod common;

use std::sync::Arc;

use huddle_client::{ClientError, Credential, Engine, Hub};
use rcgen::{BasicConstraints, CertificateParams, IsCa, Issuer, KeyPair};
use rustls_pki_types::{PrivateKeyDer, PrivatePkcs8KeyDer};
use tokio::net::{TcpListener, TcpStream};
use tokio_rustls::TlsAcceptor;

/// A certificate authority, and a certificate it issued for `localhost`.
fn certificates() -> (String, rustls::ServerConfig) {
    let ca_key = KeyPair::generate().unwrap();
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let ca_cert = ca_params.self_signed(&ca_key).unwrap();
    let issuer = Issuer::new(ca_params, ca_key);
    let key = KeyPair::generate().unwrap();
    let cert = CertificateParams::new(vec!["localhost".to_string()])
        .unwrap()
        .signed_by(&key, &issuer)
        .unwrap();
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let server = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(
            vec![cert.der().clone()],
            PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der())),
        )
        .unwrap();
    (ca_cert.pem(), server)
}

/// Terminates TLS in front of a plain hub, as a reverse proxy would.
async fn tls_front(server: rustls::ServerConfig, hub: std::net::SocketAddr) -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let acceptor = TlsAcceptor::from(Arc::new(server));
    tokio::spawn(async move {
        while let Ok((client, _)) = listener.accept().await {
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                let Ok(mut tls) = acceptor.accept(client).await else {
                    return;
                };
                let Ok(mut plain) = TcpStream::connect(hub).await else {
                    return;
                };
                let _ = tokio::io::copy_bidirectional(&mut tls, &mut plain).await;
            });
        }
    });
    port
}

#[tokio::test]
async fn a_wss_hub_is_trusted_through_the_given_ca_and_not_otherwise() {
    let (dir, hub) = common::hub_with(&[("ana", "Ana Lima")]).await;
    let (ca_pem, server) = certificates();
    let port = tls_front(server, hub.addr).await;
    let ca_file = dir.path().join("ca.pem");
    std::fs::write(&ca_file, ca_pem).unwrap();
    let address = format!("wss://localhost:{port}");
    let password = || Credential::Password("ana-password".into());

    let untrusted = Engine::sign_in_to(
        &Hub::new(&address),
        "ana",
        password(),
        &dir.path().join("a"),
    )
    .await;
    match untrusted {
        Err(ClientError::Unreachable { reason, .. }) => {
            assert!(reason.to_lowercase().contains("certificate"), "{reason}")
        }
        Err(other) => panic!("expected an untrusted certificate, got {other:?}"),
        Ok(_) => panic!("a certificate of an unknown authority was trusted"),
    }

    let trusted = Hub {
        address,
        ca_file: Some(ca_file),
    };
    let (engine, _) = Engine::sign_in_to(&trusted, "ana", password(), &dir.path().join("b"))
        .await
        .unwrap();
    assert_eq!(engine.agent().display_name, "Ana Lima");
}
