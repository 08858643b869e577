//! End to end: the search of every conversation and the history, through the real app. A
//! message thousands back opens highlighted in its window, from the main window's search and
//! from the window's own Ctrl+F, offline too; ended conversations stay listed and open
//! read-only with their whole transcript.

mod support;

use std::time::Duration;

use anyhow::{bail, Context};
use huddle_client::{Engine, EngineEvent};
use support::{agent_id, App, Hub};

/// The app's windows share one display; one app at a time keeps the runs independent.
static ONE_APP_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

const ANA: (&str, &str, &str) = ("ana", "Ana Lima", "ana-password");
const BEN: (&str, &str, &str) = ("ben", "Ben Okafor", "ben-password");
const CHLOE: (&str, &str, &str) = ("chloe", "Chloé Martin", "chloe-password");

const ENTER: &str = "\u{E007}";
const CONTROL: &str = "\u{E009}";
/// Releases the modifier keys WebDriver holds down.
const RELEASE: &str = "\u{E000}";

/// The messages of the long conversation; the needle is the hundredth.
const MESSAGES: usize = 5_100;
const NEEDLE_AT: usize = 100;

/// The revealed entry's text, and whether it lies wholly within the transcript's view.
const REVEALED: &str = "const entry = document.querySelector('[data-revealed]');
    if (!entry) return null;
    const view = document.querySelector('[data-testid=im-transcript]').getBoundingClientRect();
    const box = entry.getBoundingClientRect();
    return { text: entry.querySelector('[data-testid=im-entry-text]').innerText,
             visible: box.top >= view.top && box.bottom <= view.bottom };";

/// Sends `texts` from `from` in `session` and returns once the hub has them all.
async fn send_all(from: &Engine, session: &str, texts: &[String]) -> anyhow::Result<()> {
    let mut events = from.subscribe();
    let mut last = None;
    for text in texts {
        last = Some(from.send_message(session, text).await?.id);
    }
    let last = last.context("nothing to send")?;
    tokio::time::timeout(Duration::from_secs(300), async {
        loop {
            match events.recv().await {
                Ok(EngineEvent::Message(m)) if m.id == last && m.seq.is_some() => return Ok(()),
                Ok(_) | Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {}
                Err(e) => bail!("engine events: {e}"),
            }
        }
    })
    .await
    .context("the messages were not all sent in time")?
}

/// Waits for the revealed entry to show `text`, in view.
async fn revealed(app: &App, text: &str) -> anyhow::Result<()> {
    app.eval_when(
        &format!("the message {text:?} shown highlighted"),
        REVEALED,
        vec![],
        |v| v["text"].as_str().is_some_and(|t| t.contains(text)) && v["visible"] == true,
    )
    .await
    .map(|_| ())
}

/// Opens the main window's search with Ctrl+K, searches `query` and waits for `hits` matches;
/// returns the first match's colleague and marked words.
async fn search(app: &App, query: &str, hits: usize) -> anyhow::Result<serde_json::Value> {
    app.switch_to("main").await?;
    // Ctrl+K works wherever the focus is in the main window.
    app.type_into("tc-search", &format!("{CONTROL}k{RELEASE}"))
        .await?;
    app.fill("search-field", query).await?;
    app.eval_when(
        &format!("{hits} matches for {query:?}"),
        "const hits = [...document.querySelectorAll('[data-testid=search-hit]')];
         return { count: hits.length,
                  colleague: hits[0]?.querySelector('[data-testid=search-hit-colleague]').innerText,
                  marked: [...(hits[0]?.querySelectorAll('mark') ?? [])].map(m => m.innerText),
                  when: hits[0]?.querySelector('[data-testid=search-hit-when]').innerText };",
        vec![],
        |v| v["count"] == hits,
    )
    .await
}

