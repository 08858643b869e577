//! Two engines against a real hub: conversation, the outbox across a hub restart, and an
//! engine restarted with a full outbox.

use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;

mod common;

use common::{sign_in, wait_for, DEADLINE};
use huddle_client::cache::Delivery;
use huddle_client::{ConnectionState, Credential, Engine, EngineEvent, SessionStatus};
use huddle_hub::{accounts, Config, RunningHub};
use tokio::sync::broadcast::Receiver;

async fn provision(db: &Path) {
    let pool = huddle_hub::store::open(db).await.unwrap();
    accounts::add(&pool.clone().into(), "ana", "Ana Lima", "ana-password")
        .await
        .unwrap();
    accounts::add(&pool.clone().into(), "ben", "Ben Okafor", "ben-password")
        .await
        .unwrap();
    pool.close().await;
}

async fn start_hub(db: &Path, listen: SocketAddr) -> RunningHub {
    start_tuned_hub(db, listen, |_| {}).await
}

async fn start_tuned_hub(
    db: &Path,
    listen: SocketAddr,
    tune: impl FnOnce(&mut Config),
) -> RunningHub {
    let mut config = Config {
        listen,
        database: db.to_path_buf(),
        ..Config::default()
    };
    tune(&mut config);
    huddle_hub::start(config).await.unwrap()
}

async fn state(events: &mut Receiver<EngineEvent>, want: fn(&ConnectionState) -> bool, what: &str) {
    wait_for(events, what, |e| match e {
        EngineEvent::Connection(s) if want(s) => Some(()),
        _ => None,
    })
    .await
}

async fn offline(events: &mut Receiver<EngineEvent>) {
    state(
        events,
        |s| matches!(s, ConnectionState::Offline { .. }),
        "offline",
    )
    .await
}

async fn online(events: &mut Receiver<EngineEvent>, what: &str) {
    state(events, |s| *s == ConnectionState::Online, what).await
}

async fn message_text(events: &mut Receiver<EngineEvent>, text: &str) -> i64 {
    wait_for(events, text, |e| match e {
        EngineEvent::Message(m) if m.text == text && m.delivery == Delivery::Sent => m.seq,
        _ => None,
    })
    .await
}

/// Ana invites Ben, who accepts; returns the session once Ana sees it connected.
async fn connect(
    ana: &Engine,
    ben: &Engine,
    ana_events: &mut Receiver<EngineEvent>,
    ben_events: &mut Receiver<EngineEvent>,
) -> huddle_protocol::SessionInfo {
    let session = ana.invite(ben.agent().id, None, None).await.unwrap();
    wait_for(ben_events, "the invitation", |e| match e {
        EngineEvent::Session(s) if s.info.id == session.id => Some(()),
        _ => None,
    })
    .await;
    ben.accept(&session.id).await.unwrap();
    wait_for(ana_events, "connected", |e| match e {
        EngineEvent::Session(s) if s.status == SessionStatus::Connected => Some(()),
        _ => None,
    })
    .await;
    session
}

