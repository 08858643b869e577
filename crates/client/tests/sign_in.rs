//! Every way the engine signs in (a password, a remembered token, a token that ended with
//! the remembered password behind it, a hub that cannot be reached yet) is one way of
//! connecting: each one hears invitations, messages and presence live, and after a restart of
//! the hub too.

use std::net::SocketAddr;
use std::path::Path;

mod common;

use common::wait_for;
use huddle_client::cache::Delivery;
use huddle_client::{
    ClientError, ConnectionState, Credential, EndCause, Engine, EngineEvent, Hub, Keychain,
    SavedSignInError, Secret, SessionStatus,
};
use huddle_hub::{accounts, Config, RunningHub};
use huddle_protocol::Presence;
use keyring_core::mock;
use tokio::sync::broadcast::Receiver;

/// How Ana's engine signs in.
#[derive(Debug, Clone, Copy)]
enum Mode {
    /// With her password, from the form.
    Password,
    /// By itself, with the token the keychain keeps.
    Token,
    /// By itself: the kept token has expired, the kept password signs her in.
    ExpiredToken,
}

const MODES: [Mode; 3] = [Mode::Password, Mode::Token, Mode::ExpiredToken];

struct World {
    dir: tempfile::TempDir,
    hub: Option<RunningHub>,
    addr: SocketAddr,
    keychain: Keychain,
}

impl World {
    async fn start() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let pool = huddle_hub::store::open(&dir.path().join("hub.db"))
            .await
            .unwrap();
        for (login, name) in [
            ("ana", "Ana Lima"),
            ("ben", "Ben Okafor"),
            ("cho", "Chloé Martin"),
        ] {
            accounts::add(
                &pool.clone().into(),
                login,
                name,
                &format!("{login}-password"),
            )
            .await
            .unwrap();
        }
        pool.close().await;
        let hub = serve(dir.path(), "127.0.0.1:0".parse().unwrap()).await;
        let addr = hub.addr;
        let store = mock::Store::new().unwrap();
        Self {
            dir,
            hub: Some(hub),
            addr,
            keychain: Keychain::with_store(store),
        }
    }

    fn hub(&self) -> Hub {
        Hub::new(self.addr.to_string())
    }

    fn data(&self, login: &str) -> std::path::PathBuf {
        self.dir.path().join(login)
    }

    async fn stop_hub(&mut self) {
        if let Some(hub) = self.hub.take() {
            hub.stop().await.unwrap();
        }
    }

    async fn start_hub(&mut self) {
        self.hub = Some(serve(self.dir.path(), self.addr).await);
    }

    /// A colleague signed in with a password, with a cache of their own.
    async fn colleague(&self, login: &str) -> Engine {
        let (engine, _) = Engine::sign_in_to(
            &self.hub(),
            login,
            Credential::Password(format!("{login}-password")),
            &self.data(login),
        )
        .await
        .unwrap();
        engine
    }

    /// Signs Ana in as `mode` says, as the app does each morning.
    async fn ana(&self, mode: Mode) -> Engine {
        let hub = self.hub();
        let remember = !matches!(mode, Mode::Password);
        let (first, kept) = Engine::sign_in_remembering(
            &hub,
            "ana",
            "ana-password",
            remember,
            &self.data("ana"),
            self.keychain.clone(),
        )
        .await
        .unwrap();
        assert!(kept.is_none(), "{kept:?}");
        if let Mode::Password = mode {
            return first;
        }
        // The app quits; the next start signs in by itself.
        drop(first);
        if let Mode::ExpiredToken = mode {
            self.expire_tokens().await;
        }
        let engine = Engine::sign_in_saved(&hub, "ana", &self.data("ana"), self.keychain.clone())
            .await
            .unwrap();
        if let Mode::ExpiredToken = mode {
            let kept = self.kept().await;
            assert_eq!(kept.token, engine.token(), "the new token is kept");
            assert_eq!(kept.password.as_deref(), Some("ana-password"));
        }
        engine
    }

    async fn kept(&self) -> Secret {
        self.keychain
            .load(&self.addr.to_string(), "ana")
            .await
            .unwrap()
            .expect("a kept sign-in")
    }

    async fn expire_tokens(&self) {
        let pool = huddle_hub::store::open(&self.dir.path().join("hub.db"))
            .await
            .unwrap();
        sqlx::query("UPDATE tokens SET expires_at = 0")
            .execute(&pool)
            .await
            .unwrap();
        pool.close().await;
    }
}

async fn serve(dir: &Path, listen: SocketAddr) -> RunningHub {
    let config = Config {
        listen,
        database: dir.join("hub.db"),
        offline_grace_secs: 0,
        ..Config::default()
    };
    huddle_hub::start(config).await.unwrap()
}

