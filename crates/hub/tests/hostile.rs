//! What the hub does with clients that would exhaust it without an account: sockets that
//! send half a request head, WebSockets that never sign in, TLS handshakes that never finish,
//! and more connections than one address or the whole hub may hold. Agents signed in from
//! elsewhere keep talking meanwhile.

mod common;

use std::net::{Ipv4Addr, SocketAddr};
use std::time::{Duration, Instant};

use common::{connected, hub_with, Client};
use futures_util::{SinkExt, StreamExt};
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::Message;

/// Where the agents who are not attacking connect from.
const ELSEWHERE: Ipv4Addr = Ipv4Addr::new(127, 0, 0, 2);

/// Whether the hub closes `socket` within `within` (whatever it writes first).
async fn closed_within(socket: &mut TcpStream, within: Duration) -> bool {
    let mut buffer = [0u8; 1024];
    tokio::time::timeout(within, async {
        loop {
            match socket.read(&mut buffer).await {
                Ok(0) | Err(_) => return,
                Ok(_) => {}
            }
        }
    })
    .await
    .is_ok()
}

/// A socket that sends half an HTTP request head and stops.
async fn half_head(hub: SocketAddr) -> TcpStream {
    let mut socket = TcpStream::connect(hub).await.unwrap();
    socket
        .write_all(b"GET /v1/ws HTTP/1.1\r\nHost: hub\r\nUpgrade: websocket\r\n")
        .await
        .unwrap();
    socket
}

/// Two agents signed in from elsewhere exchange a message.
async fn agents_still_talk(hub: &common::TestHub, session: &str) {
    let mut ana = Client::login_from(hub, "ana", ELSEWHERE).await;
    let mut ben = Client::login_from(hub, "ben", ELSEWHERE).await;
    connected(&mut ana, &mut ben, session).await;
    let sent = ana
        .request(json!({"type": "send", "session_id": session, "message_id": "m-1", "text": "still here"}))
        .await;
    assert_eq!(sent["type"], "sent", "{sent}");
    ben.message_event("m-1").await;
}

#[tokio::test]
async fn half_request_heads_are_cut_off_and_one_address_holds_only_its_share() {
    let hub = hub_with(|c| {
        c.limits.request_head_secs = 2;
        c.limits.max_connections_per_address = 20;
    })
    .await;
    let addr = hub.hub.addr;
    let started = Instant::now();
    let mut held = Vec::new();
    for _ in 0..20 {
        held.push(half_head(addr).await);
    }
    // The address has all its places: one more is closed at once.
    let mut extra = TcpStream::connect(addr).await.unwrap();
    assert!(
        closed_within(&mut extra, Duration::from_millis(500)).await,
        "a 21st connection from one address was kept"
    );
    // Agents elsewhere sign in and talk meanwhile.
    agents_still_talk(&hub, "s-1").await;
    // Every half head is closed once its deadline is over, and not long after.
    for socket in &mut held {
        assert!(
            closed_within(socket, Duration::from_secs(5)).await,
            "a half request head was kept open"
        );
    }
    assert!(
        started.elapsed() >= Duration::from_secs(2),
        "closed too soon"
    );
    // The address has its places back.
    let _cho = Client::login(&hub, "cho").await;
}

#[tokio::test]
async fn the_hub_holds_no_more_connections_than_its_limit_and_frees_them() {
    let hub = hub_with(|c| c.limits.max_connections = 5).await;
    let addr = hub.hub.addr;
    let mut held = Vec::new();
    for _ in 0..5 {
        held.push(half_head(addr).await);
    }
    let mut extra = TcpStream::connect(addr).await.unwrap();
    assert!(
        closed_within(&mut extra, Duration::from_millis(500)).await,
        "a connection over the limit was kept"
    );
    // One goes; its place serves a new client.
    held.pop();
    let start = Instant::now();
    loop {
        let mut probe = half_head(addr).await;
        if !closed_within(&mut probe, Duration::from_millis(200)).await {
            break;
        }
        assert!(
            start.elapsed() < common::DEADLINE,
            "the place never came back"
        );
    }
}

