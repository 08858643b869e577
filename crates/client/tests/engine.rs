//! Two engines against a real hub: conversation, the outbox across a hub restart, and an
//! engine restarted with a full outbox.

use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;

use huddle_client::cache::Delivery;
use huddle_client::{ConnectionState, Credential, Engine, EngineEvent};
use huddle_hub::{accounts, Config, RunningHub};
use huddle_protocol::SessionState;
use tokio::sync::broadcast::Receiver;

const DEADLINE: Duration = Duration::from_secs(20);

async fn provision(db: &Path) {
    let pool = huddle_hub::store::open(db).await.unwrap();
    accounts::add(&pool, "ana", "Ana Lima", "ana-password")
        .await
        .unwrap();
    accounts::add(&pool, "ben", "Ben Okafor", "ben-password")
        .await
        .unwrap();
    pool.close().await;
}

async fn start_hub(db: &Path, listen: SocketAddr) -> RunningHub {
    let config = Config {
        listen,
        database: db.to_path_buf(),
        ..Config::default()
    };
    huddle_hub::start(config).await.unwrap()
}

async fn sign_in(hub: &str, login: &str, data: &Path) -> Engine {
    let (engine, _token) = Engine::sign_in(
        hub,
        login,
        Credential::Password(format!("{login}-password")),
        data,
    )
    .await
    .unwrap();
    engine
}

/// Waits for the first event that `pick` maps to something.
async fn wait_for<T>(
    events: &mut Receiver<EngineEvent>,
    what: &str,
    pick: impl Fn(&EngineEvent) -> Option<T>,
) -> T {
    let found = tokio::time::timeout(DEADLINE, async {
        loop {
            match events.recv().await {
                Ok(event) => {
                    if let Some(found) = pick(&event) {
                        return found;
                    }
                }
                Err(e) => panic!("event stream failed: {e}"),
            }
        }
    })
    .await;
    found.unwrap_or_else(|_| panic!("never saw {what}"))
}

async fn state(events: &mut Receiver<EngineEvent>, want: fn(&ConnectionState) -> bool, what: &str) {
    wait_for(events, what, |e| match e {
        EngineEvent::Connection(s) if want(s) => Some(()),
        _ => None,
    })
    .await
}

async fn message_text(events: &mut Receiver<EngineEvent>, text: &str) -> i64 {
    wait_for(events, text, |e| match e {
        EngineEvent::Message(m) if m.text == text && m.delivery == Delivery::Sent => m.seq,
        _ => None,
    })
    .await
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
        EngineEvent::Session(s) if s.id == session.id => Some(s.clone()),
        _ => None,
    })
    .await;
    assert_eq!(invited.inviter.display_name, "Ana Lima");
    ben.accept(&session.id).await.unwrap();
    wait_for(&mut ana_events, "connected", |e| match e {
        EngineEvent::Session(s) if s.state == SessionState::Connected => Some(()),
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
    state(
        &mut ana_events,
        |s| matches!(s, ConnectionState::Offline { .. }),
        "offline",
    )
    .await;
    ana.send_message(&session.id, "are you still there?")
        .await
        .unwrap();
    ana.send_message(&session.id, "second while offline")
        .await
        .unwrap();
    let outbox = ana.cache().pending().await.unwrap();
    assert_eq!(outbox.len(), 2, "kept in the outbox");

    let hub = start_hub(&db, addr).await;
    state(
        &mut ana_events,
        |s| *s == ConnectionState::Online,
        "back online",
    )
    .await;
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
    state(
        &mut ana_events,
        |s| matches!(s, ConnectionState::Offline { .. }),
        "offline",
    )
    .await;
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