async fn status(events: &mut Receiver<EngineEvent>, session: &str, want: SessionStatus) {
    wait_for(events, &format!("{session} {want:?}"), |e| match e {
        EngineEvent::Session(s) if s.info.id == session && s.status == want => Some(()),
        _ => None,
    })
    .await
}

async fn message(events: &mut Receiver<EngineEvent>, text: &str) {
    wait_for(events, text, |e| match e {
        EngineEvent::Message(m) if m.text == text && m.delivery == Delivery::Sent => Some(()),
        _ => None,
    })
    .await
}

async fn presence(events: &mut Receiver<EngineEvent>, agent_id: i64, want: Presence) {
    wait_for(events, &format!("{agent_id} {want:?}"), |e| match e {
        EngineEvent::Presence {
            agent_id: a,
            presence,
        } if *a == agent_id && *presence == want => Some(()),
        _ => None,
    })
    .await
}

async fn online(events: &mut Receiver<EngineEvent>) {
    wait_for(events, "online", |e| match e {
        EngineEvent::Connection(ConnectionState::Online) => Some(()),
        _ => None,
    })
    .await
}

#[tokio::test(flavor = "multi_thread")]
async fn every_sign_in_hears_invitations_messages_and_presence_live() {
    for mode in MODES {
        let world = World::start().await;
        let ben = world.colleague("ben").await;
        let ana = world.ana(mode).await;
        let mut ana_events = ana.subscribe();
        let mut ben_events = ben.subscribe();

        // Ana's Team Communicator lists Ben: his presence reaches her as it changes.
        let listed = ana.search("ben", Default::default()).await.unwrap();
        assert_eq!(listed[0].presence, Some(Presence::Ready), "{mode:?}");
        ben.set_presence(Presence::Busy).await.unwrap();
        presence(&mut ana_events, ben.agent().id, Presence::Busy).await;

        // Ben invites Ana: she hears it at once, accepts, and they converse.
        let session = ben
            .invite(ana.agent().id, Some("a billing question"), None)
            .await
            .unwrap();
        status(&mut ana_events, &session.id, SessionStatus::Invited).await;
        assert_eq!(ana.invitations().len(), 1, "{mode:?}");
        ana.accept(&session.id).await.unwrap();
        status(&mut ben_events, &session.id, SessionStatus::Connected).await;
        ben.send(&session.id, "from Ben").await.unwrap();
        message(&mut ana_events, "from Ben").await;
        ana.send(&session.id, "from Ana").await.unwrap();
        message(&mut ben_events, "from Ana").await;

        // Ana invites Ben back: she hears his answer.
        let started = ana.start_im(ben.agent().id).await.unwrap();
        assert_eq!(
            started.info.id, session.id,
            "{mode:?}: the open IM, not a new one"
        );
        ben.end(&session.id).await.unwrap();
        let by = ben.agent().id;
        status(
            &mut ana_events,
            &session.id,
            SessionStatus::Ended(EndCause::EndedByOther { by }),
        )
        .await;
        let second = ana.start_im(ben.agent().id).await.unwrap();
        assert_ne!(second.info.id, session.id);
        status(&mut ben_events, &second.info.id, SessionStatus::Invited).await;
        ben.accept(&second.info.id).await.unwrap();
        status(&mut ana_events, &second.info.id, SessionStatus::Connected).await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn presence_is_right_again_after_the_hub_restarts_in_every_sign_in() {
    for mode in MODES {
        let mut world = World::start().await;
        let ana = world.ana(mode).await;
        let cho = world.colleague("cho").await;
        let cho_id = cho.agent().id;
        let mut events = ana.subscribe();
        ana.search("chlo", Default::default()).await.unwrap();

        // The hub restarts; Chloé is gone meanwhile, then signs in again and sets Away.
        drop(cho);
        world.stop_hub().await;
        world.start_hub().await;
        online(&mut events).await;
        let cho = world.colleague("cho").await;
        presence(&mut events, cho_id, Presence::Ready).await;
        cho.set_presence(Presence::Away).await.unwrap();
        presence(&mut events, cho_id, Presence::Away).await;
        drop(cho);
        presence(&mut events, cho_id, Presence::Offline).await;
    }
}

#[tokio::test]
async fn a_kept_sign_in_that_no_longer_works_is_forgotten_and_says_why() {
    let world = World::start().await;
    let (hub, data, keychain) = (world.hub(), world.data("ana"), world.keychain.clone());
    let nothing = Engine::sign_in_saved(&hub, "ana", &data, keychain.clone()).await;
    assert!(
        matches!(nothing, Err(SavedSignInError::NothingSaved)),
        "{nothing:?}"
    );

    // An ended token without a password: the agent must sign in again.
    let (engine, _) =
        Engine::sign_in_remembering(&hub, "ana", "ana-password", false, &data, keychain.clone())
            .await
            .unwrap();
    drop(engine);
    world.expire_tokens().await;
    let ended = Engine::sign_in_saved(&hub, "ana", &data, keychain.clone()).await;
    assert!(
        matches!(ended, Err(SavedSignInError::Ended(_))),
        "{ended:?}"
    );
    assert_eq!(keychain.load(&hub.address, "ana").await.unwrap(), None);

    // A kept password that was changed since: refused, and forgotten.
    let stale = Secret {
        token: "no-such-token".into(),
        password: Some("an-old-password".into()),
        proxy_password: None,
    };
    keychain.store(&hub.address, "ana", &stale).await.unwrap();
    let refused = Engine::sign_in_saved(&hub, "ana", &data, keychain.clone()).await;
    assert!(
        matches!(refused, Err(SavedSignInError::Failed(_))),
        "{refused:?}"
    );
    assert_eq!(keychain.load(&hub.address, "ana").await.unwrap(), None);
}

#[tokio::test]
async fn an_agent_signed_in_here_before_starts_offline_and_connects_when_the_hub_answers() {
    let mut world = World::start().await;
    let ana = world.ana(Mode::Token).await;
    drop(ana);
    world.stop_hub().await;

    // The hub is down when the app starts: the engine starts from the cache, offline.
    let ana = Engine::sign_in_saved(
        &world.hub(),
        "ana",
        &world.data("ana"),
        world.keychain.clone(),
    )
    .await
    .unwrap();
    assert!(
        matches!(ana.state(), ConnectionState::Offline { .. }),
        "{:?}",
        ana.state()
    );
    assert_eq!(ana.agent().login, "ana");
    let mut events = ana.subscribe();
    world.start_hub().await;
    online(&mut events).await;
    let ben = world.colleague("ben").await;
    let session = ben.invite(ana.agent().id, None, None).await.unwrap();
    status(&mut events, &session.id, SessionStatus::Invited).await;

    // An app that has never signed in here cannot start without the hub.
    world.stop_hub().await;
    let stranger = world.dir.path().join("elsewhere");
    let never = Engine::sign_in_saved(&world.hub(), "ana", &stranger, world.keychain.clone()).await;
    assert!(
        matches!(never, Err(SavedSignInError::Failed(_))),
        "{never:?}"
    );
}

#[tokio::test]
async fn an_invitation_abandoned_before_an_answer_is_missed_until_put_away() {
    let world = World::start().await;
    let ana = world.ana(Mode::Password).await;
    let ben = world.colleague("ben").await;
    let mut events = ana.subscribe();
    let session = ben
        .invite(ana.agent().id, Some("quick one"), None)
        .await
        .unwrap();
    status(&mut events, &session.id, SessionStatus::Invited).await;
    ben.cancel(&session.id).await.unwrap();
    let ended = wait_for(&mut events, "the withdrawal", |e| match e {
        EngineEvent::Session(s) if s.info.id == session.id && s.ended() => Some(s.clone()),
        _ => None,
    })
    .await;
    assert!(ended.missed(ana.agent().id));
    assert_eq!(ended.previous, Some(SessionStatus::Invited));
    let missed: Vec<_> = ana.missed().into_iter().map(|s| s.info.id).collect();
    assert_eq!(missed, std::slice::from_ref(&session.id));
    // Ben's side never missed anything.
    assert!(ben.missed().is_empty());
    ana.put_away_missed(std::slice::from_ref(&session.id))
        .await
        .unwrap();
    assert!(ana.missed().is_empty());
    // Put away for good: a new start still does not list it.
    drop(ana);
    let again = world.ana(Mode::Password).await;
    assert!(again.missed().is_empty());
}

#[tokio::test]
async fn what_the_agent_types_is_checked_before_it_leaves() {
    let world = World::start().await;
    let ana = world.ana(Mode::Password).await;
    let ben = world.colleague("ben").await;
    let mut events = ben.subscribe();
    let mut ana_events = ana.subscribe();
    let session = ana.invite(ben.agent().id, None, None).await.unwrap();
    assert!(matches!(
        ana.send(&session.id, "too early").await,
        Err(ClientError::Illegal(_))
    ));
    status(&mut events, &session.id, SessionStatus::Invited).await;
    ben.accept(&session.id).await.unwrap();
    status(&mut ana_events, &session.id, SessionStatus::Connected).await;
    assert!(matches!(
        ana.send(&session.id, "  \n ").await,
        Err(ClientError::EmptyMessage)
    ));
    let limit = ana.limits().max_message_chars;
    assert_eq!(limit, 4000, "the hub's limit, told at hello");
    let long = "x".repeat(limit as usize + 1);
    assert!(matches!(
        ana.send(&session.id, &long).await,
        Err(ClientError::MessageTooLong {
            length: 4001,
            limit: 4000
        })
    ));
    assert!(
        ana.cache().pending().await.unwrap().is_empty(),
        "nothing queued"
    );
}
