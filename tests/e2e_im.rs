//! End to end: instant messages between the real app and colleagues on a real hub: the
//! `huddle-agent` bot, or an engine driven by the test.

mod support;

use anyhow::{bail, Context};
use huddle_client::{Engine, EngineEvent, SessionStatus};
use support::{App, Bot, Hub, Profile, DEADLINE};

/// The app's windows share one display; one app at a time keeps the runs independent.
static ONE_APP_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

const ANA: (&str, &str, &str) = ("ana", "Ana Lima", "ana-password");
const BEN: (&str, &str, &str) = ("ben", "Ben Okafor", "ben-password");

const ENTER: &str = "\u{E007}";

/// The texts of the transcript's entries in the current IM window, as "name|text".
const TRANSCRIPT: &str = "return [...document.querySelectorAll('[data-testid=im-entry]')].map(e =>
    e.querySelector('[data-testid=im-entry-name]').innerText.trim() + '|' +
    e.querySelector('[data-testid=im-entry-text]').innerText);";

/// Waits until the engine reports a session with this status, and returns its id.
async fn session_becomes(engine: &Engine, want: SessionStatus) -> anyhow::Result<String> {
    let mut events = engine.subscribe();
    if let Some(s) = engine.sessions().into_iter().find(|s| s.status == want) {
        return Ok(s.info.id);
    }
    tokio::time::timeout(DEADLINE, async {
        loop {
            match events.recv().await {
                Ok(EngineEvent::Session(s)) if s.status == want => return Ok(s.info.id),
                Ok(_) => {}
                Err(e) => bail!("engine events failed: {e}"),
            }
        }
    })
    .await
    .with_context(|| format!("no session became {want:?}"))?
}

/// Signs Ana in, finds Ben in the Team Communicator and sends him an IM from the action
/// menu; returns with the IM window current.
async fn invite_ben_from_team_communicator(app: &App, hub: &Hub) -> anyhow::Result<String> {
    app.sign_in(&hub.address(), "ana", "ana-password").await?;
    app.text_when("connection-state", |t| t.starts_with("Connected"))
        .await?;
    app.send_im_from_team_communicator("ben", "Ben Okafor")
        .await
}

#[tokio::test(flavor = "multi_thread")]
async fn an_im_to_the_bot_is_accepted_answered_and_ended() -> anyhow::Result<()> {
    let _turn = ONE_APP_AT_A_TIME.lock().await;
    let hub = Hub::start(&[ANA, BEN]).await?;
    let bot_data = tempfile::tempdir()?;
    let _bot = Bot::start(
        &hub.address(),
        "ben",
        bot_data.path(),
        &[
            "--reply",
            "Sure, checking order 1234 now.",
            "--accept-delay-ms",
            "300",
            "--reply-delay-ms",
            "0",
        ],
    )?;
    let app = App::start("im-conversation").await?;
    invite_ben_from_team_communicator(&app, &hub).await?;

    app.text_when("im-title", |t| t.contains("Ben Okafor"))
        .await?;
    app.text_when("im-status", |t| t == "Connected").await?;
    app.type_into("im-input", "Can you check order 1234?")
        .await?;
    app.type_into("im-input", ENTER).await?;
    let transcript = app
        .eval_when("the bot's answer", TRANSCRIPT, vec![], |v| {
            v.as_array().is_some_and(|a| a.len() == 2)
        })
        .await?;
    assert_eq!(
        transcript,
        serde_json::json!([
            "Ana Lima|Can you check order 1234?",
            "Ben Okafor|Sure, checking order 1234 now."
        ])
    );
    // Every entry has its time, and the message field is empty again.
    let times = app
        .eval(
            "return [...document.querySelectorAll('[data-testid=im-entry-time]')].map(e => e.innerText);",
            vec![],
        )
        .await?;
    assert!(
        times.as_array().is_some_and(|t| t.len() == 2
            && t.iter()
                .all(|x| x.as_str().is_some_and(|s| s.contains(':')))),
        "{times}"
    );
    let field = app
        .eval(
            "return document.querySelector('[data-testid=im-input]').value;",
            vec![],
        )
        .await?;
    assert_eq!(field, "");

    app.save_screenshot("-connected")?;
    app.click("im-end").await?;
    app.text_when("im-status", |t| {
        t.contains("Ended") && t.contains("you ended")
    })
    .await?;
    let disabled = app
        .eval(
            "return document.querySelector('[data-testid=im-input]').disabled;",
            vec![],
        )
        .await?;
    assert_eq!(disabled, true);
    app.finish().await
}

