//! The real `huddle-hub` binary as administrators run it: killed with SIGKILL in the middle
//! of a conversation and started again on the same database (every acknowledged message is
//! there, once), its logs, its backups, and TLS with a certificate renewed while it serves.

mod common;

use std::path::Path;
use std::process::Command;

use common::process::{add_agent, hub_command, self_signed, serve, serve_args, serve_with};
use common::{connected, Client};
use huddle_hub::http_client::HttpClient;
use serde_json::json;

async fn login(url: &str, login: &str) -> Client {
    Client::login_at(url, login).await
}

#[tokio::test]
async fn a_killed_hub_loses_no_acknowledged_message_and_replays_each_once() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("hub.db");
    add_agent(&db, "ana");
    add_agent(&db, "ben");

    let mut hub = serve(&db);
    let mut ana = login(&hub.url, "ana").await;
    let mut ben = login(&hub.url, "ben").await;
    connected(&mut ana, &mut ben, "s-1").await;
    let ben_held = ben.seq;

    // A burst: some acknowledged, then more on the wire when the hub dies.
    let mut acked = Vec::new();
    for i in 0..20 {
        let reply = ana
            .request(json!({"type": "send", "session_id": "s-1", "message_id": format!("m-{i}"), "text": format!("message {i}")}))
            .await;
        assert_eq!(reply["type"], "sent", "{reply}");
        acked.push(format!("m-{i}"));
    }
    for i in 20..30 {
        ana.send_raw(tokio_tungstenite::tungstenite::Message::Text(
            json!({"req": 1000 + i, "type": "send", "session_id": "s-1", "message_id": format!("m-{i}"), "text": format!("message {i}")})
                .to_string()
                .into(),
        ))
        .await;
    }
    hub.child.kill().unwrap(); // SIGKILL
    hub.child.wait().unwrap();
    drop(hub);

    let hub = serve(&db);
    // Ben comes back with what he held before the burst and gets every committed message
    // once, in order (the test client refuses gaps and repeats).
    let mut ben2 = Client::connect(&hub.url).await;
    ben2.seq = ben_held;
    let resumed = ben2
        .request(json!({"type": "resume", "token": ben.token, "last_seq": ben_held, "history": ben.history}))
        .await;
    assert_eq!(resumed["type"], "resumed", "{resumed}");
    let committed = resumed["seq"].as_i64().unwrap() - ben_held;
    assert!(
        committed >= acked.len() as i64,
        "{committed} events after restart"
    );
    for id in &acked {
        ben2.message_event(id).await;
    }

    // Ana retries everything; nothing is stored twice.
    let mut ana2 = Client::connect(&hub.url).await;
    ana2.seq = ana.seq;
    let resumed = ana2
        .request(json!({"type": "resume", "token": ana.token, "last_seq": ana.seq, "history": ana.history}))
        .await;
    assert_eq!(resumed["type"], "resumed", "{resumed}");
    ana2.inbox.clear();
    for i in 0..30 {
        let reply = ana2
            .request(json!({"type": "send", "session_id": "s-1", "message_id": format!("m-{i}"), "text": format!("message {i}")}))
            .await;
        assert_eq!(reply["type"], "sent", "{reply}");
        assert_eq!(reply["message"]["text"], format!("message {i}"));
    }
    let snapshot = ben2.request(json!({"type": "snapshot"})).await;
    let messages = snapshot["sessions"][0]["messages"].as_array().unwrap();
    let ids: Vec<&str> = messages.iter().map(|m| m["id"].as_str().unwrap()).collect();
    let mut unique = ids.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), 30, "each message once: {ids:?}");
    assert_eq!(ids.len(), 30);
    let seqs: Vec<i64> = messages
        .iter()
        .map(|m| m["seq"].as_i64().unwrap())
        .collect();
    assert_eq!(seqs, (1..=30).collect::<Vec<_>>(), "numbered without gaps");
}