#[tokio::test(flavor = "multi_thread")]
async fn a_message_5000_back_opens_highlighted_from_either_search_even_offline(
) -> anyhow::Result<()> {
    let _turn = ONE_APP_AT_A_TIME.lock().await;
    let hub = Hub::start_with(&[ANA, BEN, CHLOE], |c| {
        // The long transcript is written faster than anyone types.
        c.limits.messages_per_second = 100_000;
        c.limits.message_burst = 100_000;
    })
    .await?;
    let data = tempfile::tempdir()?;
    let ana = hub.engine("ana", &data.path().join("ana")).await?;
    let ben = hub.engine("ben", &data.path().join("ben")).await?;
    let long = ana.invite(agent_id(&ana, "ben").await?, None, None).await?;
    ben.accept(&long.id).await?;
    let texts: Vec<String> = (1..=MESSAGES)
        .map(|i| match i {
            NEEDLE_AT => "The Zanzibar account wants its refund by Friday".to_string(),
            _ => format!("Message {i} about order {}", 10_000 + i),
        })
        .collect();
    send_all(&ben, &long.id, &texts).await?;
    ana.sign_out().await;

    let app = App::start("search").await?;
    app.sign_in(&hub.address(), "ana", "ana-password").await?;
    app.text_when("connection-state", |t| t.starts_with("Connected"))
        .await?;

    // From the main window: the match, its colleague and the words found.
    let first = search(&app, "zanzibar", 1).await?;
    assert_eq!(first["colleague"], "Ben Okafor");
    assert_eq!(first["marked"], serde_json::json!(["Zanzibar"]));
    assert!(
        first["when"]
            .as_str()
            .is_some_and(|w| w.starts_with("Today, ")),
        "the match's date: {first}"
    );
    app.save_screenshot("-results")?;
    app.type_into("search-field", ENTER).await?;
    app.switch_to(&format!("im-{}", long.id)).await?;
    revealed(&app, "Zanzibar account").await?;
    #[cfg(target_os = "linux")]
    app.save_window_screenshot("Ben Okafor — Huddle", "-revealed")?;

    // Within the window, Ctrl+F finds in its transcript, newest match first.
    app.type_into("im-input", &format!("{CONTROL}f{RELEASE}"))
        .await?;
    app.fill("im-find-field", "order 15050").await?;
    app.text_when("im-find-status", |t| t == "1 of 1").await?;
    revealed(&app, "Message 5050 about order 15050").await?;

    // Offline, the cache still answers, and the open window shows the match asked for.
    hub.stop().await?;
    app.switch_to("main").await?;
    app.text_when("connection-state", |t| t.starts_with("Offline"))
        .await?;
    search(&app, "order 10007", 1).await?;
    app.type_into("search-field", ENTER).await?;
    app.switch_to(&format!("im-{}", long.id)).await?;
    revealed(&app, "Message 7 about order 10007").await?;
    app.finish().await
}

#[tokio::test(flavor = "multi_thread")]
async fn an_ended_conversation_stays_in_the_history_and_opens_read_only() -> anyhow::Result<()> {
    let _turn = ONE_APP_AT_A_TIME.lock().await;
    let hub = Hub::start(&[ANA, BEN, CHLOE]).await?;
    let app = App::start("history").await?;
    app.sign_in(&hub.address(), "ana", "ana-password").await?;
    app.text_when("connection-state", |t| t.starts_with("Connected"))
        .await?;

    // Ana's other device holds a conversation with Chloé, which Chloé ends.
    let data = tempfile::tempdir()?;
    let ana = hub.engine("ana", &data.path().join("ana")).await?;
    let chloe = hub.engine("chloe", &data.path().join("chloe")).await?;
    let session = ana
        .invite(agent_id(&ana, "chloe").await?, None, None)
        .await?;
    chloe.accept(&session.id).await?;
    let said = [
        "Can you take the Quokka Ltd escalation?".to_string(),
        "Done, it is closed.".to_string(),
    ];
    send_all(&chloe, &session.id, &said).await?;
    chloe.end(&session.id).await?;

    app.click("conversations-tab-history").await?;
    app.eval_when(
        "the ended conversation in the history, under Today",
        "return { days: [...document.querySelectorAll('[data-testid=history-day]')].map(d => d.textContent),
                  rows: [...document.querySelectorAll('[data-testid=history-list] [data-testid=session-row]')]
                    .map(r => r.dataset.sessionId) };",
        vec![],
        |v| v["rows"] == serde_json::json!([session.id]) && v["days"] == serde_json::json!(["Today"]),
    )
    .await?;
    app.fill("history-filter", "ben").await?;
    app.text_when("history-empty", |t| {
        t.contains("No conversation with this colleague")
    })
    .await?;
    app.fill("history-filter", "chlo").await?;
    app.save_screenshot("-list")?;
    app.click("session-row").await?;
    app.switch_to(&format!("im-{}", session.id)).await?;
    app.eval_when(
        "the whole transcript, read-only",
        "return { texts: [...document.querySelectorAll('[data-testid=im-entry-text]')].map(e => e.innerText),
                  field: document.querySelector('[data-testid=im-input]')?.disabled ?? null };",
        vec![],
        // The field is there, and disabled.
        |v| v["texts"] == serde_json::json!(said) && v["field"] == true,
    )
    .await?;
    app.text_when("im-status", |t| t.contains("Ended")).await?;

    // The ended conversation is searched too; its window, open, shows the match.
    search(&app, "quokka", 1).await?;
    app.type_into("search-field", ENTER).await?;
    app.switch_to(&format!("im-{}", session.id)).await?;
    revealed(&app, "Quokka Ltd escalation").await?;
    app.finish().await
}
