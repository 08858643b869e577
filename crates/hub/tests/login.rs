//! The hub's hello and login over real WebSockets, and how it answers bad input.

use futures_util::{SinkExt, StreamExt};
use huddle_hub::{accounts, Config, RunningHub};
use serde_json::{json, Value};
use std::time::Duration;
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

type Ws = WebSocketStream<MaybeTlsStream<TcpStream>>;

const DEADLINE: Duration = Duration::from_secs(10);

struct TestHub {
    hub: RunningHub,
    _dir: tempfile::TempDir,
}

async fn hub_with_agents() -> TestHub {
    let dir = tempfile::tempdir().unwrap();
    let database = dir.path().join("hub.db");
    let db = huddle_hub::store::open(&database).await.unwrap();
    accounts::add(&db.clone().into(), "ana", "Ana Lima", "ana-password")
        .await
        .unwrap();
    accounts::add(&db.clone().into(), "ben", "Ben Okafor", "ben-password")
        .await
        .unwrap();
    accounts::add(&db.clone().into(), "cho", "Cho Park", "cho-password")
        .await
        .unwrap();
    accounts::set_disabled(&db.clone().into(), "cho", true)
        .await
        .unwrap();
    db.close().await;
    let mut config = Config {
        listen: "127.0.0.1:0".parse().unwrap(),
        database,
        ..Config::default()
    };
    config.limits.max_frame_bytes = 1024;
    TestHub {
        hub: huddle_hub::start(config).await.unwrap(),
        _dir: dir,
    }
}

async fn connect(hub: &TestHub) -> Ws {
    let (ws, _) = tokio_tungstenite::connect_async(hub.hub.ws_url())
        .await
        .unwrap();
    ws
}

async fn recv(ws: &mut Ws) -> Value {
    loop {
        let message = tokio::time::timeout(DEADLINE, ws.next())
            .await
            .expect("no frame before the deadline")
            .expect("connection ended")
            .expect("read failed");
        match message {
            Message::Text(t) => {
                let frame: Value = serde_json::from_str(t.as_str()).unwrap();
                // Presence updates of the agent's own login are not answers.
                if frame["type"] != "presence" {
                    return frame;
                }
            }
            Message::Close(_) => return json!({"closed": true}),
            _ => {}
        }
    }
}

async fn exchange(ws: &mut Ws, frame: Value) -> Value {
    ws.send(Message::Text(frame.to_string().into()))
        .await
        .unwrap();
    recv(ws).await
}

async fn hello(ws: &mut Ws) {
    let welcome = exchange(
        ws,
        json!({"req": 1, "type": "hello", "protocol": 1, "client": "test"}),
    )
    .await;
    assert_eq!(welcome["type"], "welcome", "{welcome}");
    assert_eq!(welcome["re"], 1);
    assert_eq!(welcome["protocol"], 1);
}

async fn login(ws: &mut Ws, login: &str, password: &str) -> Value {
    exchange(
        ws,
        json!({"req": 2, "type": "login", "login": login, "password": password}),
    )
    .await
}

#[tokio::test]
async fn an_agent_logs_in_with_the_right_password() {
    let hub = hub_with_agents().await;
    let mut ws = connect(&hub).await;
    hello(&mut ws).await;
    let reply = login(&mut ws, "Ana", "ana-password").await;
    assert_eq!(reply["type"], "logged_in", "{reply}");
    assert_eq!(reply["re"], 2);
    assert_eq!(reply["agent"]["login"], "ana");
    assert_eq!(reply["agent"]["display_name"], "Ana Lima");
    let again = login(&mut ws, "ana", "ana-password").await;
    assert_eq!(again["code"], "already_logged_in", "{again}");
}

#[tokio::test]
async fn refused_logins_have_their_codes_and_the_connection_stays_usable() {
    let hub = hub_with_agents().await;
    let mut ws = connect(&hub).await;
    hello(&mut ws).await;
    let not_right = "the login or the password is not right";
    // An unknown login and a wrong password say the same: nothing tells which logins exist.
    for (login_name, password, code, says) in [
        ("ana", "wrong-password", "wrong_password", not_right),
        ("zoe", "zoe-password", "wrong_password", not_right),
        ("not a login!", "x", "wrong_password", not_right),
        ("cho", "cho-password", "agent_disabled", "disabled"),
    ] {
        let reply = login(&mut ws, login_name, password).await;
        assert_eq!(reply["type"], "error", "{reply}");
        assert_eq!(reply["code"], code, "{login_name}: {reply}");
        assert_eq!(reply["re"], 2);
        let message = reply["message"].as_str().unwrap_or_default();
        assert!(message.contains(says), "{login_name}: {reply}");
    }
    let reply = login(&mut ws, "ben", "ben-password").await;
    assert_eq!(reply["type"], "logged_in", "{reply}");
}