#[tokio::test]
async fn a_websocket_that_never_signs_in_is_closed_pings_or_not() {
    let hub = hub_with(|c| c.limits.sign_in_secs = 1).await;
    let url = hub.hub.ws_url();
    // One says nothing at all; one says hello and keeps the connection busy with pings and
    // failed logins.
    let (mut silent, _) = tokio_tungstenite::connect_async(&url).await.unwrap();
    let (mut busy, _) = tokio_tungstenite::connect_async(&url).await.unwrap();
    busy.send(Message::Text(
        json!({"req": 1, "type": "hello", "protocol": 1, "client": "test"})
            .to_string()
            .into(),
    ))
    .await
    .unwrap();
    let started = Instant::now();
    let mut tick = tokio::time::interval(Duration::from_millis(200));
    let mut req = 2;
    let closed = tokio::time::timeout(Duration::from_secs(5), async {
        loop {
            tokio::select! {
                _ = tick.tick() => {
                    let _ = busy.send(Message::Ping(Default::default())).await;
                    let wrong = json!({"req": req, "type": "login", "login": "ana", "password": "not-it"});
                    req += 1;
                    let _ = busy.send(Message::Text(wrong.to_string().into())).await;
                }
                message = busy.next() => match message {
                    Some(Ok(Message::Close(frame))) => return frame,
                    Some(Ok(_)) => {}
                    None | Some(Err(_)) => return None,
                },
            }
        }
    })
    .await
    .expect("a WebSocket that never signed in was kept open");
    assert_eq!(closed.map(|f| f.code), Some(CloseCode::Policy));
    assert!(
        started.elapsed() >= Duration::from_millis(900),
        "closed too soon"
    );
    let silent_closed = tokio::time::timeout(Duration::from_secs(3), async {
        while let Some(Ok(message)) = silent.next().await {
            if let Message::Close(_) = message {
                return;
            }
        }
    })
    .await;
    assert!(silent_closed.is_ok(), "a silent WebSocket was kept open");
    // A client that signs in in time stays.
    let mut ana = Client::login_from(&hub, "ana", ELSEWHERE).await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let answer = ana.request(json!({"type": "search", "query": ""})).await;
    assert_eq!(answer["type"], "directory", "{answer}");
}

#[tokio::test]
async fn a_tls_handshake_that_never_finishes_is_cut_off() {
    let dir = tempfile::tempdir().unwrap();
    let key = rcgen::KeyPair::generate().unwrap();
    let cert = rcgen::CertificateParams::new(vec!["localhost".to_string()])
        .unwrap()
        .self_signed(&key)
        .unwrap();
    std::fs::write(dir.path().join("hub.crt"), cert.pem()).unwrap();
    std::fs::write(dir.path().join("hub.key"), key.serialize_pem()).unwrap();
    let hub = hub_with(|c| {
        c.tls_certificate = Some(dir.path().join("hub.crt"));
        c.tls_private_key = Some(dir.path().join("hub.key"));
        c.limits.tls_handshake_secs = 1;
    })
    .await;
    let mut silent = TcpStream::connect(hub.hub.addr).await.unwrap();
    let mut half_hello = TcpStream::connect(hub.hub.addr).await.unwrap();
    // The first bytes of a TLS record that never goes on.
    half_hello
        .write_all(&[0x16, 0x03, 0x01, 0x02, 0x00, 0x01])
        .await
        .unwrap();
    let started = Instant::now();
    assert!(closed_within(&mut silent, Duration::from_secs(4)).await);
    assert!(closed_within(&mut half_hello, Duration::from_secs(4)).await);
    assert!(
        started.elapsed() >= Duration::from_millis(900),
        "closed too soon"
    );
}

/// A connection from `source` that has said hello, and its answer to a login.
async fn try_login(
    hub: &common::TestHub,
    source: Ipv4Addr,
    login: &str,
    password: &str,
) -> (Client, serde_json::Value) {
    let mut c = Client::connect_from(&hub.hub.ws_url(), source).await;
    let answer = c
        .request(json!({"type": "login", "login": login, "password": password}))
        .await;
    (c, answer)
}

