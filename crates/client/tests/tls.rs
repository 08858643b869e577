//! `wss://` hubs: a hub serving TLS from its certificate files, issued by an on-premise
//! certificate authority, is reached when that authority's file is given and refused
//! otherwise; a renewed certificate is taken without a restart.

use std::path::{Path, PathBuf};

use huddle_client::{ClientError, Credential, Engine, Hub};
use huddle_hub::http_client::HttpClient;
use huddle_hub::{accounts, Config, RunningHub};
use rcgen::{BasicConstraints, CertificateParams, IsCa, Issuer, KeyPair};

/// A new certificate authority, written to `<name>-ca.pem`, and a certificate it issued for
/// `localhost` written to `hub.crt` and `hub.key` (replacing what was there).
fn issue(dir: &Path, name: &str) -> PathBuf {
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
    std::fs::write(dir.join("hub.crt"), cert.pem()).unwrap();
    std::fs::write(dir.join("hub.key"), key.serialize_pem()).unwrap();
    let ca_file = dir.join(format!("{name}-ca.pem"));
    std::fs::write(&ca_file, ca_cert.pem()).unwrap();
    ca_file
}

async fn tls_hub(dir: &Path) -> RunningHub {
    let database = dir.join("hub.db");
    let db = huddle_hub::store::open(&database).await.unwrap();
    accounts::add(&db.clone().into(), "ana", "Ana Lima", "ana-password")
        .await
        .unwrap();
    db.close().await;
    huddle_hub::start(Config {
        listen: "127.0.0.1:0".parse().unwrap(),
        database,
        tls_certificate: Some(dir.join("hub.crt")),
        tls_private_key: Some(dir.join("hub.key")),
        ..Config::default()
    })
    .await
    .unwrap()
}

async fn sign_in(
    address: &str,
    ca_file: Option<&Path>,
    data: &Path,
) -> Result<Engine, ClientError> {
    let hub = Hub::new(address).trusting(ca_file.map(Path::to_path_buf));
    let password = Credential::Password("ana-password".into());
    Engine::sign_in_to(&hub, "ana", password, data)
        .await
        .map(|(engine, _)| engine)
}

fn assert_untrusted(result: Result<Engine, ClientError>) {
    match result {
        Err(ClientError::Unreachable { reason, .. }) => {
            assert!(reason.to_lowercase().contains("certificate"), "{reason}")
        }
        Err(other) => panic!("expected an untrusted certificate, got {other:?}"),
        Ok(_) => panic!("a certificate of an unknown authority was trusted"),
    }
}

#[tokio::test]
async fn a_tls_hub_is_trusted_through_the_given_ca_and_takes_a_renewed_certificate() {
    let dir = tempfile::tempdir().unwrap();
    let first_ca = issue(dir.path(), "first");
    let hub = tls_hub(dir.path()).await;
    assert!(hub.ws_url().starts_with("wss://"), "{}", hub.ws_url());
    let address = format!("wss://localhost:{}", hub.addr.port());
    let data = |n: &str| dir.path().join(n);

    assert_untrusted(sign_in(&address, None, &data("a")).await);
    let engine = sign_in(&address, Some(&first_ca), &data("b"))
        .await
        .unwrap();
    assert_eq!(engine.agent().display_name, "Ana Lima");

    // The integration API shares the listener: the simulator reaches it over https.
    let base = format!("https://localhost:{}", hub.addr.port());
    let health = HttpClient::with_ca_file(&base, Some(&first_ca))
        .unwrap()
        .send("GET", "/healthz", None, None)
        .await
        .unwrap();
    assert_eq!(health.status, 200);
    assert!(HttpClient::new(&base)
        .unwrap()
        .send("GET", "/healthz", None, None)
        .await
        .is_err());

    // A renewal: new files, read again while serving. A broken pair changes nothing.
    std::fs::write(dir.path().join("hub.key"), "not a key").unwrap();
    assert!(hub.certificate().unwrap().reload().is_err());
    sign_in(&address, Some(&first_ca), &data("c"))
        .await
        .unwrap();
    let second_ca = issue(dir.path(), "second");
    hub.certificate().unwrap().reload().unwrap();
    assert_untrusted(sign_in(&address, Some(&first_ca), &data("d")).await);
    sign_in(&address, Some(&second_ca), &data("e"))
        .await
        .unwrap();
}

#[tokio::test]
async fn a_hub_with_a_broken_certificate_does_not_start() {
    let dir = tempfile::tempdir().unwrap();
    issue(dir.path(), "ca");
    std::fs::write(dir.path().join("hub.crt"), "").unwrap();
    let e = huddle_hub::start(Config {
        listen: "127.0.0.1:0".parse().unwrap(),
        database: dir.path().join("hub.db"),
        tls_certificate: Some(dir.path().join("hub.crt")),
        tls_private_key: Some(dir.path().join("hub.key")),
        ..Config::default()
    })
    .await
    .err()
    .expect("the hub started without a certificate");
    assert!(e.to_string().contains("hub.crt"), "{e}");
    assert!(
        !dir.path().join("hub.db").exists(),
        "nothing is created before the certificate is checked"
    );
}