#[tokio::test]
async fn the_log_holds_no_password_token_or_message_text_at_any_level() {
    for level in ["info", "trace"] {
        log_holds_no_secret(level).await;
    }
}

async fn log_holds_no_secret(level: &str) {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("hub.db");
    add_agent(&db, "ana");
    add_agent(&db, "ben");
    let integration_token = "the-integration-token-7g2k";
    let hub = serve_with(
        &db,
        &[
            ("HUDDLE_HUB_INTEGRATION_TOKEN", integration_token),
            ("HUDDLE_HUB_LOG", level),
        ],
    );
    let mut ana = login(&hub.url, "ana").await;
    let mut ben = login(&hub.url, "ben").await;
    let base = hub.url.replace("ws://", "http://").replace("/v1/ws", "");
    let api = HttpClient::new(&base).unwrap();
    let contact = json!({"first_name": "Maria", "last_name": "Souza"});
    for token in [integration_token, "a-guessed-integration-token"] {
        api.json("PUT", "/integration/v1/contacts/c-1", token, &contact)
            .await
            .unwrap();
    }
    let mut wrong = Client::connect(&hub.url).await;
    wrong
        .request(json!({"type": "login", "login": "ana", "password": "guessed-password"}))
        .await;
    connected(&mut ana, &mut ben, "s-1").await;
    ana.request(json!({"type": "send", "session_id": "s-1", "message_id": "m-1", "text": "the quokka phrase"}))
        .await;
    ben.message_event("m-1").await;
    let log = hub.log.lock().unwrap().clone();
    assert!(
        log.contains("agent logged in"),
        "the log is being read: {log}"
    );
    for secret in [
        "ana-password",
        "guessed-password",
        ana.token.as_str(),
        ben.token.as_str(),
        "4242",
        integration_token,
        "a-guessed-integration-token",
        "quokka",
    ] {
        assert!(
            !log.contains(secret),
            "at {level}, the log contains {secret:?}:\n{log}"
        );
    }
}

#[tokio::test]
async fn logs_can_be_json_lines() {
    let dir = tempfile::tempdir().unwrap();
    let hub = serve_with(
        &dir.path().join("hub.db"),
        &[("HUDDLE_HUB_LOG_FORMAT", "json")],
    );
    let log = hub.log.lock().unwrap().clone();
    let first = log.lines().next().expect("a log line");
    let line: serde_json::Value = serde_json::from_str(first).expect("a JSON line");
    assert_eq!(line["level"], "INFO", "{line}");
    assert!(line["fields"]["message"].is_string(), "{line}");
}