#[tokio::test(flavor = "multi_thread")]
async fn an_invitation_from_a_colleague_is_accepted_in_the_app() -> anyhow::Result<()> {
    let _turn = ONE_APP_AT_A_TIME.lock().await;
    let hub = Hub::start(&[ANA, BEN]).await?;
    let app = App::start("im-invited").await?;
    app.sign_in(&hub.address(), "ana", "ana-password").await?;
    app.text_when("connection-state", |t| t.starts_with("Connected"))
        .await?;

    let ben_data = tempfile::tempdir()?;
    let ben = hub.engine("ben", ben_data.path()).await?;
    let ana = ben
        .search("ana", Default::default())
        .await?
        .into_iter()
        .find(|e| e.login == "ana")
        .context("Ana is not in the directory")?;
    let session = ben.invite(ana.id, None, None).await?;

    // The invitation waits in its own window, listed in the main window too.
    app.eval_when(
        "the invitation in the conversations list",
        "return [...document.querySelectorAll('[data-testid=session-row]')].map(e => e.dataset.sessionId);",
        vec![],
        |ids| ids.as_array().is_some_and(|a| a.iter().any(|i| i == &session.id)),
    )
    .await?;
    app.switch_to(&format!("im-{}", session.id)).await?;
    app.text_when("im-status", |t| t.contains("Ben Okafor"))
        .await?;
    app.click("im-accept").await?;
    app.text_when("im-status", |t| t == "Connected").await?;
    session_becomes(&ben, SessionStatus::Connected).await?;

    ben.send_message(&session.id, "Thanks for taking this one.")
        .await?;
    app.eval_when("Ben's message", TRANSCRIPT, vec![], |v| {
        v == &serde_json::json!(["Ben Okafor|Thanks for taking this one."])
    })
    .await?;
    let mut events = ben.subscribe();
    app.type_into("im-input", "Happy to help.").await?;
    app.click("im-send").await?;
    tokio::time::timeout(DEADLINE, async {
        loop {
            if let Ok(EngineEvent::Message(m)) = events.recv().await {
                if m.text == "Happy to help." {
                    return;
                }
            }
        }
    })
    .await
    .context("Ben never got Ana's answer")?;
    app.finish().await
}

#[tokio::test(flavor = "multi_thread")]
async fn a_rejected_and_a_timed_out_invitation_say_so() -> anyhow::Result<()> {
    let _turn = ONE_APP_AT_A_TIME.lock().await;
    let hub = Hub::start_with(&[ANA, BEN], |c| c.invite_timeout_secs = 2).await?;
    let ben_data = tempfile::tempdir()?;
    let ben = hub.engine("ben", ben_data.path()).await?;
    let app = App::start("im-rejected").await?;

    // Rejected.
    invite_ben_from_team_communicator(&app, &hub).await?;
    let invited = session_becomes(&ben, SessionStatus::Invited).await?;
    ben.reject(&invited).await?;
    let status = app.text_when("im-status", |t| t.contains("Ended")).await?;
    assert!(status.contains("Ben Okafor rejected"), "{status}");
    app.click_closing("im-done").await?;

    // Timed out: Ben does not answer.
    app.click("tc-entry").await?;
    app.click("tc-action-im").await?;
    app.switch_to_im().await?;
    let status = app.text_when("im-status", |t| t.contains("Ended")).await?;
    assert!(status.contains("did not answer"), "{status}");
    app.finish().await
}