#[tokio::test]
async fn another_protocol_version_is_refused_and_the_connection_closed() {
    let hub = hub_with_agents().await;
    // An older app is told to update itself, a newer one that the hub needs the update.
    for (protocol, says) in [
        (0, "update the app"),
        (99, "ask your administrator to update the hub"),
    ] {
        let mut ws = connect(&hub).await;
        let reply = exchange(
            &mut ws,
            json!({"req": 1, "type": "hello", "protocol": protocol, "client": "huddle/x"}),
        )
        .await;
        assert_eq!(reply["code"], "unsupported_version", "{reply}");
        let message = reply["message"].as_str().unwrap_or_default();
        assert!(message.contains(says), "{message}");
        assert!(message.contains(huddle_hub::HUB_VERSION), "{message}");
        assert_eq!(recv(&mut ws).await, json!({"closed": true}));
    }
    // The hub carries on for others.
    let mut other = connect(&hub).await;
    hello(&mut other).await;
}

#[tokio::test]
async fn login_before_hello_is_refused() {
    let hub = hub_with_agents().await;
    let mut ws = connect(&hub).await;
    let reply = login(&mut ws, "ana", "ana-password").await;
    assert_eq!(reply["code"], "hello_required", "{reply}");
    hello(&mut ws).await;
    assert_eq!(
        login(&mut ws, "ana", "ana-password").await["type"],
        "logged_in"
    );
}

