//! Signing in against a real hub on a loopback port, and what the engine reports.

mod common;

use std::time::Duration;

use huddle_client::{ClientError, ConnectionState, Credential, Engine, EngineEvent};
use huddle_hub::RunningHub;
use huddle_protocol::ErrorCode;

async fn hub() -> (tempfile::TempDir, RunningHub) {
    common::hub_with(&[("ana", "Ana Lima")]).await
}

async fn sign_in(
    hub: &RunningHub,
    password: &str,
    data: &std::path::Path,
) -> Result<Engine, ClientError> {
    Engine::sign_in(
        &hub.addr.to_string(),
        "ana",
        Credential::Password(password.into()),
        data,
    )
    .await
    .map(|(engine, _)| engine)
}

#[tokio::test]
async fn signs_in_and_is_online() {
    let (dir, hub) = hub().await;
    let engine = sign_in(&hub, "ana-password", dir.path()).await.unwrap();
    assert_eq!(engine.agent().display_name, "Ana Lima");
    assert_eq!(engine.state(), ConnectionState::Online);
    assert!(!engine.token().is_empty());
}

#[tokio::test]
async fn a_wrong_password_is_reported_with_its_code() {
    let (dir, hub) = hub().await;
    match sign_in(&hub, "nope-nope", dir.path()).await {
        Err(ClientError::Refused(e)) => assert_eq!(e.code, ErrorCode::WrongPassword),
        Err(other) => panic!("expected a refusal, got {other:?}"),
        Ok(_) => panic!("expected a refusal, got an engine"),
    }
}

#[tokio::test]
async fn an_unreachable_hub_is_reported_as_such() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    let dir = tempfile::tempdir().unwrap();
    let result = Engine::sign_in(
        &addr.to_string(),
        "ana",
        Credential::Password("x".into()),
        dir.path(),
    )
    .await;
    match result {
        Err(ClientError::Unreachable { url, .. }) => assert!(url.contains(&addr.to_string())),
        Err(other) => panic!("expected unreachable, got {other:?}"),
        Ok(_) => panic!("expected unreachable, got an engine"),
    }
}

#[tokio::test]
async fn the_end_of_the_connection_is_reported_with_the_hubs_reason() {
    let (dir, hub) = hub().await;
    let engine = sign_in(&hub, "ana-password", dir.path()).await.unwrap();
    let mut events = engine.subscribe();
    hub.stop().await.unwrap();
    let reason = tokio::time::timeout(Duration::from_secs(10), async {
        loop {
            if let Ok(EngineEvent::Connection(ConnectionState::Offline { reason })) =
                events.recv().await
            {
                return reason;
            }
        }
    })
    .await
    .expect("the end was not noticed in time");
    assert!(reason.contains("shutting down"), "{reason}");
}