#[tokio::test(flavor = "multi_thread")]
async fn markup_in_a_message_shows_as_literal_text() -> anyhow::Result<()> {
    let _turn = ONE_APP_AT_A_TIME.lock().await;
    let hub = Hub::start(&[ANA, BEN]).await?;
    let ben_data = tempfile::tempdir()?;
    let ben = hub.engine("ben", ben_data.path()).await?;
    let app = App::start("im-markup").await?;
    invite_ben_from_team_communicator(&app, &hub).await?;
    let id = session_becomes(&ben, SessionStatus::Invited).await?;
    ben.accept(&id).await?;
    let payload = "<img src=x onerror=\"document.title='pwned'\"><script>document.title='pwned'</script><b>bold</b>";
    ben.send_message(&id, payload).await?;
    app.eval_when("the payload", TRANSCRIPT, vec![], |v| {
        v == &serde_json::json!([format!("Ben Okafor|{payload}")])
    })
    .await?;
    let injected = app
        .eval(
            "const t = document.querySelector('[data-testid=im-transcript]');
             return [t.querySelectorAll('img, script, b').length, document.title];",
            vec![],
        )
        .await?;
    assert_eq!(injected[0], 0, "markup became elements");
    assert_ne!(injected[1], "pwned");
    app.finish().await
}

/// A colleague's client that speaks the protocol itself, choosing its own ids, as any client
/// on the network may.
struct RawClient {
    ws: tokio_tungstenite::WebSocketStream<
        tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>,
    >,
    next: u64,
}

impl RawClient {
    async fn login(hub: &Hub, login: &str) -> anyhow::Result<Self> {
        let url = format!("ws://{}/v1/ws", hub.address());
        let (ws, _) = tokio_tungstenite::connect_async(url).await?;
        let mut client = Self { ws, next: 1 };
        client
            .request(serde_json::json!({"type": "hello", "protocol": 1, "client": "raw"}))
            .await?;
        let password = format!("{login}-password");
        let answer = client
            .request(serde_json::json!({"type": "login", "login": login, "password": password}))
            .await?;
        if answer["type"] != "logged_in" {
            bail!("login: {answer}");
        }
        Ok(client)
    }