#[tokio::test]
async fn bad_frames_get_their_own_codes_and_the_hub_carries_on() {
    let hub = hub_with_agents().await;
    let mut ws = connect(&hub).await;
    hello(&mut ws).await;
    let cases: Vec<(Message, &str)> = vec![
        (Message::Text("{not json".into()), "malformed_frame"),
        (Message::Text("42".into()), "malformed_frame"),
        (
            Message::Text(r#"{"req":7,"type":"teleport"}"#.into()),
            "unknown_frame_type",
        ),
        (
            Message::Text(r#"{"req":8,"type":"login"}"#.into()),
            "invalid_frame",
        ),
        (
            Message::Text(
                format!(
                    r#"{{"req":9,"type":"login","login":"{}","password":"x"}}"#,
                    "a".repeat(2000)
                )
                .into(),
            ),
            "frame_too_large",
        ),
        (Message::Binary(vec![1, 2, 3].into()), "binary_frame"),
    ];
    for (message, code) in cases {
        ws.send(message).await.unwrap();
        let reply = recv(&mut ws).await;
        assert_eq!(reply["code"], code, "{reply}");
    }
    let reply = exchange(&mut ws, json!({"req": 7, "type": "teleport"})).await;
    assert_eq!(
        reply["re"], 7,
        "an error answers the request it concerns: {reply}"
    );
    // Still usable after all of it, and so is the hub for another client.
    assert_eq!(
        login(&mut ws, "ana", "ana-password").await["type"],
        "logged_in"
    );
    let mut other = connect(&hub).await;
    hello(&mut other).await;
    assert_eq!(
        login(&mut other, "ben", "ben-password").await["type"],
        "logged_in"
    );
}

#[tokio::test]
async fn a_frame_far_over_the_limit_ends_only_that_connection_and_says_why() {
    let hub = hub_with_agents().await;
    for size in [70_000, 1 << 20] {
        let mut ws = connect(&hub).await;
        hello(&mut ws).await;
        let _ = ws.send(Message::Text("x".repeat(size).into())).await;
        assert_eq!(closed_with(&mut ws).await, Some(1009), "{size} bytes");
    }
    let mut other = connect(&hub).await;
    hello(&mut other).await;
}

/// The close code the hub ended the connection with.
async fn closed_with(ws: &mut Ws) -> Option<u16> {
    tokio::time::timeout(DEADLINE, async {
        loop {
            match ws.next().await {
                Some(Ok(Message::Close(frame))) => return frame.map(|f| u16::from(f.code)),
                Some(Ok(_)) => {}
                None | Some(Err(_)) => return None,
            }
        }
    })
    .await
    .expect("the hub kept the connection open")
}

async fn http_get(hub: &TestHub, path: &str) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = TcpStream::connect(hub.hub.addr).await.unwrap();
    let request = format!("GET {path} HTTP/1.1\r\nHost: hub\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut response = String::new();
    tokio::time::timeout(DEADLINE, stream.read_to_string(&mut response))
        .await
        .unwrap()
        .unwrap();
    response
}

#[tokio::test]
async fn healthz_and_metrics_answer() {
    let hub = hub_with_agents().await;
    let response = http_get(&hub, "/healthz").await;
    assert!(response.starts_with("HTTP/1.1 200"), "{response}");
    assert!(response.contains(r#""status":"ok""#), "{response}");

    let mut ws = connect(&hub).await;
    hello(&mut ws).await;
    login(&mut ws, "ana", "ana-password").await;
    let metrics = http_get(&hub, "/metrics").await;
    assert!(metrics.starts_with("HTTP/1.1 200"), "{metrics}");
    for line in [
        "huddle_hub_connections 1",
        "huddle_hub_devices 1",
        "huddle_hub_open_sessions 0",
        "huddle_hub_messages_total 0",
    ] {
        assert!(metrics.contains(line), "{line} missing in {metrics}");
    }
    drop(ws);
    hub.hub.stop().await.unwrap();
}

/// Every `huddle_hub_…` name in `text`.
fn metric_names(text: &str) -> std::collections::BTreeSet<String> {
    text.match_indices("huddle_hub_")
        .map(|(at, _)| {
            text[at..]
                .chars()
                .take_while(|c| c.is_ascii_lowercase() || *c == '_')
                .collect()
        })
        .collect()
}

#[tokio::test]
async fn the_monitoring_rules_and_dashboard_name_only_what_the_hub_serves() {
    let hub = hub_with_agents().await;
    let metrics = http_get(&hub, "/metrics").await;
    let served = metric_names(&metrics);
    assert!(served.contains("huddle_hub_store_free_bytes"), "{metrics}");
    assert!(served.contains("huddle_hub_connections_limit"), "{metrics}");
    let monitoring =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../packaging/monitoring");
    for file in ["huddle-hub-alerts.yml", "huddle-hub-dashboard.json"] {
        let text = std::fs::read_to_string(monitoring.join(file)).unwrap();
        let named = metric_names(&text);
        assert!(!named.is_empty(), "{file} names no metric");
        let unknown: Vec<_> = named.difference(&served).collect();
        assert!(
            unknown.is_empty(),
            "{file} names metrics the hub does not serve: {unknown:?}"
        );
    }
    let dashboard: Value = serde_json::from_str(
        &std::fs::read_to_string(monitoring.join("huddle-hub-dashboard.json")).unwrap(),
    )
    .unwrap();
    assert!(dashboard["panels"]
        .as_array()
        .is_some_and(|p| !p.is_empty()));
    hub.hub.stop().await.unwrap();
}

#[tokio::test]
async fn invalid_utf8_ends_only_that_connection_and_says_why() {
    use tokio_tungstenite::tungstenite::protocol::frame::coding::{Data, OpCode};
    use tokio_tungstenite::tungstenite::protocol::frame::Frame;
    let hub = hub_with_agents().await;
    let mut ws = connect(&hub).await;
    hello(&mut ws).await;
    let frame = Frame::message(vec![0xff, 0xfe, 0x7b], OpCode::Data(Data::Text), true);
    let _ = ws.send(Message::Frame(frame)).await;
    assert_eq!(closed_with(&mut ws).await, Some(1007));
    let mut other = connect(&hub).await;
    hello(&mut other).await;
    assert_eq!(
        login(&mut other, "ana", "ana-password").await["type"],
        "logged_in"
    );
}

#[tokio::test]
async fn a_silent_connection_is_closed_after_the_idle_timeout() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = Config {
        listen: "127.0.0.1:0".parse().unwrap(),
        database: dir.path().join("hub.db"),
        ..Config::default()
    };
    config.limits.idle_timeout_secs = 1;
    let hub = huddle_hub::start(config).await.unwrap();
    let (mut ws, _) = tokio_tungstenite::connect_async(hub.ws_url())
        .await
        .unwrap();
    // Not reading means not answering the hub's pings either.
    tokio::time::sleep(Duration::from_millis(2500)).await;
    let closed = tokio::time::timeout(DEADLINE, async {
        loop {
            match ws.next().await {
                None | Some(Err(_)) => return None,
                Some(Ok(Message::Close(frame))) => return frame.map(|f| f.reason.to_string()),
                Some(Ok(_)) => {}
            }
        }
    })
    .await
    .expect("the hub should have closed the connection");
    assert_eq!(closed.as_deref(), Some("no frame within the idle timeout"));
}