#[tokio::test]
async fn two_engines_converse_and_an_offline_message_arrives_once_after_the_hub_returns() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("hub.db");
    provision(&db).await;
    let hub = start_hub(&db, "127.0.0.1:0".parse().unwrap()).await;
    let addr = hub.addr;
    let address = addr.to_string();

    let ana = sign_in(&address, "ana", &dir.path().join("ana")).await;
    let ben = sign_in(&address, "ben", &dir.path().join("ben")).await;
    let (mut ana_events, mut ben_events) = (ana.subscribe(), ben.subscribe());

    let session = ana.invite(ben.agent().id, None, None).await.unwrap();
    let invited = wait_for(&mut ben_events, "the invitation", |e| match e {
        EngineEvent::Session(s) if s.info.id == session.id => Some(s.info.clone()),
        _ => None,
    })
    .await;
    assert_eq!(invited.inviter.display_name, "Ana Lima");
    ben.accept(&session.id).await.unwrap();
    wait_for(&mut ana_events, "connected", |e| match e {
        EngineEvent::Session(s) if s.status == SessionStatus::Connected => Some(()),
        _ => None,
    })
    .await;

    let pending = ana.send_message(&session.id, "hello Ben").await.unwrap();
    assert_eq!(
        pending.delivery,
        Delivery::Pending,
        "shown at once, as pending"
    );
    assert_eq!(message_text(&mut ben_events, "hello Ben").await, 1);
    ben.send_message(&session.id, "hi Ana").await.unwrap();
    assert_eq!(message_text(&mut ana_events, "hi Ana").await, 2);

    // The hub goes away; Ana types on.
    hub.stop().await.unwrap();
    offline(&mut ana_events).await;
    ana.send_message(&session.id, "are you still there?")
        .await
        .unwrap();
    ana.send_message(&session.id, "second while offline")
        .await
        .unwrap();
    let outbox = ana.cache().pending().await.unwrap();
    assert_eq!(outbox.len(), 2, "kept in the outbox");

    let hub = start_hub(&db, addr).await;
    online(&mut ana_events, "back online").await;
    assert_eq!(
        message_text(&mut ben_events, "are you still there?").await,
        3
    );
    assert_eq!(
        message_text(&mut ben_events, "second while offline").await,
        4
    );
    assert!(ana.cache().pending().await.unwrap().is_empty());

    let transcript = ben.cache().transcript(&session.id).await.unwrap();
    let texts: Vec<_> = transcript.iter().map(|m| m.text.as_str()).collect();
    assert_eq!(
        texts,
        [
            "hello Ben",
            "hi Ana",
            "are you still there?",
            "second while offline"
        ],
        "once each, in order"
    );
    hub.stop().await.unwrap();
}

/// A loopback port nothing listens on (for now).
fn free_port() -> SocketAddr {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap()
}

#[tokio::test]
async fn an_engine_given_several_addresses_follows_the_hub_to_the_node_that_answers() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("hub.db");
    provision(&db).await;
    let (node_a, node_b) = (free_port(), free_port());
    let hub = start_hub(&db, node_a).await;
    // Ana's app knows both nodes; Ben's only the first.
    let both = format!("{node_a}, {node_b}");
    let ana = sign_in(&both, "ana", &dir.path().join("ana")).await;
    let ben = sign_in(&node_a.to_string(), "ben", &dir.path().join("ben")).await;
    let (mut ana_events, mut ben_events) = (ana.subscribe(), ben.subscribe());
    let session = ana.invite(ben.agent().id, None, None).await.unwrap();
    wait_for(&mut ben_events, "the invitation", |e| match e {
        EngineEvent::Session(s) if s.info.id == session.id => Some(()),
        _ => None,
    })
    .await;
    ben.accept(&session.id).await.unwrap();
    ana.send_message(&session.id, "before the node went")
        .await
        .unwrap();
    assert_eq!(
        message_text(&mut ben_events, "before the node went").await,
        1
    );

    // The first node goes; the hub's data is served by the second.
    hub.stop().await.unwrap();
    offline(&mut ana_events).await;
    ana.send_message(&session.id, "while no node answered")
        .await
        .unwrap();
    let hub = start_hub(&db, node_b).await;
    online(&mut ana_events, "online through the second node").await;
    // Ben, who knows the second node too now, sees what Ana sent, once and in order.
    drop(ben);
    let ben = sign_in(&node_b.to_string(), "ben", &dir.path().join("ben")).await;
    assert!(
        ben.caught_up(DEADLINE).await,
        "Ben never got the message sent while no node answered"
    );
    let transcript = ben.cache().transcript(&session.id).await.unwrap();
    let texts: Vec<_> = transcript.iter().map(|m| m.text.as_str()).collect();
    assert_eq!(texts, ["before the node went", "while no node answered"]);
    assert!(ana.cache().pending().await.unwrap().is_empty());
    hub.stop().await.unwrap();
}

