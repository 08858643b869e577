//! Several hub nodes serving one PostgreSQL database, each test with a real PostgreSQL
//! server and three nodes: agents on different nodes converse and see one another's
//! presence, invitation time-outs race answers across nodes, a node killed in a burst loses
//! no acknowledged message, and a node that missed what happened (stopped, or its
//! notifications cut) catches up from the tables.

mod common;

use std::time::Duration;

use common::process::{hub_command, spawn_serving, HubProcess};
use common::{connected, invite, Client, DEADLINE};
use huddle_hub::http_client::HttpClient;
use huddle_hub::{Config, RunningHub};
use serde_json::json;

/// A database with the three test agents, and how to start nodes on it.
struct Cluster {
    dir: tempfile::TempDir,
    config: Config,
}

impl Cluster {
    async fn new(tune: impl FnOnce(&mut Config)) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let url = common::postgres_for(&dir.path().join("hub.db"));
        let mut config = Config {
            listen: "127.0.0.1:0".parse().unwrap(),
            postgres: Some(huddle_hub::config::Secret::new(url)),
            node_timeout_secs: 2,
            offline_grace_secs: 1,
            ..Config::default()
        };
        config.limits.messages_per_second = 1000;
        config.limits.message_burst = 1000;
        tune(&mut config);
        common::add_agents(&config).await;
        Self { dir, config }
    }

    /// Three nodes in this process.
    async fn three_nodes(&self) -> (RunningHub, RunningHub, RunningHub) {
        (self.node().await, self.node().await, self.node().await)
    }

    /// A node in this process.
    async fn node(&self) -> RunningHub {
        huddle_hub::start(self.config.clone()).await.unwrap()
    }

    /// A node as a process of its own, to be killed.
    fn process(&self) -> HubProcess {
        let mut command = hub_command(&self.dir.path().join("hub.db"));
        command
            .env(
                "HUDDLE_HUB_POSTGRES",
                self.config.postgres.as_ref().unwrap().expose(),
            )
            .env(
                "HUDDLE_HUB_NODE_TIMEOUT_SECS",
                self.config.node_timeout_secs.to_string(),
            )
            .env(
                "HUDDLE_HUB_OFFLINE_GRACE_SECS",
                self.config.offline_grace_secs.to_string(),
            )
            .args(["serve", "--listen", "127.0.0.1:0"]);
        spawn_serving(command)
    }
}

fn presence_of(v: &serde_json::Value, agent: i64, presence: &str) -> bool {
    v["type"] == "presence" && v["agent_id"] == agent && v["presence"] == presence
}

async fn send(client: &mut Client, session: &str, id: &str, text: &str) -> serde_json::Value {
    client
        .request(json!({"type": "send", "session_id": session, "message_id": id, "text": text}))
        .await
}

/// Resumes `old`'s agent on the node at `url` from the last event `old` received.
async fn resume_at(url: &str, old: &Client) -> Client {
    let mut client = Client::connect(url).await;
    client.seq = old.seq;
    let resumed = client
        .request(json!({"type": "resume", "token": old.token, "last_seq": old.seq, "history": old.history}))
        .await;
    assert_eq!(resumed["type"], "resumed", "{resumed}");
    assert_eq!(resumed["resync_required"], false, "{resumed}");
    client.id = old.id;
    client.token = old.token.clone();
    client.history = old.history.clone();
    client
}