    /// Sends a request and returns its answer, passing over everything else.
    async fn request(&mut self, mut frame: serde_json::Value) -> anyhow::Result<serde_json::Value> {
        use futures_util::{SinkExt, StreamExt};
        use tokio_tungstenite::tungstenite::Message;
        let req = self.next;
        self.next += 1;
        frame["req"] = req.into();
        self.ws
            .send(Message::Text(frame.to_string().into()))
            .await?;
        tokio::time::timeout(DEADLINE, async {
            while let Some(message) = self.ws.next().await {
                if let Message::Text(text) = message? {
                    let answer: serde_json::Value = serde_json::from_str(text.as_str())?;
                    if answer["re"] == req {
                        return Ok(answer);
                    }
                }
            }
            bail!("the connection ended before the answer")
        })
        .await
        .context("no answer in time")?
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn ids_chosen_to_look_like_the_transcripts_keys_leave_it_whole() -> anyhow::Result<()> {
    let _turn = ONE_APP_AT_A_TIME.lock().await;
    let hub = Hub::start(&[ANA, BEN]).await?;
    let app = App::start("im-hostile-ids").await?;
    app.sign_in(&hub.address(), "ana", "ana-password").await?;
    app.text_when("connection-state", |t| t.starts_with("Connected"))
        .await?;
    let mut ben = RawClient::login(&hub, "ben").await?;
    let found = ben
        .request(serde_json::json!({"type": "search", "query": "ana"}))
        .await?;
    let ana_id = found["entries"][0]["id"].clone();
    // The transcript once keyed a day's separator as `day-<local day>-<first message id>` and
    // each message by its id: Ben's second message takes the first one's separator's key.
    let (first, session) = ("first-message", "s-hostile");
    let local = std::process::Command::new("date")
        .args(["+%Y-%-m-%-d"])
        .output()?;
    let day = String::from_utf8_lossy(&local.stdout).trim().to_string();
    let invited = ben
        .request(
            serde_json::json!({"type": "invite", "session_id": session, "target": ana_id,
            "first_message": {"id": first, "text": "First"}}),
        )
        .await?;
    if invited["type"] != "session" {
        bail!("invite: {invited}");
    }
    app.switch_to(&format!("im-{session}")).await?;
    app.click("im-accept").await?;
    app.text_when("im-status", |t| t == "Connected").await?;
    for (id, text) in [
        (format!("day-{day}-{first}"), "Takes the separator's key"),
        ("m-2".to_string(), "Plain"),
        ("m-3".to_string(), "Still whole"),
    ] {
        let sent = ben
            .request(serde_json::json!({"type": "send", "session_id": session,
                "message_id": id, "text": text}))
            .await?;
        if sent["type"] != "sent" {
            bail!("send: {sent}");
        }
    }
    app.eval_when("every message", TRANSCRIPT, vec![], |v| {
        v == &serde_json::json!([
            "Ben Okafor|First",
            "Ben Okafor|Takes the separator's key",
            "Ben Okafor|Plain",
            "Ben Okafor|Still whole"
        ])
    })
    .await?;
    // And the agent's own messages still go in after them.
    app.type_into("im-input", "Mine after all that").await?;
    app.type_into("im-input", ENTER).await?;
    app.eval_when("Ana's message", TRANSCRIPT, vec![], |v| {
        v.as_array()
            .is_some_and(|a| a.len() == 5 && a[4] == "Ana Lima|Mine after all that")
    })
    .await?;
    app.finish().await
}

#[tokio::test(flavor = "multi_thread")]
async fn zoom_changes_every_transcript_and_survives_a_restart() -> anyhow::Result<()> {
    let _turn = ONE_APP_AT_A_TIME.lock().await;
    let hub = Hub::start(&[ANA, BEN]).await?;
    let _bot = Bot::prompt(&hub.address(), "ben", "Noted.")?;
    let profile = Profile::new()?;
    let font_size = "const e = document.querySelector('[data-testid=im-entry-text]');
                     return e === null ? null : parseFloat(getComputedStyle(e).fontSize);";

    let app = App::start_in(&profile, "zoom").await?;
    app.by_test_id("login-remember").await?.click().await?;
    invite_ben_from_team_communicator(&app, &hub).await?;
    app.text_when("im-status", |t| t == "Connected").await?;
    app.type_into("im-input", "Zoom test").await?;
    app.type_into("im-input", ENTER).await?;
    let before = app
        .eval_when("a message", font_size, vec![], |v| v.is_number())
        .await?
        .as_f64()
        .context("no font size")?;
    // Ctrl+= in the IM window.
    app.type_into("im-input", "\u{E009}=\u{E000}")
        .await
        .context("cannot press Ctrl+=")?;
    let after = app
        .eval_when("a larger text", font_size, vec![], |v| {
            v.as_f64().is_some_and(|f| f > before)
        })
        .await?
        .as_f64()
        .context("no font size")?;
    assert!((after / before - 1.1).abs() < 0.02, "{before} -> {after}");
    app.switch_to("main").await?;
    app.click("main-menu").await.context("no main menu")?;
    app.text_when("zoom-level", |t| t == "110%").await?;
    app.finish().await.context("the first run did not end")?;

    // Started again: signed in by itself from the keychain, with the text size kept.
    let app = App::start_in(&profile, "zoom-restarted")
        .await
        .context("the app did not start again")?;
    app.text_when("agent-name", |t| t == "Ana Lima").await?;
    app.click("main-menu").await?;
    app.text_when("zoom-level", |t| t == "110%").await?;
    app.press("\u{E00C}").await?; // Escape closes the menu
                                  // The session is still open: its window shows the larger text too.
    app.click("session-row").await?;
    app.switch_to_im().await?;
    let reopened = app
        .eval_when("the transcript", font_size, vec![], |v| v.is_number())
        .await?;
    assert_eq!(reopened.as_f64(), Some(after));
    app.finish().await
}
