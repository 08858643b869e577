//! End to end: the journeys an agent takes, through the real app against a real hub process,
//! each run in every way the app signs in (a password on the form; the token the keychain
//! keeps; a kept token that has expired, with the kept password behind it). Each journey
//! asserts what the other side sees, and the colleagues' presence in the Team Communicator.
//!
//! The colleague is an engine driven by the test: Ben Okafor, and Chloé Martin for presence.

mod support;

use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use huddle_client::cache::Delivery;
use huddle_client::{Credential, EndCause, Engine, EngineEvent, SessionStatus};
use huddle_protocol::{Presence, VoiceConsultationState};
use serde_json::json;
#[cfg(target_os = "linux")]
use support::bus::{Service, TrayItem};
use support::hub_process::{HubProcess, INTEGRATION_TOKEN};
use support::sign_in::{app_signed_in, SignIn, EVERY_SIGN_IN};
#[cfg(target_os = "linux")]
use support::x_window_when;
use support::{App, Profile, DEADLINE};
use tokio::sync::broadcast::Receiver;

/// The app's windows share one display, and the fake desktop services one bus name each.
static ONE_APP_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

const AGENTS: [(&str, &str, &str); 3] = [
    ("ana", "Ana Lima", "ana-password"),
    ("ben", "Ben Okafor", "ben-password"),
    ("cho", "Chloé Martin", "cho-password"),
];
const ENTER: &str = "\u{E007}";
const IM_WINDOW: &str = "Ben Okafor — Huddle";
const TOAST: &str = "Huddle — invitation";

/// The current IM window's transcript, each entry as "name|text".
const TRANSCRIPT: &str = "return [...document.querySelectorAll('[data-testid=im-entry]')].map(e =>
    e.querySelector('[data-testid=im-entry-name]').textContent.trim() + '|' +
    e.querySelector('[data-testid=im-entry-text]').textContent);";

/// One journey's world: the hub, Ana's app signed in one way, and Ben.
struct Journey {
    mode: SignIn,
    hub: HubProcess,
    profile: Profile,
    app: App,
    ben: Engine,
    ana_id: i64,
    dir: tempfile::TempDir,
}

impl Journey {
    /// Starts the hub and Ben, then Ana's app signed in as `mode` says, with Ben listed in her
    /// Team Communicator.
    async fn begin(mode: SignIn, name: &str) -> anyhow::Result<Self> {
        let hub = HubProcess::start(&AGENTS).await?;
        let dir = tempfile::tempdir()?;
        let ben = colleague(&hub, "ben", &dir).await?;
        let profile = Profile::new()?;
        let shot = format!("journey-{name}-{}", mode.name());
        let app = app_signed_in(mode, &hub, "ana", &profile, &shot).await?;
        let ana_id = support::agent_id(&ben, "ana").await?;
        let journey = Self {
            mode,
            hub,
            profile,
            app,
            ben,
            ana_id,
            dir,
        };
        journey.presence_shown("ben", "Ben Okafor", "Ready").await?;
        Ok(journey)
    }

    /// Lists `name` in the main window's Team Communicator and waits until it shows `want`
    /// as that colleague's presence.
    async fn presence_shown(&self, login: &str, name: &str, want: &str) -> anyhow::Result<()> {
        let app = &self.app;
        app.switch_to("main").await?;
        let field = app.by_test_id("tc-search").await?;
        field.clear().await?;
        field.send_keys(name).await?;
        let script = "const e = document.querySelector(`[data-testid=tc-entry][data-login=${arguments[0]}] [data-testid=tc-presence]`);
                      return e === null ? null : e.textContent.trim();";
        app.eval_when(
            &format!("{name} shown {want} ({:?})", self.mode),
            script,
            vec![login.into()],
            |shown| shown == want,
        )
        .await?;
        Ok(())
    }

    /// Ana's IM window with Ben, current, once it shows the status `want`.
    async fn im_status(&self, session: &str, want: &str) -> anyhow::Result<()> {
        self.app.switch_to(&format!("im-{session}")).await?;
        self.app.text_when("im-status", |t| t == want).await?;
        Ok(())
    }

    /// Ana types a message in the current IM window and sends it with Enter.
    async fn ana_types(&self, text: &str) -> anyhow::Result<()> {
        self.app.type_into("im-input", text).await?;
        self.app.type_into("im-input", ENTER).await
    }