#[tokio::test]
async fn agents_on_three_nodes_converse_and_see_each_others_presence() {
    let cluster = Cluster::new(|_| {}).await;
    let (a, b, c) = cluster.three_nodes().await;
    let mut ana = Client::login_at(&a.ws_url(), "ana").await;
    let mut ben = Client::login_at(&b.ws_url(), "ben").await;
    let mut cho = Client::login_at(&c.ws_url(), "cho").await;

    // Presence across nodes: each sees the others online, and a change made on one node.
    let seen = ana.follow(&[ben.id, cho.id]).await;
    assert_eq!(seen[0]["presence"], "ready", "{seen}");
    assert_eq!(seen[1]["presence"], "ready", "{seen}");
    cho.follow(&[ana.id, ben.id]).await;
    let chosen = ben
        .request(json!({"type": "set_presence", "presence": "busy"}))
        .await;
    assert_eq!(chosen["type"], "ok", "{chosen}");
    let id = ben.id;
    ana.wait_for("ben busy", |v| presence_of(v, id, "busy"))
        .await;
    cho.wait_for("ben busy", |v| presence_of(v, id, "busy"))
        .await;

    // A second device of Ben's, on the third node, hears everything Ben's first one does.
    let mut ben_on_c = Client::login_at(&c.ws_url(), "ben").await;
    ben_on_c.follow(&[ana.id]).await;
    ben.follow(&[cho.id]).await;

    // Invitation, answer and conversation across nodes.
    connected(&mut ana, &mut ben, "s-1").await;
    ben_on_c.session_event("s-1", "connected").await;
    for i in 0..20 {
        let (from, id) = if i % 2 == 0 {
            (&mut ana, "a")
        } else {
            (&mut ben, "b")
        };
        let reply = send(from, "s-1", &format!("{id}-{i}"), &format!("message {i}")).await;
        assert_eq!(reply["type"], "sent", "{reply}");
    }
    // Every message reaches each device once and in order (the test client refuses a gap
    // or a repeat in an agent's events).
    for i in 0..20 {
        let id = format!("{}-{i}", if i % 2 == 0 { "a" } else { "b" });
        ana.message_event(&id).await;
        ben.message_event(&id).await;
        ben_on_c.message_event(&id).await;
    }
    let ended = ben
        .request(json!({"type": "end", "session_id": "s-1"}))
        .await;
    assert_eq!(ended["type"], "ok", "{ended}");
    ana.session_event("s-1", "ended").await;
    ben_on_c.session_event("s-1", "ended").await;

    // Ana leaves; after the grace period the others see her offline, on their own nodes.
    let ana_id = ana.id;
    drop(ana);
    cho.wait_for("ana offline", |v| presence_of(v, ana_id, "offline"))
        .await;
    ben_on_c
        .wait_for("ana offline", |v| presence_of(v, ana_id, "offline"))
        .await;

    // A node that stops takes its agents offline for the others at once.
    let cho_id = cho.id;
    c.stop().await.unwrap();
    let mut ben_on_b = ben;
    ben_on_b
        .wait_for("cho offline", |v| presence_of(v, cho_id, "offline"))
        .await;
    a.stop().await.unwrap();
    b.stop().await.unwrap();
}

#[tokio::test]
async fn each_invitation_times_out_once_while_nodes_race_to_answer_it() {
    let cluster = Cluster::new(|c| c.invite_timeout_secs = 1).await;
    let (a, b, c) = cluster.three_nodes().await;
    let mut ana = Client::login_at(&a.ws_url(), "ana").await;
    let mut ben = Client::login_at(&b.ws_url(), "ben").await;
    let mut ben_on_c = Client::login_at(&c.ws_url(), "ben").await;

    let sessions: Vec<String> = (0..8).map(|i| format!("race-{i}")).collect();
    for id in &sessions {
        let reply = invite(&mut ana, id, ben.id).await;
        assert_eq!(reply["type"], "session", "{reply}");
    }
    for id in &sessions {
        ben.session_event(id, "inviting").await;
        ben_on_c.session_event(id, "inviting").await;
    }
    // Ben answers half of them from two nodes at once, close to the time-out.
    tokio::time::sleep(Duration::from_millis(900)).await;
    for (i, id) in sessions.iter().enumerate() {
        let (device, kind) = match i % 4 {
            0 => (&mut ben, "accept"),
            1 => (&mut ben_on_c, "accept"),
            2 => (&mut ben_on_c, "reject"),
            _ => continue,
        };
        device
            .send_raw(tokio_tungstenite::tungstenite::Message::Text(
                json!({"req": 500 + i, "type": kind, "session_id": id})
                    .to_string()
                    .into(),
            ))
            .await;
    }
    // Each invitation ends exactly one way for Ana: the test client refuses a repeated or
    // missing event number, and a second outcome would be a second event for the session.
    let mut outcomes = Vec::new();
    for id in &sessions {
        let event = ana
            .wait_for(&format!("the outcome of {id}"), |v| {
                v["event"] == "session"
                    && v["session"]["id"] == id.as_str()
                    && v["session"]["state"] != "inviting"
            })
            .await;
        let state = event["session"]["state"].as_str().unwrap().to_string();
        let reason = event["session"]["end"]["reason"]
            .as_str()
            .unwrap_or("")
            .to_string();
        if state == "connected" {
            // A connected session may still be ended later; never timed out.
            assert!(
                !ana.inbox.iter().any(|v| v["session"]["id"] == id.as_str()
                    && v["session"]["end"]["reason"] == "timed_out"),
                "{id} connected and timed out"
            );
        }
        outcomes.push((id.clone(), state, reason));
    }
    let timed_out = outcomes.iter().filter(|o| o.2 == "timed_out").count();
    assert!(timed_out >= 2, "the unanswered ones time out: {outcomes:?}");
    // Nothing more comes for these sessions: one outcome each.
    let ping = ana.request(json!({"type": "snapshot"})).await;
    assert_eq!(ping["type"], "snapshot");
    for (id, state, _) in &outcomes {
        let later: Vec<_> = ana
            .inbox
            .iter()
            .filter(|v| {
                v["session"]["id"] == id.as_str()
                    && v["session"]["state"] != "inviting"
                    && v["session"]["state"] != *state
            })
            .collect();
        assert!(later.is_empty(), "{id} changed again: {later:?}");
    }

    // The node holding the timers stops; another takes them over.
    a.stop().await.unwrap();
    let mut ana = Client::login_at(&b.ws_url(), "ana").await;
    let reply = invite(&mut ana, "after-a", ben.id).await;
    assert_eq!(reply["type"], "session", "{reply}");
    ben_on_c.session_event("after-a", "inviting").await;
    let ended = ben_on_c.session_event("after-a", "ended").await;
    assert_eq!(ended["session"]["end"]["reason"], "timed_out", "{ended}");
    c.stop().await.unwrap();
    let mut ana_b = ana;
    let reply = invite(&mut ana_b, "after-c", ben.id).await;
    assert_eq!(reply["type"], "session", "{reply}");
    let ended = ben.session_event("after-c", "ended").await;
    assert_eq!(ended["session"]["end"]["reason"], "timed_out", "{ended}");
    b.stop().await.unwrap();
}

