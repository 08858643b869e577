//! `huddle-agent` against a real hub: searching, and the bot that plays a colleague.

mod common;

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use huddle_client::cache::Delivery;
use huddle_client::{Credential, Engine, EngineEvent, SessionStatus};

const DEADLINE: Duration = Duration::from_secs(20);

fn agent(hub: &str, login: &str, data: &Path, args: &[&str]) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_huddle-agent"));
    c.args(["--hub", hub, "--login", login, "--data"])
        .arg(data)
        .args(args)
        .env("HUDDLE_PASSWORD", format!("{login}-password"))
        .stdin(Stdio::null());
    c
}

/// Fails with the command's error output unless it succeeded; returns what it printed.
fn succeeded(out: &std::process::Output) -> String {
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).to_string()
}

struct Bot(Child);

impl Drop for Bot {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

// The hub runs in this process while the test waits for child processes.
#[tokio::test(flavor = "multi_thread")]
async fn the_bot_accepts_and_answers_and_search_prints_the_directory() {
    let (dir, hub) = common::hub_with(&[("ana", "Ana Lima"), ("ben", "Ben Okafor")]).await;
    let address = hub.addr.to_string();

    let out = agent(
        &address,
        "ana",
        &dir.path().join("ana-cli"),
        &["search", "oka"],
    )
    .output()
    .unwrap();
    let printed = succeeded(&out);
    assert!(printed.contains("ben\tBen Okafor"), "{printed}");

    let wrong = agent(&address, "ana", &dir.path().join("x"), &["search"])
        .env("HUDDLE_PASSWORD", "not-it")
        .output()
        .unwrap();
    assert!(!wrong.status.success());
    assert!(
        String::from_utf8_lossy(&wrong.stderr).contains("password"),
        "a clear error"
    );

    let _bot = Bot(agent(
        &address,
        "ben",
        &dir.path().join("ben"),
        &[
            "bot",
            "--reply",
            "On it!",
            "--accept-delay-ms",
            "0",
            "--reply-delay-ms",
            "0",
        ],
    )
    .stderr(Stdio::inherit())
    .spawn()
    .unwrap());
    let (ana, _) = Engine::sign_in(
        &address,
        "ana",
        Credential::Password("ana-password".into()),
        &dir.path().join("ana"),
    )
    .await
    .unwrap();
    let mut events = ana.subscribe();
    // The bot may still be signing in: wait until the directory shows Ben online.
    let ben_id = tokio::time::timeout(DEADLINE, async {
        loop {
            let found = ana.search("ben", Default::default()).await.unwrap();
            if let Some(ben) = found
                .iter()
                .find(|e| e.presence != Some(huddle_protocol::Presence::Offline))
            {
                return ben.id;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    })
    .await
    .expect("the bot never came online");
    let session = ana.invite(ben_id, None, None).await.unwrap();
    let answer = tokio::time::timeout(DEADLINE, async {
        loop {
            match events.recv().await.unwrap() {
                EngineEvent::Session(s)
                    if s.info.id == session.id && s.status == SessionStatus::Connected =>
                {
                    ana.send_message(&session.id, "Can you check order 1234?")
                        .await
                        .unwrap();
                }
                EngineEvent::Message(m) if m.from == ben_id && m.delivery == Delivery::Sent => {
                    return m.text
                }
                _ => {}
            }
        }
    })
    .await
    .expect("the bot never answered");
    assert_eq!(answer, "On it!");

    // The one-shot commands, as Ben from a second device: list, send, end.
    let ben_cli = dir.path().join("ben-cli");
    let out = agent(&address, "ben", &ben_cli, &["sessions"])
        .output()
        .unwrap();
    let listed = String::from_utf8_lossy(&out.stdout);
    assert!(
        listed.contains(&session.id) && listed.contains("Connected\tAna Lima"),
        "{listed}"
    );
    let out = agent(
        &address,
        "ben",
        &ben_cli,
        &["send", &session.id, "Done, approved."],
    )
    .output()
    .unwrap();
    succeeded(&out);
    let out = agent(&address, "ben", &ben_cli, &["end", &session.id])
        .output()
        .unwrap();
    succeeded(&out);
    let ended = tokio::time::timeout(DEADLINE, async {
        let mut texts = Vec::new();
        loop {
            match events.recv().await.unwrap() {
                EngineEvent::Message(m) if m.from == ben_id && m.delivery == Delivery::Sent => {
                    texts.push(m.text)
                }
                EngineEvent::Session(s)
                    if s.info.id == session.id && matches!(s.status, SessionStatus::Ended(_)) =>
                {
                    return texts
                }
                _ => {}
            }
        }
    })
    .await
    .expect("the session never ended");
    assert!(ended.contains(&"Done, approved.".to_string()), "{ended:?}");
    let out = agent(
        &address,
        "ben",
        &ben_cli,
        &["send", &session.id, "too late"],
    )
    .output()
    .unwrap();
    assert!(
        !out.status.success(),
        "a message into an ended session fails clearly"
    );
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("refused"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// What `huddle-agent sessions` prints is what the hub has: a session the colleague ended
/// while the command was not running shows ended, not as the cache last knew it.
#[tokio::test(flavor = "multi_thread")]
async fn sessions_shows_what_the_colleague_did_while_the_agent_was_away() {
    let (dir, hub) = common::hub_with(&[("ana", "Ana Lima"), ("cho", "Chloé Martin")]).await;
    let address = hub.addr.to_string();
    let ana = common::sign_in(&address, "ana", &dir.path().join("ana")).await;
    let cho_data = dir.path().join("cho-cli");
    // Chloé invites Ana from the command line, and Ana accepts.
    let mut events = ana.subscribe();
    let mut invite = agent(&address, "cho", &cho_data, &["invite", "ana"])
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let session = common::wait_for(&mut events, "the invitation", |e| match e {
        EngineEvent::Session(s) if s.status == SessionStatus::Invited => Some(s.info.id.clone()),
        _ => None,
    })
    .await;
    ana.accept(&session).await.unwrap();
    assert!(invite.wait().unwrap().success());
    // Chloé's cache knows the session connected; Ana ends it while no command runs.
    ana.end(&session).await.unwrap();
    let out = agent(&address, "cho", &cho_data, &["sessions"])
        .output()
        .unwrap();
    let printed = succeeded(&out);
    assert!(
        printed.contains(&format!("{session}\tEnded\tAna Lima")),
        "{printed}"
    );
}