    /// Waits until the current IM window's transcript is `want` (entries as "name|text").
    async fn transcript_is(&self, want: &[&str]) -> anyhow::Result<()> {
        let want = json!(want);
        self.app
            .eval_when(
                &format!("the transcript {want} ({:?})", self.mode),
                TRANSCRIPT,
                vec![],
                |shown| *shown == want,
            )
            .await?;
        // Every entry has its time of day.
        let times = self
            .app
            .eval(
                "return [...document.querySelectorAll('[data-testid=im-entry-time]')].map(e => e.textContent);",
                vec![],
            )
            .await?;
        let all_timed = times.as_array().is_some_and(|t| {
            t.len() == want.as_array().map_or(0, Vec::len)
                && t.iter().all(|x| {
                    x.as_str()
                        .is_some_and(|s| s.len() == 5 && s.as_bytes()[2] == b':')
                })
        });
        if !all_timed {
            bail!("entries without their time: {times}");
        }
        Ok(())
    }

    /// Ben invites Ana; returns the session once she is connected, with her window current.
    async fn ben_invites_and_ana_accepts(&self, text: &str) -> anyhow::Result<String> {
        let mut events = self.ben.subscribe();
        let session = self.ben.invite(self.ana_id, Some(text), None).await?.id;
        self.app.switch_to(&format!("im-{session}")).await?;
        self.app.click("im-accept").await?;
        status(&mut events, &session, SessionStatus::Connected).await?;
        self.app
            .text_when("im-status", |t| t == "Connected")
            .await?;
        Ok(session)
    }

    async fn finish(self) -> anyhow::Result<()> {
        self.app.finish().await
    }
}

/// A colleague signed in with a password, with a cache of their own under `dir`.
async fn colleague(
    hub: &HubProcess,
    login: &str,
    dir: &tempfile::TempDir,
) -> anyhow::Result<Engine> {
    let (engine, _) = Engine::sign_in(
        &hub.address(),
        login,
        Credential::Password(format!("{login}-password")),
        &dir.path().join(login),
    )
    .await?;
    Ok(engine)
}

/// Waits for an engine event that `pick` takes.
async fn heard<T>(
    events: &mut Receiver<EngineEvent>,
    what: &str,
    pick: impl Fn(&EngineEvent) -> Option<T>,
) -> anyhow::Result<T> {
    tokio::time::timeout(DEADLINE, async {
        loop {
            match events.recv().await {
                Ok(event) => {
                    if let Some(found) = pick(&event) {
                        return Ok(found);
                    }
                }
                Err(e) => bail!("the engine's events failed: {e}"),
            }
        }
    })
    .await
    .with_context(|| format!("never heard {what}"))?
}

async fn status(
    events: &mut Receiver<EngineEvent>,
    session: &str,
    want: SessionStatus,
) -> anyhow::Result<()> {
    heard(events, &format!("{want:?}"), |e| match e {
        EngineEvent::Session(s) if s.info.id == session && s.status == want => Some(()),
        _ => None,
    })
    .await
}

/// Waits until the engine has `text` from the hub.
async fn message(events: &mut Receiver<EngineEvent>, text: &str) -> anyhow::Result<()> {
    heard(events, text, |e| match e {
        EngineEvent::Message(m) if m.text == text && m.delivery == Delivery::Sent => Some(()),
        _ => None,
    })
    .await
}

/// How many times the engine's cache holds `text` in the session.
async fn copies(engine: &Engine, session: &str, text: &str) -> anyhow::Result<usize> {
    Ok(engine
        .cache()
        .transcript(session)
        .await?
        .iter()
        .filter(|m| m.text == text)
        .count())
}