#[tokio::test]
async fn a_node_killed_in_a_burst_loses_no_acknowledged_message() {
    let cluster = Cluster::new(|_| {}).await;
    let mut doomed = cluster.process();
    let second = cluster.process();
    let third = cluster.process();
    let mut ana = Client::login_at(&doomed.url, "ana").await;
    let mut ben = Client::login_at(&second.url, "ben").await;
    let mut cho = Client::login_at(&third.url, "cho").await;
    cho.follow(&[ana.id]).await;
    connected(&mut ana, &mut ben, "s-1").await;

    // A burst from Ana on the doomed node: some acknowledged, more on the wire when it dies.
    let mut acked = Vec::new();
    for i in 0..30 {
        let reply = send(&mut ana, "s-1", &format!("m-{i}"), &format!("message {i}")).await;
        assert_eq!(reply["type"], "sent", "{reply}");
        acked.push(format!("m-{i}"));
    }
    for i in 30..60 {
        ana.send_raw(tokio_tungstenite::tungstenite::Message::Text(
            json!({"req": 1000 + i, "type": "send", "session_id": "s-1", "message_id": format!("m-{i}"), "text": format!("message {i}")})
                .to_string()
                .into(),
        ))
        .await;
    }
    doomed.child.kill().unwrap(); // SIGKILL
    doomed.child.wait().unwrap();
    drop(doomed);

    // Ben, on a live node, gets every acknowledged message once and in order.
    for id in &acked {
        ben.message_event(id).await;
    }
    // The dead node's agents show offline once the others notice its silence.
    let ana_id = ana.id;
    cho.wait_for("ana offline after her node died", |v| {
        presence_of(v, ana_id, "offline")
    })
    .await;

    // Ana comes back on another node, resumes where she was, and sends everything again.
    let mut ana2 = resume_at(&third.url, &ana).await;
    cho.wait_for("ana back", |v| presence_of(v, ana_id, "ready"))
        .await;
    for i in 0..60 {
        let reply = send(&mut ana2, "s-1", &format!("m-{i}"), &format!("message {i}")).await;
        assert_eq!(reply["type"], "sent", "{reply}");
        assert_eq!(reply["message"]["text"], format!("message {i}"));
    }
    for i in 30..60 {
        ben.message_event(&format!("m-{i}")).await;
    }
    let snapshot = ben.request(json!({"type": "snapshot"})).await;
    let messages = snapshot["sessions"][0]["messages"].as_array().unwrap();
    let ids: Vec<&str> = messages.iter().map(|m| m["id"].as_str().unwrap()).collect();
    let expected: Vec<String> = (0..60).map(|i| format!("m-{i}")).collect();
    let mut sorted = ids.clone();
    sorted.sort_by_key(|id| id[2..].parse::<u32>().unwrap());
    assert_eq!(sorted, expected, "each message once");
    let seqs: Vec<i64> = messages
        .iter()
        .map(|m| m["seq"].as_i64().unwrap())
        .collect();
    assert_eq!(seqs, (1..=60).collect::<Vec<_>>(), "numbered without gaps");
}

