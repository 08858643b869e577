//! End to end: an IM consultation about a customer interaction, from the app of the agent
//! handling the customer to a colleague (an engine driven by the test), and back: the app
//! of a consulted agent shows the case data, contact and history, only while it may.

mod support;

use anyhow::{bail, Context};
use huddle_client::{Engine, EngineEvent, SessionStatus};
use huddle_hub::config::Secret;
use huddle_protocol::ErrorCode;
use support::consult::{consult, seed_contacts};
use support::{App, Hub, DEADLINE};

/// The app's windows share one display; one app at a time keeps the runs independent.
static ONE_APP_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

const TOKEN: &str = "integration-token-for-tests";
const ANA: (&str, &str, &str) = ("ana", "Ana Lima", "ana-password");
const BEN: (&str, &str, &str) = ("ben", "Ben Okafor", "ben-password");
const ENTER: &str = "\u{E007}";

async fn hub() -> anyhow::Result<Hub> {
    let hub = Hub::start_with(&[ANA, BEN], |c| {
        c.integration_token = Some(Secret::new(TOKEN));
        c.hidden_case_data_keys = vec!["internal_score".into()];
    })
    .await?;
    seed_contacts(&hub.address(), TOKEN).await?;
    Ok(hub)
}

/// Delivers a simulated customer call to `agent`, answered; returns its id and the
/// contact's name.
async fn call(hub: &Hub, agent: &str) -> anyhow::Result<(String, String)> {
    support::consult::call(&hub.address(), TOKEN, agent).await
}

/// Waits until the engine sees a session with this status, and returns it.
async fn session_becomes(
    engine: &Engine,
    want: SessionStatus,
) -> anyhow::Result<huddle_client::SessionUpdate> {
    let mut events = engine.subscribe();
    if let Some(s) = engine.sessions().into_iter().find(|s| s.status == want) {
        return Ok(s);
    }
    tokio::time::timeout(DEADLINE, async {
        loop {
            match events.recv().await {
                Ok(EngineEvent::Session(s)) if s.status == want => return Ok(s),
                Ok(_) => {}
                Err(e) => bail!("engine events failed: {e}"),
            }
        }
    })
    .await
    .with_context(|| format!("no session became {want:?}"))?
}

/// Signs Ana in to the app.
async fn sign_in_ana(app: &App, hub: &Hub) -> anyhow::Result<()> {
    app.sign_in(&hub.address(), "ana", "ana-password").await?;
    app.text_when("connection-state", |t| t.starts_with("Connected"))
        .await?;
    Ok(())
}

/// Starts an IM consultation with Ben from the selected interaction.
async fn consult_ben(app: &App) -> anyhow::Result<String> {
    consult(app, "Ben").await
}