#[tokio::test]
async fn a_session_the_restored_hub_never_had_ends_instead_of_staying_open() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("hub.db");
    provision(&db).await;
    let hub = start_hub(&db, "127.0.0.1:0".parse().unwrap()).await;
    let addr = hub.addr;
    let ana = sign_in(&addr.to_string(), "ana", &dir.path().join("ana")).await;
    let ben = sign_in(&addr.to_string(), "ben", &dir.path().join("ben")).await;
    // The backup knows both agents and their sign-ins, not the conversation that follows.
    let backup = dir.path().join("backup.db");
    huddle_hub::store::backup(&db, &backup).await.unwrap();
    let (mut ana_events, mut ben_events) = (ana.subscribe(), ben.subscribe());
    let session = connect(&ana, &ben, &mut ana_events, &mut ben_events).await;

    // The hub is restored from the backup, at the same address.
    hub.stop().await.unwrap();
    for file in ["hub.db-wal", "hub.db-shm"] {
        let _ = std::fs::remove_file(dir.path().join(file));
    }
    std::fs::copy(&backup, &db).unwrap();
    let hub = start_hub(&db, addr).await;
    // Ana's conversation is over, not open forever with messages that cannot be sent.
    wait_for(&mut ana_events, "the lost session ended", |e| match e {
        EngineEvent::Session(s) if s.info.id == session.id && s.ended() => Some(()),
        _ => None,
    })
    .await;
    assert!(ana.session(&session.id).is_some_and(|s| s.ended()));
    let cached = ana.cache().sessions().await.unwrap();
    assert!(cached
        .iter()
        .any(|s| s.id == session.id && s.state == huddle_protocol::SessionState::Ended));
    hub.stop().await.unwrap();
}

#[tokio::test]
async fn an_engine_restarted_with_a_full_outbox_sends_it_all() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("hub.db");
    provision(&db).await;
    let hub = start_hub(&db, "127.0.0.1:0".parse().unwrap()).await;
    let addr = hub.addr;
    let address = addr.to_string();
    let ana_dir = dir.path().join("ana");

    let ana = sign_in(&address, "ana", &ana_dir).await;
    let ben = sign_in(&address, "ben", &dir.path().join("ben")).await;
    let mut ben_events = ben.subscribe();
    let session = ana.invite(ben.agent().id, None, None).await.unwrap();
    ben.accept(&session.id).await.unwrap();
    let token = ana.token();

    hub.stop().await.unwrap();
    let mut ana_events = ana.subscribe();
    offline(&mut ana_events).await;
    for i in 0..5 {
        ana.send_message(&session.id, &format!("queued {i}"))
            .await
            .unwrap();
    }
    // The app goes away with its outbox full.
    ana.cache().close().await;
    drop(ana);

    let hub = start_hub(&db, addr).await;
    let (again, _) = Engine::sign_in(&address, "ana", Credential::Token(token), &ana_dir)
        .await
        .unwrap();
    for i in 0..5 {
        message_text(&mut ben_events, &format!("queued {i}")).await;
    }
    let texts: Vec<_> = ben
        .cache()
        .transcript(&session.id)
        .await
        .unwrap()
        .into_iter()
        .map(|m| m.text)
        .collect();
    assert_eq!(
        texts,
        (0..5).map(|i| format!("queued {i}")).collect::<Vec<_>>()
    );
    assert!(again.cache().pending().await.unwrap().is_empty());
    hub.stop().await.unwrap();
}

/// A hub on a runtime of its own, so that the test can take it down at once, as a crash
/// would: no close frames, the writer's open transaction rolled back.
struct CrashableHub {
    runtime: tokio::runtime::Runtime,
    addr: SocketAddr,
}

impl CrashableHub {
    fn start(db: &Path, listen: SocketAddr) -> Self {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap();
        let config = Config {
            listen,
            database: db.to_path_buf(),
            ..Config::default()
        };
        let hub = runtime.block_on(huddle_hub::start(config)).unwrap();
        let addr = hub.addr;
        // The handle stays with the runtime; it ends with it.
        runtime.spawn(async move {
            let _ = hub.wait().await;
        });
        Self { runtime, addr }
    }

