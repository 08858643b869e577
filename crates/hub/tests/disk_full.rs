//! The real `huddle-hub` binary on a disk that fills up: the batch that meets the full disk
//! fails as a whole and every request in it is answered with an error, `/healthz` says the
//! hub cannot store changes, and once space returns the hub stores again by itself, with
//! every acknowledged message there once, in order, and no gap in the event numbers.

mod common;

use std::path::Path;
use std::process::Command;

use common::process::{add_agent, spawn_serving, HubProcess};
use common::{connected, Client, DEADLINE};
use huddle_hub::http_client::HttpClient;
use serde_json::{json, Value};

/// The disk the hub writes to, in bytes, and how much of it a filler file takes at first.
const DISK_BYTES: u64 = 8 << 20;
const FILLER_BYTES: u64 = 5 << 20;

/// Starts the hub with its database on a small disk of its own: a tmpfs mounted in a mount
/// namespace of the hub's (as root, or as a user where the kernel allows user namespaces),
/// most of it taken by a filler file that the test removes to give the space back.
fn serve_on_small_disk(seed: &Path, disk: &Path) -> HubProcess {
    let script = r#"mount -t tmpfs -o size="$1" tmpfs "$2" &&
        cp "$3" "$2/hub.db" &&
        head -c "$4" /dev/zero > "$2/filler" &&
        shift 4 && exec "$@""#;
    let mut command = Command::new("unshare");
    command
        .args(["--map-root-user", "--mount", "sh", "-c", script, "sh"])
        .arg(DISK_BYTES.to_string())
        .arg(disk)
        .arg(seed)
        .arg(FILLER_BYTES.to_string())
        .arg(env!("CARGO_BIN_EXE_huddle-hub"))
        .arg("--database")
        .arg(disk.join("hub.db"))
        .args(["serve", "--listen", "127.0.0.1:0"])
        .env("HUDDLE_HUB_LOG", "info")
        .env("HUDDLE_HUB_LIMITS_MESSAGES_PER_SECOND", "1000")
        .env("HUDDLE_HUB_LIMITS_MESSAGE_BURST", "1000");
    spawn_serving(command)
}

fn http(url: &str) -> HttpClient {
    let base = url
        .replace("ws://", "http://")
        .trim_end_matches(huddle_protocol::WS_PATH)
        .to_string();
    HttpClient::new(&base).unwrap()
}

/// The hub's `/healthz`: its status code and body.
async fn health(url: &str) -> (u16, Value) {
    let answer = http(url).send("GET", "/healthz", None, None).await.unwrap();
    (answer.status, answer.json())
}

async fn metrics(url: &str) -> String {
    let answer = http(url).send("GET", "/metrics", None, None).await.unwrap();
    String::from_utf8_lossy(&answer.body).into_owned()
}

/// Waits until `/healthz` answers `status`.
async fn health_becomes(hub: &HubProcess, status: u16) -> Value {
    let waited = tokio::time::timeout(DEADLINE, async {
        loop {
            let (now, body) = health(&hub.url).await;
            if now == status {
                return body;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
    })
    .await;
    match waited {
        Ok(body) => body,
        Err(_) => panic!(
            "/healthz never answered {status}: {:?}\n{}",
            health(&hub.url).await,
            hub.log.lock().unwrap()
        ),
    }
}

fn message(id: &str, req: u64) -> Value {
    json!({"type": "send", "req": req, "session_id": "s-1", "message_id": id,
           "text": format!("{id} {}", "x".repeat(3_900))})
}

#[tokio::test]
async fn a_full_disk_fails_whole_batches_and_the_hub_stores_again_when_space_returns() {
    if common::on_postgres() {
        // The SQLite file's disk; a PostgreSQL server watches its own.
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let seed = dir.path().join("seed.db");
    add_agent(&seed, "ana");
    add_agent(&seed, "ben");
    let disk = dir.path().join("disk");
    std::fs::create_dir(&disk).unwrap();
    let hub = serve_on_small_disk(&seed, &disk);
    assert_eq!(health(&hub.url).await.0, 200);

    let mut ana = Client::login_at(&hub.url, "ana").await;
    let mut ben = Client::login_at(&hub.url, "ben").await;
    connected(&mut ana, &mut ben, "s-1").await;

    // Messages in batches of 20 until the disk is full: each answer is an acknowledgement or
    // an error, and from the batch that meets the full disk on, only errors.
    let mut acked: Vec<String> = Vec::new();
    let mut refused = 0;
    let mut req = 1_000;
    for batch in 0.. {
        assert!(batch < 500, "the disk never filled up");
        let frames: Vec<Value> = (0..20)
            .map(|i| {
                req += 1;
                message(&format!("m-{batch}-{i}"), req)
            })
            .collect();
        let answers = ana.send_together(&frames).await;
        for (frame, answer) in frames.iter().zip(answers.values()) {
            match answer["type"].as_str() {
                Some("sent") => acked.push(frame["message_id"].as_str().unwrap().to_string()),
                _ => {
                    assert_eq!(answer["code"], "internal", "{answer}");
                    refused += 1;
                }
            }
        }
        if refused > 0 {
            break;
        }
    }
    let body = health_becomes(&hub, 503).await;
    assert_eq!(body["status"], "cannot store changes", "{body}");
    assert!(metrics(&hub.url)
        .await
        .contains("huddle_hub_store_failing 1"));

    // Still full: whatever is sent is answered, and nothing of what is refused is kept
    // (checked below).
    let frames: Vec<Value> = (0..20)
        .map(|i| {
            req += 1;
            message(&format!("full-{i}"), req)
        })
        .collect();
    for (frame, answer) in frames.iter().zip(ana.send_together(&frames).await.values()) {
        match answer["type"].as_str() {
            Some("sent") => acked.push(frame["message_id"].as_str().unwrap().to_string()),
            _ => assert_eq!(answer["code"], "internal", "{answer}"),
        }
    }
    assert_eq!(health(&hub.url).await.0, 503, "the disk is still full");

    // The space comes back: the hub finds out by itself and stores again.
    let filler = Path::new("/proc")
        .join(hub.child.id().to_string())
        .join("root")
        .join(disk.strip_prefix("/").unwrap())
        .join("filler");
    std::fs::remove_file(&filler).unwrap();
    let body = health_becomes(&hub, 200).await;
    assert_eq!(body["status"], "ok", "{body}");
    assert!(metrics(&hub.url)
        .await
        .contains("huddle_hub_store_failing 0"));
    for i in 0..5 {
        req += 1;
        let answer = ana.request(message(&format!("after-{i}"), req)).await;
        assert_eq!(answer["type"], "sent", "{answer}");
        acked.push(format!("after-{i}"));
    }

    // Ben heard exactly the acknowledged messages, in order (his client checks that event
    // numbers come without a gap or a repeat), and a fresh snapshot holds the same.
    let mut heard = Vec::new();
    while heard.len() < acked.len() {
        let event = ben.wait_for("a message", |v| v["event"] == "message").await;
        heard.push(event["message"]["id"].as_str().unwrap().to_string());
    }
    assert_eq!(heard, acked);
    let stored: Vec<String> = ben
        .snapshot_texts()
        .await
        .iter()
        .filter_map(|text| text.split(' ').next().map(str::to_string))
        .collect();
    assert_eq!(stored, acked);
}