// Linux only: the desktop's D-Bus notification server and tray, and X11 window states.
#[cfg(target_os = "linux")]
#[tokio::test(flavor = "multi_thread")]
async fn a_colleague_invites_the_agent_who_accepts_converses_and_sees_who_ended_it(
) -> anyhow::Result<()> {
    let _turn = ONE_APP_AT_A_TIME.lock().await;
    for mode in EVERY_SIGN_IN {
        let services = tempfile::tempdir()?;
        let notifications = Service::notifications(services.path()).await?;
        let watcher = Service::watcher(services.path()).await?;
        let j = Journey::begin(mode, "invited").await?;
        let tray = TrayItem::of(&watcher).await?;
        let mut ben_events = j.ben.subscribe();
        let session = j
            .ben
            .invite(j.ana_id, Some("Can you take a billing question?"), None)
            .await?
            .id;

        // The waiting window, the toast, the notification and the tray all show it.
        let waiting = x_window_when(IM_WINDOW, "minimized", |w| w.is_some_and(|w| w.minimized()))
            .await?
            .context("no waiting window")?;
        assert!(waiting.demands_attention(), "{mode:?}: {waiting:?}");
        x_window_when(TOAST, "shown", |w| w.is_some_and(|w| w.shown())).await?;
        let shown = notifications
            .record("the notification", |r| r["event"] == "notify")
            .await?;
        assert!(
            shown["summary"]
                .as_str()
                .is_some_and(|s| s.contains("Ben Okafor"))
                && shown["body"]
                    .as_str()
                    .is_some_and(|s| s.contains("billing question")),
            "{mode:?}: {shown}"
        );
        tray.state_when("the invitation in the tray", |s| {
            s["menu"].as_array().is_some_and(|m| {
                m.iter()
                    .any(|i| i["label"] == "Instant message from Ben Okafor")
            })
        })
        .await?;
        j.app.save_screenshot("-waiting")?;

        // Accepted from the toast: Ben is told, Ana's window comes up connected.
        j.app.switch_to("toast").await?;
        j.app.click("toast-accept").await?;
        status(&mut ben_events, &session, SessionStatus::Connected).await?;
        j.im_status(&session, "Connected").await?;

        // Messages both ways, each side seeing the other's, in order, named and timed.
        j.ben
            .send(&session, "Order 5521 was charged twice.")
            .await?;
        j.transcript_is(&[
            "Ben Okafor|Can you take a billing question?",
            "Ben Okafor|Order 5521 was charged twice.",
        ])
        .await?;
        j.ana_types("I will refund one of them.").await?;
        message(&mut ben_events, "I will refund one of them.").await?;
        j.ben.send(&session, "Thanks, Ana!").await?;
        j.transcript_is(&[
            "Ben Okafor|Can you take a billing question?",
            "Ben Okafor|Order 5521 was charged twice.",
            "Ana Lima|I will refund one of them.",
            "Ben Okafor|Thanks, Ana!",
        ])
        .await?;
        let bens: Vec<String> = j
            .ben
            .cache()
            .transcript(&session)
            .await?
            .into_iter()
            .map(|m| m.text)
            .collect();
        assert_eq!(
            bens,
            [
                "Can you take a billing question?",
                "Order 5521 was charged twice.",
                "I will refund one of them.",
                "Thanks, Ana!"
            ],
            "{mode:?}: Ben's side"
        );

        // Ben ends it: Ana sees that it ended, and who ended it.
        j.ben.end(&session).await?;
        j.im_status(&session, "Ended — Ben Okafor ended the session")
            .await?;
        j.ben.set_presence(Presence::Busy).await?;
        j.presence_shown("ben", "Ben Okafor", "Busy").await?;
        j.finish().await?;
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn the_agent_invites_from_the_team_communicator_converses_and_ends() -> anyhow::Result<()> {
    let _turn = ONE_APP_AT_A_TIME.lock().await;
    for mode in EVERY_SIGN_IN {
        let j = Journey::begin(mode, "inviting").await?;
        let mut ben_events = j.ben.subscribe();
        let label = j
            .app
            .send_im_from_team_communicator("ben", "Ben Okafor")
            .await?;
        let session = label.trim_start_matches("im-").to_string();
        status(&mut ben_events, &session, SessionStatus::Invited).await?;
        j.app
            .text_when("im-status", |t| t == "Inviting Ben Okafor…")
            .await?;
        j.ben.accept(&session).await?;
        j.app.text_when("im-status", |t| t == "Connected").await?;

        j.ana_types("Hi Ben, a quick one about order 77.").await?;
        message(&mut ben_events, "Hi Ben, a quick one about order 77.").await?;
        j.ben.send(&session, "Sure, go ahead.").await?;
        j.transcript_is(&[
            "Ana Lima|Hi Ben, a quick one about order 77.",
            "Ben Okafor|Sure, go ahead.",
        ])
        .await?;

        j.app.click("im-end").await?;
        let me = j.ana_id;
        status(
            &mut ben_events,
            &session,
            SessionStatus::Ended(EndCause::EndedByOther { by: me }),
        )
        .await?;
        j.app
            .text_when("im-status", |t| t == "Ended — you ended the session")
            .await?;
        j.presence_shown("ben", "Ben Okafor", "Ready").await?;
        j.finish().await?;
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn a_customer_call_becomes_an_im_consultation_then_a_voice_consultation_and_back(
) -> anyhow::Result<()> {
    use support::consult::{call, consult, seed_contacts};
    let _turn = ONE_APP_AT_A_TIME.lock().await;
    for mode in EVERY_SIGN_IN {
        let j = Journey::begin(mode, "consultation").await?;
        let address = j.hub.address();
        seed_contacts(&address, INTEGRATION_TOKEN).await?;
        let mut ben_events = j.ben.subscribe();
        let (interaction, contact) = call(&address, INTEGRATION_TOKEN, "ana").await?;

        j.app.switch_to("main").await?;
        j.app
            .eval_when(
                "the call",
                "return [...document.querySelectorAll('[data-testid=interaction-row]')].map(e => e.dataset.interactionId);",
                vec![],
                |ids| ids.as_array().is_some_and(|a| a.iter().any(|i| i == &interaction)),
            )
            .await?;
        j.app.click("interaction-row").await?;
        consult(&j.app, "Ben").await?;
        j.ana_types(&format!("Can you help with {contact}'s order?"))
            .await?;
        let invited = heard(&mut ben_events, "the consultation", |e| match e {
            EngineEvent::Session(s) if s.status == SessionStatus::Invited => Some(s.clone()),
            _ => None,
        })
        .await?;
        assert_eq!(
            invited.info.first_message.as_ref().map(|m| m.text.clone()),
            Some(format!("Can you help with {contact}'s order?")),
            "{mode:?}"
        );
        j.ben.accept(&invited.info.id).await?;
        j.app.text_when("im-status", |t| t == "Connected").await?;
        // The colleague sees the case data, without what agents may not see.
        let details = j.ben.interaction_details(&interaction).await?;
        assert!(
            details
                .interaction
                .case_data
                .iter()
                .any(|d| d.label == "Order"),
            "{mode:?}: {details:?}"
        );
        assert!(details
            .interaction
            .case_data
            .iter()
            .all(|d| d.key != "internal_score"));

        // A voice consultation: the customer on hold, Ben's phone ringing, then connected.
        j.app.click("start-voice").await?;
        let ringing = heard(&mut ben_events, "the ringing", |e| match e {
            EngineEvent::VoiceConsultation(v) if v.state == VoiceConsultationState::Ringing => {
                Some(v.clone())
            }
            _ => None,
        })
        .await?;
        assert!(ringing.customer_held, "{mode:?}");
        j.ben.answer_voice_consultation(&ringing.id, true).await?;
        j.app
            .eval_when(
                "the connected voice bar",
                "return document.querySelector('[data-testid=voice-status]')?.dataset.state;",
                vec![],
                |s| s == "connected",
            )
            .await?;
        // And back: the customer is taken off hold, the IM goes on.
        j.app.click("end-voice").await?;
        let ended = heard(&mut ben_events, "the end of the call", |e| match e {
            EngineEvent::VoiceConsultation(v) if v.state == VoiceConsultationState::Ended => {
                Some(v.clone())
            }
            _ => None,
        })
        .await?;
        assert!(!ended.customer_held, "{mode:?}");
        j.ben.send(&invited.info.id, "Refund done.").await?;
        j.transcript_is(&[
            &format!("Ana Lima|Can you help with {contact}'s order?"),
            "Ben Okafor|Refund done.",
        ])
        .await?;
        j.presence_shown("ben", "Ben Okafor", "Ready").await?;
        j.finish().await?;
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn a_hub_killed_mid_conversation_loses_and_repeats_nothing() -> anyhow::Result<()> {
    let _turn = ONE_APP_AT_A_TIME.lock().await;
    for mode in EVERY_SIGN_IN {
        let mut j = Journey::begin(mode, "hub-killed").await?;
        let session = j.ben_invites_and_ana_accepts("Still there?").await?;
        let mut ben_events = j.ben.subscribe();

        // The hub dies (SIGKILL); Ana types on meanwhile.
        j.hub.kill()?;
        j.app.switch_to("main").await?;
        j.app
            .text_when("connection-state", |t| !t.starts_with("Connected"))
            .await?;
        j.app.switch_to(&format!("im-{session}")).await?;
        j.ana_types("Typed while the hub was down.").await?;
        j.app
            .eval_when(
                "the pending message",
                "return [...document.querySelectorAll('[data-testid=im-entry]')].map(e => e.dataset.delivery);",
                vec![],
                |d| *d == json!(["sent", "pending"]),
            )
            .await?;

        // It comes back: what Ana typed reaches Ben once, Ben's answer reaches Ana once.
        j.hub.restart().await?;
        message(&mut ben_events, "Typed while the hub was down.").await?;
        j.ben.send(&session, "Got it after the restart.").await?;
        j.transcript_is(&[
            "Ben Okafor|Still there?",
            "Ana Lima|Typed while the hub was down.",
            "Ben Okafor|Got it after the restart.",
        ])
        .await?;
        assert_eq!(
            copies(&j.ben, &session, "Typed while the hub was down.").await?,
            1,
            "{mode:?}"
        );
        // Presence is right again: Ben's, and Chloé's, who signs in after the restart.
        j.presence_shown("ben", "Ben Okafor", "Ready").await?;
        j.presence_shown("cho", "Chloé Martin", "Offline").await?;
        let chloe = colleague(&j.hub, "cho", &j.dir).await?;
        j.presence_shown("cho", "Chloé Martin", "Ready").await?;
        chloe.set_presence(Presence::Away).await?;
        j.presence_shown("cho", "Chloé Martin", "Away").await?;
        j.finish().await?;
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn the_app_restarted_mid_conversation_comes_back_with_the_whole_transcript(
) -> anyhow::Result<()> {
    let _turn = ONE_APP_AT_A_TIME.lock().await;
    for mode in EVERY_SIGN_IN {
        let j = Journey::begin(mode, "app-restarted").await?;
        let session = j.ben_invites_and_ana_accepts("Before the restart").await?;
        let mut ben_events = j.ben.subscribe();
        j.ana_types("Me too, before it.").await?;
        message(&mut ben_events, "Me too, before it.").await?;
        let Journey {
            mode,
            hub,
            profile,
            app,
            ben,
            dir,
            ..
        } = j;
        app.finish().await?;

        // While the app is closed, Ben writes on.
        ben.send(&session, "While you were away.").await?;
        // Started again, it signs in by itself, and the window comes back with it all.
        let app = App::start_in(
            &profile,
            &format!("journey-app-restarted-{}-again", mode.name()),
        )
        .await?;
        app.text_when("connection-state", |t| t.starts_with("Connected"))
            .await?;
        app.switch_to(&format!("im-{session}")).await?;
        app.text_when("im-status", |t| t == "Connected").await?;
        let j = Journey {
            mode,
            hub,
            profile,
            app,
            ben,
            ana_id: 0,
            dir,
        };
        j.transcript_is(&[
            "Ben Okafor|Before the restart",
            "Ana Lima|Me too, before it.",
            "Ben Okafor|While you were away.",
        ])
        .await?;
        // And the conversation goes on.
        j.ana_types("Back again.").await?;
        message(&mut ben_events, "Back again.").await?;
        j.ben.send(&session, "Welcome back.").await?;
        j.transcript_is(&[
            "Ben Okafor|Before the restart",
            "Ana Lima|Me too, before it.",
            "Ben Okafor|While you were away.",
            "Ana Lima|Back again.",
            "Ben Okafor|Welcome back.",
        ])
        .await?;
        j.presence_shown("ben", "Ben Okafor", "Ready").await?;
        j.finish().await?;
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn a_hub_unreachable_for_thirty_seconds_is_said_and_recovered_from() -> anyhow::Result<()> {
    const AWAY: Duration = Duration::from_secs(30);
    let _turn = ONE_APP_AT_A_TIME.lock().await;
    for mode in EVERY_SIGN_IN {
        let mut j = Journey::begin(mode, "hub-away").await?;
        let session = j.ben_invites_and_ana_accepts("Before the outage").await?;
        j.hub.kill()?;
        let gone = Instant::now();
        j.app.switch_to("main").await?;
        let said = j
            .app
            .text_when("connection-state", |t| t.starts_with("Offline"))
            .await?;
        assert!(said.contains("reconnecting"), "{mode:?}: {said}");
        // It keeps saying so for as long as the hub is away.
        while gone.elapsed() < AWAY {
            let now = j
                .app
                .text_when("connection-state", |t| !t.is_empty())
                .await?;
            assert!(!now.starts_with("Connected"), "{mode:?}: {now}");
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
        j.hub.restart().await?;
        j.app
            .text_when("connection-state", |t| t.starts_with("Connected"))
            .await?;
        let mut ben_events = j.ben.subscribe();
        j.app.switch_to(&format!("im-{session}")).await?;
        j.ana_types("Back after the outage.").await?;
        message(&mut ben_events, "Back after the outage.").await?;
        j.presence_shown("ben", "Ben Okafor", "Ready").await?;
        j.finish().await?;
    }
    Ok(())
}