#[tokio::test(flavor = "multi_thread")]
async fn a_consultation_from_an_active_call_carries_its_first_message_and_case_data(
) -> anyhow::Result<()> {
    let _turn = ONE_APP_AT_A_TIME.lock().await;
    let hub = hub().await?;
    let dir = tempfile::tempdir()?;
    let ben = hub.engine("ben", &dir.path().join("ben")).await?;
    let app = App::start("consultation-inviter").await?;
    sign_in_ana(&app, &hub).await?;
    let (interaction, contact) = call(&hub, "ana").await?;

    // The call shows among Ana's interactions; its view has the case data.
    app.eval_when(
        "the call",
        "return [...document.querySelectorAll('[data-testid=interaction-row]')].map(e => e.dataset.interactionId);",
        vec![],
        |ids| ids.as_array().is_some_and(|a| a.iter().any(|i| i == &interaction)),
    )
    .await?;
    app.click("interaction-row").await?;
    let case_data = app.text_when("case-data", |t| !t.is_empty()).await?;
    assert!(
        case_data.contains("5521") || case_data.contains("Order"),
        "{case_data}"
    );
    assert!(
        !case_data.contains("Internal score"),
        "a hidden key was shown: {case_data}"
    );

    // Start Consultation: the Team Communicator offers an IM consultation, whose window
    // opens Not Connected; nothing has reached Ben.
    let label = consult_ben(&app).await?;
    assert!(ben.sessions().is_empty(), "a draft reached the target");

    // The first message invites Ben, who sees it with the invitation, about this call.
    app.type_into("im-input", &format!("Can you help with {contact}'s order?"))
        .await?;
    app.type_into("im-input", ENTER).await?;
    let invited = session_becomes(&ben, SessionStatus::Invited).await?;
    assert_eq!(
        invited.info.first_message.as_ref().map(|m| m.text.clone()),
        Some(format!("Can you help with {contact}'s order?"))
    );
    assert_eq!(
        invited
            .info
            .context
            .as_ref()
            .map(|c| c.interaction_id.clone()),
        Some(interaction.clone())
    );
    // Before accepting, Ben may not read the customer's data.
    match ben.interaction_details(&interaction).await {
        Err(huddle_client::ClientError::Refused(e)) => {
            assert_eq!(e.code, ErrorCode::InteractionNotPermitted)
        }
        other => bail!("details before accepting gave {other:?}"),
    }
    ben.accept(&invited.info.id).await?;
    let details = ben.interaction_details(&interaction).await?;
    assert_eq!(details.interaction.id, interaction);
    assert!(!details.history.is_empty());
    app.text_when("im-status", |t| t == "Connected").await?;
    app.save_screenshot("-connected")?;
    assert_eq!(label, format!("im-{}", invited.info.id));
    app.finish().await
}

#[tokio::test(flavor = "multi_thread")]
async fn done_on_a_draft_cancels_and_nothing_reaches_the_target() -> anyhow::Result<()> {
    let _turn = ONE_APP_AT_A_TIME.lock().await;
    let hub = hub().await?;
    let dir = tempfile::tempdir()?;
    let ben = hub.engine("ben", &dir.path().join("ben")).await?;
    let app = App::start("consultation-draft-done").await?;
    sign_in_ana(&app, &hub).await?;
    call(&hub, "ana").await?;
    app.click("interaction-row").await?;
    consult_ben(&app).await?;
    app.click_closing("im-done").await?;
    // The window is gone and Ben heard nothing.
    let labels = app.window_labels().await?;
    assert!(labels.iter().all(|l| !l.starts_with("im-")), "{labels:?}");
    assert!(ben.sessions().is_empty());
    app.finish().await
}

#[tokio::test(flavor = "multi_thread")]
async fn the_consulted_agent_sees_case_data_contact_and_history_while_connected(
) -> anyhow::Result<()> {
    let _turn = ONE_APP_AT_A_TIME.lock().await;
    let hub = hub().await?;
    let dir = tempfile::tempdir()?;
    // Ben handles the customer and consults Ana, whose app is under test.
    let ben = hub.engine("ben", &dir.path().join("ben")).await?;
    let app = App::start("consultation-target").await?;
    sign_in_ana(&app, &hub).await?;
    let (interaction, contact) = call(&hub, "ben").await?;
    let ana_id = ben
        .search("ana", Default::default())
        .await?
        .into_iter()
        .find(|e| e.login == "ana")
        .context("no Ana")?;
    let draft = ben.draft(
        huddle_protocol::AgentProfile {
            id: ana_id.id,
            login: ana_id.login.clone(),
            display_name: ana_id.name.clone(),
        },
        huddle_protocol::ConsultContext {
            interaction_id: interaction.clone(),
        },
    );
    let session = ben
        .send_draft(&draft.info.id, "Quick one about this customer")
        .await?;
    app.switch_to(&format!("im-{}", session.id)).await?;
    app.click("im-accept").await?;
    app.text_when("im-status", |t| t == "Connected").await?;

    let case_data = app
        .text_when("consult-case-data", |t| !t.is_empty())
        .await?;
    assert!(!case_data.contains("Internal score"), "{case_data}");
    app.click("tab-contact").await?;
    app.text_when("consult-contact", |t| t.contains(&contact))
        .await?;
    app.click("tab-history").await?;
    let entries = "return document.querySelectorAll('[data-testid=history-entry]').length;";
    let all = app
        .eval_when("the history", entries, vec![], |n| {
            n.as_u64().is_some_and(|n| n > 0)
        })
        .await?;
    app.type_into("history-search", "zzzz-nothing-matches")
        .await?;
    app.eval_when("no match", entries, vec![], |n| n == 0)
        .await?;
    app.save_screenshot("-panel")?;
    assert!(all.as_u64().is_some_and(|n| n > 0));

    // Once the consultation ends, the hub no longer gives the customer's data to Ana.
    ben.end(&session.id).await?;
    app.text_when("im-status", |t| t.contains("Ended")).await?;
    let refused = app
        .eval(
            "return window.__TAURI_INTERNALS__.invoke('im_consultation').then(() => 'given', e => e.message);",
            vec![],
        )
        .await?;
    assert_ne!(refused, "given", "details after the end were given");
    app.finish().await
}

