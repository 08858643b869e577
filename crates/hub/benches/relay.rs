//! Relay latency and throughput between two agents while other agents are connected.
//!
//! `cargo bench -p huddle-hub --bench relay` (release build). `HUDDLE_BENCH_IDLE` sets how
//! many other agents are connected (default 1000), `HUDDLE_BENCH_MESSAGES` how many messages
//! each phase sends (default 2000).

use std::sync::Arc;
use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use huddle_hub::{accounts, Config};
use serde_json::{json, Value};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

type Ws = WebSocketStream<MaybeTlsStream<TcpStream>>;

fn env_number(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

async fn send(ws: &mut Ws, frame: Value) {
    ws.send(Message::Text(frame.to_string().into()))
        .await
        .expect("send");
}

/// The next text frame that `accept` takes.
async fn next(ws: &mut Ws, accept: impl Fn(&Value) -> bool) -> Value {
    loop {
        match ws.next().await {
            Some(Ok(Message::Text(t))) => {
                let v: Value = serde_json::from_str(t.as_str()).expect("json");
                if accept(&v) {
                    return v;
                }
            }
            Some(Ok(_)) => {}
            other => panic!("connection ended: {other:?}"),
        }
    }
}

async fn login(url: &str, login: &str, password: &str) -> (Ws, i64) {
    let (mut ws, _) = tokio_tungstenite::connect_async(url)
        .await
        .expect("connect");
    send(
        &mut ws,
        json!({"req": 1, "type": "hello", "protocol": 1, "client": "bench"}),
    )
    .await;
    next(&mut ws, |v| v["re"] == 1).await;
    send(
        &mut ws,
        json!({"req": 2, "type": "login", "login": login, "password": password}),
    )
    .await;
    let reply = next(&mut ws, |v| v["re"] == 2).await;
    assert_eq!(reply["type"], "logged_in", "{reply}");
    let id = reply["agent"]["id"].as_i64().expect("id");
    (ws, id)
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

#[tokio::main]
async fn main() {
    let idle = env_number("HUDDLE_BENCH_IDLE", 1000);
    let messages = env_number("HUDDLE_BENCH_MESSAGES", 2000);
    let dir = tempfile::tempdir().expect("tempdir");
    let database = dir.path().join("hub.db");
    let db = huddle_hub::store::open(&database).await.expect("db");
    accounts::add(&db, "ana", "Ana", "bench-password")
        .await
        .expect("ana");
    accounts::add(&db, "ben", "Ben", "bench-password")
        .await
        .expect("ben");
    // One hash for all the idle agents: hashing each would only measure argon2.
    let hash = huddle_hub::password::hash("bench-password").expect("hash");
    let mut tx = db.begin().await.expect("tx");
    for i in 0..idle {
        sqlx::query("INSERT INTO agents (login, display_name, password_hash, created_at) VALUES (?, ?, ?, 0)")
            .bind(format!("idle{i}"))
            .bind(format!("Idle Agent {i}"))
            .bind(&hash)
            .execute(&mut *tx)
            .await
            .expect("insert");
    }
    tx.commit().await.expect("commit");
    db.close().await;

    let mut config = Config {
        listen: "127.0.0.1:0".parse().expect("addr"),
        database,
        ..Config::default()
    };
    config.limits.messages_per_second = 1_000_000;
    config.limits.message_burst = 1_000_000;
    let hub = huddle_hub::start(config).await.expect("hub");
    let url = hub.ws_url();

    let started = Instant::now();
    let gate = Arc::new(tokio::sync::Semaphore::new(8));
    let mut logins = Vec::new();
    for i in 0..idle {
        let (url, gate) = (url.clone(), gate.clone());
        logins.push(tokio::spawn(async move {
            let _permit = gate.acquire().await.expect("gate");
            let (mut ws, _) = login(&url, &format!("idle{i}"), "bench-password").await;
            // Idle agents keep reading: presence updates reach them, and pings need answers.
            tokio::spawn(async move { while let Some(Ok(_)) = ws.next().await {} });
        }));
    }
    for l in logins {
        l.await.expect("login task");
    }
    let connect_time = started.elapsed();

    let (mut ana, _) = login(&url, "ana", "bench-password").await;
    let (mut ben, ben_id) = login(&url, "ben", "bench-password").await;
    send(
        &mut ana,
        json!({"req": 3, "type": "invite", "session_id": "bench", "target": ben_id}),
    )
    .await;
    next(&mut ben, |v| v["event"] == "session").await;
    send(
        &mut ben,
        json!({"req": 3, "type": "accept", "session_id": "bench"}),
    )
    .await;
    next(&mut ana, |v| {
        v["event"] == "session" && v["session"]["state"] == "connected"
    })
    .await;

    // Latency: one message at a time, from ana's send to ben's event.
    let mut latencies = Vec::with_capacity(messages);
    for i in 0..messages {
        let t = Instant::now();
        send(&mut ana, json!({"req": 10 + i, "type": "send", "session_id": "bench", "message_id": format!("l{i}"), "text": "ping"})).await;
        next(&mut ben, |v| v["event"] == "message").await;
        latencies.push(t.elapsed());
    }
    latencies.sort();

    // Throughput: ana sends without waiting; ben counts arrivals.
    let receiver = tokio::spawn(async move {
        let mut got = 0;
        while got < messages {
            next(&mut ben, |v| v["event"] == "message").await;
            got += 1;
        }
    });
    let t = Instant::now();
    let (mut sink, mut stream) = ana.split();
    let drain = tokio::spawn(async move { while let Some(Ok(_)) = stream.next().await {} });
    for i in 0..messages {
        let frame = json!({"req": 100_000 + i, "type": "send", "session_id": "bench", "message_id": format!("t{i}"), "text": "burst"});
        sink.send(Message::Text(frame.to_string().into()))
            .await
            .expect("send");
    }
    receiver.await.expect("receiver");
    let burst = t.elapsed();
    drain.abort();

    println!(
        "hub relay benchmark: {idle} other agents connected in {:.1} s",
        connect_time.as_secs_f64()
    );
    println!(
        "latency, one at a time ({messages} messages): p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
        ms(percentile(&latencies, 0.5)),
        ms(percentile(&latencies, 0.99)),
        ms(percentile(&latencies, 1.0)),
    );
    println!(
        "throughput, sent without waiting ({messages} messages): {:.0} messages/s",
        messages as f64 / burst.as_secs_f64()
    );
}