    fn crash(self) {
        self.runtime.shutdown_background();
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_hub_crashing_mid_burst_loses_nothing_and_repeats_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("hub.db");
    provision(&db).await;
    let db_for_hub = db.clone();
    let hub = tokio::task::spawn_blocking(move || {
        CrashableHub::start(&db_for_hub, "127.0.0.1:0".parse().unwrap())
    })
    .await
    .unwrap();
    let addr = hub.addr;
    let address = addr.to_string();
    let ana = sign_in(&address, "ana", &dir.path().join("ana")).await;
    let ben = sign_in(&address, "ben", &dir.path().join("ben")).await;
    let mut ben_events = ben.subscribe();
    let session = ana.invite(ben.agent().id, None, None).await.unwrap();
    ben.accept(&session.id).await.unwrap();

    for i in 0..40 {
        ana.send_message(&session.id, &format!("burst {i}"))
            .await
            .unwrap();
    }
    // Crash while the outbox is being sent.
    message_text(&mut ben_events, "burst 5").await;
    tokio::task::spawn_blocking(move || hub.crash())
        .await
        .unwrap();

    let db_for_hub = db.clone();
    let hub = tokio::task::spawn_blocking(move || CrashableHub::start(&db_for_hub, addr))
        .await
        .unwrap();
    message_text(&mut ben_events, "burst 39").await;
    let texts: Vec<String> = ben
        .cache()
        .transcript(&session.id)
        .await
        .unwrap()
        .into_iter()
        .map(|m| m.text)
        .collect();
    assert_eq!(
        texts,
        (0..40).map(|i| format!("burst {i}")).collect::<Vec<_>>(),
        "each once, in order"
    );
    let seqs: Vec<Option<i64>> = ben
        .cache()
        .transcript(&session.id)
        .await
        .unwrap()
        .iter()
        .map(|m| m.seq)
        .collect();
    assert_eq!(
        seqs,
        (1..=40).map(Some).collect::<Vec<_>>(),
        "numbered by the hub without gaps"
    );
    // Ana's side settles too: every message acknowledged, the outbox empty.
    let settled = tokio::time::timeout(DEADLINE, async {
        while !ana.cache().pending().await.unwrap().is_empty() {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await;
    assert!(
        settled.is_ok(),
        "messages stayed in the outbox: {:?}",
        ana.cache().pending().await.unwrap()
    );
    tokio::task::spawn_blocking(move || hub.crash())
        .await
        .unwrap();
}

#[tokio::test]
async fn dropping_the_last_handle_stops_the_engine_and_closes_its_link() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("hub.db");
    provision(&db).await;
    let hub = huddle_hub::start(Config {
        listen: "127.0.0.1:0".parse().unwrap(),
        database: db,
        offline_grace_secs: 0,
        ..Config::default()
    })
    .await
    .unwrap();
    let address = hub.addr.to_string();
    let ana = sign_in(&address, "ana", &dir.path().join("ana")).await;
    let ben = sign_in(&address, "ben", &dir.path().join("ben")).await;
    let mut ben_events = ben.subscribe();
    let ana_id = ana.agent().id;
    // Ben's Team Communicator lists Ana: her presence reaches him.
    let listed = ben
        .search("ana", huddle_protocol::DirectoryFilter::All)
        .await
        .unwrap();
    assert!(listed.iter().any(|e| e.id == ana_id));
    drop(ana);
    wait_for(&mut ben_events, "ana offline", |e| match e {
        EngineEvent::Presence { agent_id, presence }
            if *agent_id == ana_id && *presence == huddle_protocol::Presence::Offline =>
        {
            Some(())
        }
        _ => None,
    })
    .await;
}

#[tokio::test]
async fn a_new_device_gets_the_whole_of_a_long_conversation_page_by_page() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("hub.db");
    provision(&db).await;
    let hub = start_tuned_hub(&db, "127.0.0.1:0".parse().unwrap(), |c| {
        c.limits.messages_per_second = 1000;
        c.limits.message_burst = 1000;
    })
    .await;
    let address = hub.addr.to_string();
    let ana = sign_in(&address, "ana", &dir.path().join("ana")).await;
    let ben = sign_in(&address, "ben", &dir.path().join("ben")).await;
    let (mut ana_events, mut ben_events) = (ana.subscribe(), ben.subscribe());
    let session = connect(&ana, &ben, &mut ana_events, &mut ben_events).await;
    // More than a snapshot carries (the hub sends the latest 200 of a session).
    for i in 1..=450 {
        ana.send_message(&session.id, &format!("line {i}"))
            .await
            .unwrap();
    }
    assert_eq!(message_text(&mut ben_events, "line 450").await, 450);

    // Ben signs in on another machine: its cache is empty, the hub sends a snapshot, and the
    // engine pages back through the rest.
    let elsewhere = sign_in(&address, "ben", &dir.path().join("ben-elsewhere")).await;
    let transcript = elsewhere.cache().transcript(&session.id).await.unwrap();
    let seqs: Vec<i64> = transcript.iter().filter_map(|m| m.seq).collect();
    assert_eq!(seqs, (1..=450).collect::<Vec<_>>());
    assert_eq!(transcript[0].text, "line 1");
}