/// Waits until the engine hears of a voice consultation in this state.
async fn voice_becomes(
    events: &mut tokio::sync::broadcast::Receiver<EngineEvent>,
    want: huddle_protocol::VoiceConsultationState,
) -> anyhow::Result<huddle_protocol::VoiceConsultation> {
    tokio::time::timeout(DEADLINE, async {
        loop {
            match events.recv().await {
                Ok(EngineEvent::VoiceConsultation(v)) if v.state == want => return Ok(v),
                Ok(_) => {}
                Err(e) => bail!("engine events failed: {e}"),
            }
        }
    })
    .await
    .with_context(|| format!("no voice consultation became {want:?}"))?
}

#[tokio::test(flavor = "multi_thread")]
async fn a_consultation_about_a_call_becomes_a_voice_consultation_with_the_customer_on_hold(
) -> anyhow::Result<()> {
    use huddle_protocol::VoiceConsultationState as Voice;
    let _turn = ONE_APP_AT_A_TIME.lock().await;
    let hub = hub().await?;
    let dir = tempfile::tempdir()?;
    let ben = hub.engine("ben", &dir.path().join("ben")).await?;
    let mut ben_events = ben.subscribe();
    let app = App::start("consultation-voice").await?;
    sign_in_ana(&app, &hub).await?;
    let (interaction, _) = call(&hub, "ana").await?;
    app.click("interaction-row").await?;
    consult_ben(&app).await?;
    app.type_into("im-input", "Can we talk about this caller?")
        .await?;
    app.type_into("im-input", ENTER).await?;
    let invited = session_becomes(&ben, SessionStatus::Invited).await?;
    ben.accept(&invited.info.id).await?;
    app.text_when("im-status", |t| t == "Connected").await?;

    // Start Voice Consultation: the customer goes on hold and Ben's phone rings.
    app.click("start-voice").await?;
    let ringing = voice_becomes(&mut ben_events, Voice::Ringing).await?;
    assert!(ringing.customer_held);
    assert_eq!(ringing.interaction_id, interaction);
    app.eval_when(
        "the ringing voice bar",
        "return document.querySelector('[data-testid=voice-status]')?.dataset.state;",
        vec![],
        |s| s == "ringing",
    )
    .await?;
    ben.answer_voice_consultation(&ringing.id, true).await?;
    voice_becomes(&mut ben_events, Voice::Connected).await?;
    app.eval_when(
        "the connected voice bar",
        "return document.querySelector('[data-testid=voice-status]')?.dataset.state;",
        vec![],
        |s| s == "connected",
    )
    .await?;
    app.save_screenshot("-connected")?;

    // End it: the customer is taken off hold.
    app.click("end-voice").await?;
    let ended = voice_becomes(&mut ben_events, Voice::Ended).await?;
    assert!(!ended.customer_held);

    // The product's way: Start Consultation on the call offers the active consultation's
    // colleague as the default selection, with Start Voice Consultation.
    app.switch_to("main").await?;
    app.click("start-consultation").await?;
    app.by_test_id("tc-active-entry").await?;
    app.press(ENTER).await?;
    app.click("tc-action-voice").await?;
    let again = voice_becomes(&mut ben_events, Voice::Ringing).await?;
    assert!(again.customer_held);
    app.finish().await
}