#[tokio::test]
async fn a_backup_taken_while_serving_restores_to_a_working_hub() {
    if common::on_postgres() {
        // Only for SQLite: `huddle-hub backup` copies the SQLite file; PostgreSQL has its own backups.
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("hub.db");
    add_agent(&db, "ana");
    add_agent(&db, "ben");
    let hub = serve(&db);
    let mut ana = login(&hub.url, "ana").await;
    let mut ben = login(&hub.url, "ben").await;
    connected(&mut ana, &mut ben, "s-1").await;
    for i in 0..5 {
        let reply = ana
            .request(json!({"type": "send", "session_id": "s-1", "message_id": format!("m-{i}"), "text": format!("before {i}")}))
            .await;
        assert_eq!(reply["type"], "sent", "{reply}");
    }

    // The backup runs beside the serving hub.
    let backup = dir.path().join("backup.db");
    let out = hub_command(&db)
        .arg("backup")
        .arg(&backup)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // A second backup to the same file is refused, and the first is left as it was.
    let size = std::fs::metadata(&backup).unwrap().len();
    let again = hub_command(&db)
        .arg("backup")
        .arg(&backup)
        .output()
        .unwrap();
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("already exists"));
    assert_eq!(std::fs::metadata(&backup).unwrap().len(), size);

    // What comes after the backup is not in it.
    let reply = ana
        .request(
            json!({"type": "send", "session_id": "s-1", "message_id": "m-late", "text": "after"}),
        )
        .await;
    assert_eq!(reply["type"], "sent", "{reply}");
    drop(hub);

    ben.message_event("m-late").await;

    // Restore: the backup becomes the database of a hub started on it.
    let restored = dir.path().join("restored.db");
    std::fs::copy(&backup, &restored).unwrap();
    let hub = serve(&restored);
    let mut ana = login(&hub.url, "ana").await;
    // The restored hub numbers Ben's events again past what his device held before.
    for i in 0..3 {
        let reply = ana
            .request(json!({"type": "send", "session_id": "s-1", "message_id": format!("r-{i}"), "text": format!("restored {i}")}))
            .await;
        assert_eq!(reply["type"], "sent", "{reply}");
    }
    // Ben's device holds numbers of the history before the restore: the hub does not trust
    // them, though they look in range, and has it take a snapshot.
    let mut again = Client::connect(&hub.url).await;
    let resumed = again
        .request(json!({"type": "resume", "token": ben.token, "last_seq": ben.seq, "history": ben.history}))
        .await;
    assert_eq!(resumed["type"], "resumed", "{resumed}");
    assert!(resumed["seq"].as_i64().unwrap() >= ben.seq, "{resumed}");
    assert_ne!(resumed["history"], json!(ben.history), "{resumed}");
    assert_eq!(resumed["resync_required"], true, "{resumed}");
    assert_eq!(
        again.snapshot_texts().await,
        [
            "before 0",
            "before 1",
            "before 2",
            "before 3",
            "before 4",
            "restored 0",
            "restored 1",
            "restored 2"
        ]
    );
}

/// Whether `https://localhost:<port>/healthz` answers when only `ca` is trusted.
async fn healthy_over_tls(port: &str, ca: &Path) -> bool {
    let client = HttpClient::with_ca_file(&format!("https://localhost:{port}"), Some(ca)).unwrap();
    matches!(client.send("GET", "/healthz", None, None).await, Ok(r) if r.status == 200)
}

#[tokio::test]
async fn serve_speaks_tls_from_files_and_reloads_them_on_sighup() {
    let dir = tempfile::tempdir().unwrap();
    let (old_ca, new_ca) = (dir.path().join("old.pem"), dir.path().join("new.pem"));
    std::fs::write(&old_ca, self_signed(dir.path())).unwrap();
    let (cert, key) = (dir.path().join("hub.crt"), dir.path().join("hub.key"));
    let hub = serve_args(
        &dir.path().join("hub.db"),
        &[
            "--tls-certificate",
            cert.to_str().unwrap(),
            "--tls-private-key",
            key.to_str().unwrap(),
        ],
        &[],
    );
    let port = hub
        .url
        .rsplit(':')
        .next()
        .unwrap()
        .trim_end_matches("/v1/ws");
    assert!(healthy_over_tls(port, &old_ca).await);
    let plain = HttpClient::new(&format!("http://localhost:{port}")).unwrap();
    assert!(
        !matches!(plain.send("GET", "/healthz", None, None).await, Ok(r) if r.status == 200),
        "plain HTTP is not served beside TLS"
    );

    std::fs::write(&new_ca, self_signed(dir.path())).unwrap();
    let hangup = Command::new("kill")
        .args(["-HUP", &hub.child.id().to_string()])
        .status()
        .unwrap();
    assert!(hangup.success());
    hub.wait_for_log("TLS certificate reloaded");
    assert!(healthy_over_tls(port, &new_ca).await);
    assert!(!healthy_over_tls(port, &old_ca).await);

    // A broken renewal keeps the certificate in use, and says why.
    std::fs::write(&key, "").unwrap();
    Command::new("kill")
        .args(["-HUP", &hub.child.id().to_string()])
        .status()
        .unwrap();
    hub.wait_for_log("TLS certificate not reloaded");
    assert!(healthy_over_tls(port, &new_ca).await);
}