#[tokio::test]
async fn a_node_that_missed_what_happened_catches_up_from_the_tables() {
    let cluster = Cluster::new(|_| {}).await;
    let a = cluster.node().await;
    let b = cluster.node().await;
    let mut ana = Client::login_at(&a.ws_url(), "ana").await;
    let mut ben = Client::login_at(&b.ws_url(), "ben").await;
    ben.follow(&[ana.id]).await;
    connected(&mut ana, &mut ben, "s-1").await;

    // Node B's notifications are cut: PostgreSQL ends its listening connection while Ana
    // writes and changes her presence on node A.
    let store = huddle_hub::store::open_configured(&cluster.config)
        .await
        .unwrap();
    let cut: i64 = store
        .value(huddle_hub::store::sql::Statement::new(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
              WHERE query LIKE 'LISTEN%' AND pid <> pg_backend_pid()",
            Vec::new(),
        ))
        .await
        .unwrap();
    assert!(cut >= 2, "both nodes listen: {cut}");
    for i in 0..10 {
        let reply = send(&mut ana, "s-1", &format!("cut-{i}"), "while cut").await;
        assert_eq!(reply["type"], "sent", "{reply}");
    }
    let chosen = ana
        .request(json!({"type": "set_presence", "presence": "away"}))
        .await;
    assert_eq!(chosen["type"], "ok", "{chosen}");
    for i in 0..10 {
        ben.message_event(&format!("cut-{i}")).await;
    }
    let ana_id = ana.id;
    ben.wait_for("ana away", |v| presence_of(v, ana_id, "away"))
        .await;

    // Node B stops; meanwhile Ana writes on; B starts again with nothing in memory, and Ben
    // resumes there without a gap or a repeat.
    b.stop().await.unwrap();
    for i in 0..5 {
        let reply = send(&mut ana, "s-1", &format!("away-{i}"), "while b was down").await;
        assert_eq!(reply["type"], "sent", "{reply}");
    }
    let chosen = ana
        .request(json!({"type": "set_presence", "presence": "not_ready"}))
        .await;
    assert_eq!(chosen["type"], "ok", "{chosen}");
    let b = cluster.node().await;
    let mut ben = resume_at(&b.ws_url(), &ben).await;
    for i in 0..5 {
        ben.message_event(&format!("away-{i}")).await;
    }
    let seen = ben.follow(&[ana_id]).await;
    assert_eq!(seen[0]["presence"], "not_ready", "{seen}");
    let reply = send(&mut ben, "s-1", "back", "back on b").await;
    assert_eq!(reply["type"], "sent", "{reply}");
    ana.message_event("back").await;
    store.close().await;
    a.stop().await.unwrap();
    b.stop().await.unwrap();
}

#[tokio::test]
async fn the_nodes_report_themselves_in_metrics() {
    let cluster = Cluster::new(|_| {}).await;
    let (a, b) = (cluster.node().await, cluster.node().await);
    let mut ana = Client::login_at(&a.ws_url(), "ana").await;
    let mut ben = Client::login_at(&b.ws_url(), "ben").await;
    connected(&mut ana, &mut ben, "s-1").await;
    let deadline = tokio::time::Instant::now() + DEADLINE;
    let mut texts = Vec::new();
    loop {
        texts.clear();
        for node in [&a, &b] {
            let http = HttpClient::new(&format!("http://{}", node.addr)).unwrap();
            let metrics = http.send("GET", "/metrics", None, None).await.unwrap();
            texts.push(String::from_utf8(metrics.body).unwrap());
        }
        let timers: usize = texts
            .iter()
            .filter(|t| t.contains("huddle_hub_node_timers 1\n"))
            .count();
        if timers == 1 && texts.iter().any(|t| t.contains("huddle_hub_nodes 2\n")) {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "one node holds the timers and counts two: {texts:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    for text in &texts {
        assert!(
            text.contains("huddle_hub_node_delivery_seconds_count "),
            "{text}"
        );
    }
    a.stop().await.unwrap();
    b.stop().await.unwrap();
}

#[tokio::test]
async fn a_node_of_the_previous_version_starts_on_a_schema_a_newer_node_brought_further() {
    let cluster = Cluster::new(|_| {}).await;
    let store = huddle_hub::store::open_configured(&cluster.config)
        .await
        .unwrap();
    // What a newer node's migration leaves: a table this version does not know, and its
    // record among the applied migrations.
    for sql in [
        "CREATE TABLE from_a_newer_version (id BIGINT PRIMARY KEY)",
        "INSERT INTO _sqlx_migrations (version, description, success, checksum, execution_time)
         VALUES (99990101000000, 'from a newer version', true, '\\x00', 1)",
    ] {
        store
            .execute(huddle_hub::store::sql::Statement::new(sql, Vec::new()))
            .await
            .unwrap();
    }
    store.close().await;
    let node = cluster.node().await;
    let mut ana = Client::login_at(&node.ws_url(), "ana").await;
    let mut ben = Client::login_at(&node.ws_url(), "ben").await;
    connected(&mut ana, &mut ben, "s-1").await;
    node.stop().await.unwrap();
}
