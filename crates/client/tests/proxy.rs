//! Reaching a real hub through a proxy started by the test: HTTP CONNECT and SOCKS5, with a
//! password; a proxy that asks for one, refuses it or wants Windows sign-in, explained; and
//! the system's settings, which leave the computer itself out.

mod common;

#[path = "../../../tests/support/proxy.rs"]
mod test_proxy;

use std::sync::Arc;

use common::wait_for;
use huddle_client::proxy::{Proxy, ProxyError, ProxySetting, SystemProxy};
use huddle_client::{ClientError, Credential, Engine, EngineEvent, Hub, SessionStatus};
use test_proxy::{Auth, Kind, TestProxy};

/// The hub's name as only the proxy knows it: the client cannot reach it by itself.
const HIDDEN_HUB: &str = "hub.huddle.test";

fn manual(url: &str) -> Proxy {
    Proxy {
        setting: ProxySetting::Manual(url.parse().expect("a proxy URL")),
        system: None,
    }
}

async fn sign_in(hub: &Hub, login: &str, data: &std::path::Path) -> Result<Engine, ClientError> {
    Engine::sign_in_to(
        hub,
        login,
        Credential::Password(format!("{login}-password")),
        data,
    )
    .await
    .map(|(engine, _)| engine)
}

/// Ana, through `proxy`, and Ben, direct, exchange a message each way.
async fn converse_through(kind: Kind) {
    let (dir, hub) = common::hub_with(&[("ana", "Ana Lima"), ("ben", "Ben Okafor")]).await;
    let proxy = TestProxy::start(
        kind,
        Auth::Password("agent".into(), "s3cret".into()),
        Some(hub.addr),
    )
    .await
    .unwrap();
    let hidden = format!("{HIDDEN_HUB}:{}", hub.addr.port());
    let through = Hub::new(&hidden).via(manual(&proxy.url(Some(("agent", "s3cret")))));
    let ana = sign_in(&through, "ana", &dir.path().join("ana"))
        .await
        .unwrap();
    assert_eq!(proxy.tunnels(), 1, "the proxy carried the sign-in");
    let ben = common::sign_in(&hub.addr.to_string(), "ben", &dir.path().join("ben")).await;
    let (mut ana_events, mut ben_events) = (ana.subscribe(), ben.subscribe());

    let session = ana.invite(ben.agent().id, None, None).await.unwrap();
    wait_for(&mut ben_events, "the invitation", |e| match e {
        EngineEvent::Session(s) if s.status == SessionStatus::Invited => Some(()),
        _ => None,
    })
    .await;
    ben.accept(&session.id).await.unwrap();
    ana.send_message(&session.id, "through the proxy")
        .await
        .unwrap();
    wait_for(&mut ben_events, "Ana's message", |e| match e {
        EngineEvent::Message(m) if m.text == "through the proxy" => Some(()),
        _ => None,
    })
    .await;
    ben.send_message(&session.id, "and back").await.unwrap();
    wait_for(&mut ana_events, "Ben's answer", |e| match e {
        EngineEvent::Message(m) if m.text == "and back" => Some(()),
        _ => None,
    })
    .await;
}

#[tokio::test]
async fn an_agent_converses_through_an_http_proxy_that_asks_for_a_password() {
    converse_through(Kind::Http).await;
}

#[tokio::test]
async fn an_agent_converses_through_a_socks5_proxy_that_asks_for_a_password() {
    converse_through(Kind::Socks5).await;
}

async fn refusal(kind: Kind, auth: Auth, credentials: Option<(&str, &str)>) -> ProxyError {
    let (dir, hub) = common::hub_with(&[("ana", "Ana Lima")]).await;
    let proxy = TestProxy::start(kind, auth, Some(hub.addr)).await.unwrap();
    let through = Hub::new(hub.addr.to_string()).via(manual(&proxy.url(credentials)));
    match sign_in(&through, "ana", dir.path()).await {
        Err(ClientError::Proxy {
            proxy: named,
            error,
        }) => {
            assert!(!named.contains("wrong"), "no password in {named}");
            error
        }
        Err(other) => panic!("not a proxy's refusal: {other}"),
        Ok(_) => panic!("signed in through a proxy that should refuse"),
    }
}

#[tokio::test]
async fn a_proxy_that_asks_for_a_password_refuses_one_or_wants_windows_sign_in_says_so() {
    let password = || Auth::Password("agent".into(), "s3cret".into());
    assert_eq!(
        refusal(Kind::Http, password(), None).await,
        ProxyError::AuthRequired(vec!["Basic".into()])
    );
    assert_eq!(
        refusal(Kind::Http, password(), Some(("agent", "wrong"))).await,
        ProxyError::AuthRejected(vec!["Basic".into()])
    );
    assert!(refusal(Kind::Http, Auth::WindowsOnly, None)
        .await
        .needs_other_authentication());
    assert_eq!(
        refusal(Kind::Socks5, password(), None).await,
        ProxyError::AuthRequired(Vec::new())
    );
    assert_eq!(
        refusal(Kind::Socks5, password(), Some(("agent", "wrong"))).await,
        ProxyError::AuthRejected(Vec::new())
    );
}

#[tokio::test]
async fn a_proxy_that_is_not_there_or_cannot_reach_the_hub_says_so() {
    let (dir, hub) = common::hub_with(&[("ana", "Ana Lima")]).await;
    let gone = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let through = Hub::new(hub.addr.to_string()).via(manual(&format!("http://{gone}")));
    assert!(matches!(
        sign_in(&through, "ana", dir.path()).await,
        Err(ClientError::Proxy {
            error: ProxyError::Unreachable(_),
            ..
        })
    ));
    let proxy = TestProxy::start(Kind::Http, Auth::None, Some(gone))
        .await
        .unwrap();
    let through = Hub::new(hub.addr.to_string()).via(manual(&proxy.url(None)));
    assert!(matches!(
        sign_in(&through, "ana", dir.path()).await,
        Err(ClientError::Proxy {
            error: ProxyError::Refused(reason),
            ..
        }) if reason.starts_with("502")
    ));
}

#[tokio::test]
async fn the_systems_proxy_carries_the_connection_except_to_the_computer_itself() {
    let (dir, hub) = common::hub_with(&[("ana", "Ana Lima")]).await;
    let proxy = TestProxy::start(Kind::Http, Auth::None, Some(hub.addr))
        .await
        .unwrap();
    let url = proxy.url(None);
    let system = Proxy {
        setting: ProxySetting::System,
        system: Some(Arc::new(move || SystemProxy {
            http: url.parse().ok(),
            ..SystemProxy::default()
        })),
    };
    let hidden = format!("{HIDDEN_HUB}:{}", hub.addr.port());
    let ana = sign_in(
        &Hub::new(&hidden).via(system.clone()),
        "ana",
        &dir.path().join("1"),
    )
    .await
    .unwrap();
    assert_eq!(proxy.tunnels(), 1);
    ana.sign_out().await;

    // The loopback address is reached directly, as browsers do.
    let direct = Hub::new(hub.addr.to_string()).via(system.clone());
    sign_in(&direct, "ana", &dir.path().join("2"))
        .await
        .unwrap();
    assert_eq!(proxy.tunnels(), 1);

    // "No proxy" goes direct whatever the system says: the hidden name cannot be reached.
    let none = Proxy {
        setting: ProxySetting::Direct,
        ..system
    };
    assert!(matches!(
        sign_in(&Hub::new(&hidden).via(none), "ana", &dir.path().join("3")).await,
        Err(ClientError::Unreachable { .. })
    ));
}