#[tokio::test(flavor = "multi_thread")]
async fn guessing_in_parallel_is_no_faster_and_does_not_lock_the_agent_out() {
    let hub = common::hub().await;
    let url = hub.hub.ws_url();
    let guessing = Duration::from_secs(4);
    let start = Instant::now();
    // Forty connections from one address guess Ana's password as fast as they are answered.
    let guessers: Vec<_> = (0..40)
        .map(|n| {
            let url = url.clone();
            tokio::spawn(async move {
                let mut c = Client::connect(&url).await;
                // When each guess that was checked against the password was answered.
                let mut checked = Vec::new();
                while start.elapsed() < guessing {
                    let guess = format!("guess-{n}-{}", checked.len());
                    let answer = c
                        .request(json!({"type": "login", "login": "ana", "password": guess}))
                        .await;
                    match answer["code"].as_str() {
                        Some("wrong_password") => checked.push(start.elapsed()),
                        Some("rate_limited") => {}
                        _ => panic!("a guess got {answer}"),
                    }
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
                checked
            })
        })
        .collect();
    // Meanwhile Ana signs in from her own desk with her password.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let (_, answer) = try_login(&hub, ELSEWHERE, "ana", "ana-password").await;
    assert_eq!(answer["type"], "logged_in", "{answer}");
    let mut checked = 0;
    for guesser in guessers {
        checked += guesser
            .await
            .unwrap()
            .iter()
            .filter(|at| **at <= guessing)
            .count();
    }
    // Three free failures, then one after 1 s and one after 2 s more: at most five in 4 s
    // whatever the number of connections.
    assert!(
        checked <= 5,
        "{checked} guesses were checked in {guessing:?}"
    );
    assert!(checked >= 3, "only {checked} guesses were checked");
}

#[tokio::test]
async fn an_unknown_login_is_refused_like_a_wrong_password_and_as_slowly() {
    let hub = common::hub().await;
    let took = |login: &'static str| {
        let hub = &hub;
        async move {
            let mut times = Vec::new();
            let mut said = Vec::new();
            for _ in 0..3 {
                let started = Instant::now();
                let (_, answer) = try_login(hub, ELSEWHERE, login, "not-the-password").await;
                times.push(started.elapsed());
                said.push((answer["code"].clone(), answer["message"].clone()));
            }
            times.sort();
            (times[1], said)
        }
    };
    let (known, known_said) = took("ana").await;
    let (unknown, unknown_said) = took("zoe").await;
    assert_eq!(known_said, unknown_said);
    // The unknown login costs a password check too; without it, it answered at once.
    assert!(
        unknown * 3 >= known,
        "an unknown login took {unknown:?}, a wrong password {known:?}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_shift_change_is_signed_in_at_the_rate_of_the_hashers_and_nobody_is_lost() {
    let hub = hub_with(|c| {
        c.limits.password_hashers = 1;
        c.limits.password_queue = 4;
    })
    .await;
    let hub = std::sync::Arc::new(hub);
    // Thirty agents' apps sign in at the same instant, each from its own address.
    let shift: Vec<_> = (0..30u8)
        .map(|n| {
            let hub = hub.clone();
            tokio::spawn(async move {
                let source = Ipv4Addr::new(127, 0, 1, n + 1);
                let (_, first) = try_login(&hub, source, "ben", "ben-password").await;
                let mut answer = first.clone();
                // A busy hub is asked again a little later, as the app does.
                while answer["code"] == "busy" {
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    answer = try_login(&hub, source, "ben", "ben-password").await.1;
                }
                assert_eq!(answer["type"], "logged_in", "{answer}");
                first["code"] == "busy"
            })
        })
        .collect();
    let mut told_busy = 0;
    for app in shift {
        told_busy += usize::from(app.await.unwrap());
    }
    // One checked, four waiting: the rest of the burst was told to come back.
    assert!(
        told_busy >= 20,
        "only {told_busy} were told the hub was busy"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn one_agent_on_many_connections_sends_no_more_than_on_one() {
    let hub = hub_with(|c| c.limits.max_devices_per_agent = 25).await;
    let mut ana = Client::login(&hub, "ana").await;
    let mut ben = Client::login(&hub, "ben").await;
    connected(&mut ana, &mut ben, "s-1").await;
    let flooding = Duration::from_secs(3);
    let floods: Vec<_> = (0..20)
        .map(|n| {
            let (url, token) = (hub.hub.ws_url(), ana.token.clone());
            tokio::spawn(async move {
                // Her other devices resume with her session.
                let mut c = Client::connect(&url).await;
                let resumed = c
                    .request(json!({"type": "resume", "token": token, "last_seq": 0}))
                    .await;
                assert_eq!(resumed["type"], "resumed", "{resumed}");
                c.seq = resumed["seq"].as_i64().unwrap_or_default();
                let (mut sent, mut i, until) = (0, 0, Instant::now() + flooding);
                while Instant::now() < until {
                    let id = format!("m-{n}-{i}");
                    i += 1;
                    let answer = c
                        .request(json!({"type": "send", "session_id": "s-1", "message_id": id, "text": "flood"}))
                        .await;
                    match answer["type"].as_str() {
                        Some("sent") => sent += 1,
                        _ => assert_eq!(answer["code"], "rate_limited", "{answer}"),
                    }
                }
                sent
            })
        })
        .collect();
    let mut sent = 0;
    for flood in floods {
        sent += flood.await.unwrap();
    }
    // The agent's budget: a burst of 20, then 10 a second, whatever the connections.
    assert!(
        sent <= 20 + 10 * 4,
        "{sent} messages were committed in {flooding:?}"
    );
    assert!(sent >= 20, "only {sent} were committed");
}

#[tokio::test]
async fn an_agent_is_signed_in_on_at_most_so_many_devices() {
    let hub = hub_with(|c| c.limits.max_devices_per_agent = 3).await;
    let mut devices = Vec::new();
    for _ in 0..3 {
        devices.push(Client::login(&hub, "ana").await);
    }
    let refused = try_login(&hub, ELSEWHERE, "ana", "ana-password").await.1;
    assert_eq!(refused["code"], "limit_exceeded", "{refused}");
    let token = devices[0].token.clone();
    let mut by_token = Client::connect(&hub.hub.ws_url()).await;
    let refused = by_token
        .request(json!({"type": "resume", "token": token, "last_seq": 0}))
        .await;
    assert_eq!(refused["code"], "limit_exceeded", "{refused}");
    // One signs out; a new device gets in.
    let mut gone = devices.pop().unwrap();
    assert_eq!(
        gone.request(json!({"type": "logout"})).await["type"],
        "logged_out"
    );
    let resumed = by_token
        .request(json!({"type": "resume", "token": token, "last_seq": 0}))
        .await;
    assert_eq!(resumed["type"], "resumed", "{resumed}");
    // Other agents are not counted against her.
    let _ben = Client::login(&hub, "ben").await;
}

#[tokio::test]
async fn costly_reads_are_budgeted_per_agent_and_others_are_not_held_back() {
    let hub = hub_with(|c| {
        c.limits.reads_per_second = 1;
        c.limits.read_burst = 10;
    })
    .await;
    let mut desk = Client::login(&hub, "ana").await;
    let mut laptop = Client::login(&hub, "ana").await;
    let mut limited = 0;
    for i in 0..30 {
        let device = if i % 2 == 0 { &mut desk } else { &mut laptop };
        let request = if i % 3 == 0 {
            json!({"type": "snapshot"})
        } else {
            json!({"type": "search", "query": ""})
        };
        let answer = device.request(request).await;
        if answer["code"] == "rate_limited" {
            limited += 1;
        }
    }
    assert!(limited >= 15, "only {limited} of 30 reads were held back");
    let mut ben = Client::login(&hub, "ben").await;
    let answer = ben.request(json!({"type": "search", "query": ""})).await;
    assert_eq!(answer["type"], "directory", "{answer}");
}

#[tokio::test]
async fn a_device_far_behind_takes_a_snapshot_rather_than_a_replay() {
    let hub = hub_with(|c| {
        c.limits.max_replay_events = 5;
        c.limits.messages_per_second = 1000;
        c.limits.message_burst = 1000;
    })
    .await;
    let mut ana = Client::login(&hub, "ana").await;
    let mut ben = Client::login(&hub, "ben").await;
    connected(&mut ana, &mut ben, "s-1").await;
    let (token, held, history) = (ben.token.clone(), ben.seq, ben.history.clone());
    drop(ben);
    for i in 0..10 {
        ana.request(json!({"type": "send", "session_id": "s-1", "message_id": format!("m-{i}"), "text": "missed"}))
            .await;
    }
    let mut again = Client::connect(&hub.hub.ws_url()).await;
    let resumed = again
        .request(json!({"type": "resume", "token": token, "last_seq": held, "history": history}))
        .await;
    assert_eq!(resumed["resync_required"], true, "{resumed}");
    assert_eq!(again.snapshot_texts().await.len(), 10);
}

/// Sends `frames` back to back and returns how long the hub took to answer them all.
async fn answered_in(client: &mut Client, frames: Vec<serde_json::Value>) -> Duration {
    let start = Instant::now();
    let answers = client.send_together(&frames).await;
    assert_eq!(answers.len(), frames.len());
    start.elapsed()
}

#[tokio::test]
async fn a_flooding_client_is_held_to_its_pace_by_its_own_socket() {
    let hub = hub_with(|_| {}).await;
    // Without an account: frames that are not requests are answered a quarter of a second
    // apart, however fast they come.
    let mut stranger = Client::connect_from(&hub.hub.ws_url(), Ipv4Addr::new(127, 0, 0, 1)).await;
    for _ in 0..8 {
        stranger.send_raw(Message::Text("{not json".into())).await;
    }
    let start = Instant::now();
    for _ in 0..8 {
        let error = stranger.next_frame().await.expect("an answer");
        assert_eq!(error["code"], "malformed_frame", "{error}");
    }
    assert!(
        start.elapsed() >= Duration::from_millis(7 * 250),
        "{:?}",
        start.elapsed()
    );

    // A signed-in agent past their budget of reads (a burst of 40, then 10 a second): each
    // refusal holds the next frame back, so twenty more take over a second, not an instant.
    let mut agent = Client::login_from(&hub, "ana", Ipv4Addr::new(127, 0, 0, 2)).await;
    let burst = 40 + 20;
    let searches: Vec<_> = (0..burst)
        .map(|i| json!({"type": "search", "req": 1000 + i, "query": "b"}))
        .collect();
    let took = answered_in(&mut agent, searches).await;
    assert!(took >= Duration::from_secs(1), "{took:?}");
    // Others are not held back meanwhile.
    let mut ben = Client::login_from(&hub, "ben", Ipv4Addr::new(127, 0, 0, 2)).await;
    let found = ben.request(json!({"type": "search", "query": "ana"})).await;
    assert_eq!(found["type"], "directory", "{found}");
}
