//! The client engine against a real hub on a loopback port.

use huddle_client::{ClientError, Connection};
use huddle_hub::{accounts, Config, RunningHub};
use huddle_protocol::ErrorCode;

async fn hub() -> (tempfile::TempDir, RunningHub) {
    let dir = tempfile::tempdir().unwrap();
    let database = dir.path().join("hub.db");
    let db = huddle_hub::store::open(&database).await.unwrap();
    accounts::add(&db, "ana", "Ana Lima", "ana-password")
        .await
        .unwrap();
    db.close().await;
    let config = Config {
        listen: "127.0.0.1:0".parse().unwrap(),
        database,
        ..Config::default()
    };
    let hub = huddle_hub::start(config).await.unwrap();
    (dir, hub)
}

#[tokio::test]
async fn connects_agrees_on_the_version_and_logs_in() {
    let (_dir, hub) = hub().await;
    let mut connection = Connection::connect(&hub.addr.to_string()).await.unwrap();
    assert_eq!(connection.hub_version(), huddle_hub::HUB_VERSION);
    let agent = connection.login("ana", "ana-password").await.unwrap();
    assert_eq!(agent.display_name, "Ana Lima");
}

#[tokio::test]
async fn a_wrong_password_is_reported_with_its_code() {
    let (_dir, hub) = hub().await;
    let mut connection = Connection::connect(&hub.ws_url()).await.unwrap();
    match connection.login("ana", "nope-nope").await {
        Err(ClientError::Refused(e)) => assert_eq!(e.code, ErrorCode::WrongPassword),
        other => panic!("expected a refusal, got {other:?}"),
    }
    // The same connection can try again.
    assert!(connection.login("ana", "ana-password").await.is_ok());
}

#[tokio::test]
async fn an_unreachable_hub_is_reported_as_such() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    match Connection::connect(&addr.to_string()).await {
        Err(ClientError::Unreachable { url, .. }) => assert!(url.contains(&addr.to_string())),
        Err(other) => panic!("expected unreachable, got {other:?}"),
        Ok(_) => panic!("expected unreachable, got a connection"),
    }
}

#[tokio::test]
async fn the_end_of_the_connection_is_noticed() {
    let (_dir, hub) = hub().await;
    let mut connection = Connection::connect(&hub.ws_url()).await.unwrap();
    connection.login("ana", "ana-password").await.unwrap();
    let closed = tokio::spawn(connection.closed());
    hub.stop().await.unwrap();
    let reason = tokio::time::timeout(std::time::Duration::from_secs(10), closed)
        .await
        .expect("the end was not noticed in time")
        .unwrap();
    assert!(!reason.is_empty());
}
