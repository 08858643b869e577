//! End to end: the real app with a screen reader's and a keyboard's eyes. axe-core checks
//! every kind of window (the login form, the main window with its menu, search and history,
//! the toast, an IM window with its find bar) for serious or critical violations; the live
//! regions announce an invitation, a connection and an incoming message; the AT-SPI tree of
//! the real windows names every control; and the invitation is answered and the conversation
//! held with the keyboard alone.
// Linux only: the AT-SPI tree and X11 window states.
#![cfg(target_os = "linux")]

mod support;

use std::process::Command;

use anyhow::{bail, Context};
use huddle_client::{Credential, Engine, EngineEvent};
use serde_json::Value;
use support::{x_window_when, App, Hub};

const ANA: (&str, &str, &str) = ("ana", "Ana Lima", "ana-password");
const BEN: (&str, &str, &str) = ("ben", "Ben Okafor", "ben-password");

const ENTER: &str = "\u{E007}";
const CONTROL: &str = "\u{E009}";
const RELEASE: &str = "\u{E000}";
const IM_WINDOW: &str = "Ben Okafor — Huddle";

/// Runs axe-core in the current window and fails with its findings when any is serious or
/// critical.
async fn axe(app: &App, what: &str) -> anyhow::Result<()> {
    let source = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/ui/node_modules/axe-core/axe.min.js"
    ))
    .context("axe-core is missing: run `npm ci` in ui/")?;
    // Colours are judged as they end up, not halfway through a fade-in (a spinner or a
    // pulse, which never end, are not waited for).
    app.eval_when(
        &format!("the animations in {what} to finish"),
        "return document.getAnimations().filter((a) => a.playState === 'running'
           && a.effect?.getComputedTiming().iterations !== Infinity).length;",
        vec![],
        |v| v == 0,
    )
    .await?;
    let loaded = app
        .eval(&format!("{source}\nreturn typeof window.axe;"), vec![])
        .await?;
    anyhow::ensure!(
        loaded == "object",
        "axe-core did not load in {what}: {loaded}"
    );
    let settled = app
        .eval_promise(
            "return axe.run(document, { resultTypes: ['violations'] }).then((r) =>
               r.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help,
                 nodes: v.nodes.slice(0, 5).map((n) => n.target.join(' ') + ': ' + n.failureSummary) })));",
        )
        .await?;
    let Some(violations) = settled["resolved"].as_array() else {
        bail!("axe-core failed in {what}: {settled}");
    };
    let serious: Vec<&Value> = violations
        .iter()
        .filter(|v| v["impact"] == "serious" || v["impact"] == "critical")
        .collect();
    if !violations.is_empty() {
        eprintln!("axe-core in {what}: {violations:#?}");
    }
    anyhow::ensure!(
        serious.is_empty(),
        "axe-core found serious or critical violations in {what}: {serious:#?}"
    );
    Ok(())
}

/// The controls of a real window as the AT-SPI tree exposes them, as (role, name).
fn controls(title: &str) -> anyhow::Result<Vec<(String, String)>> {
    let out = Command::new("/usr/bin/python3")
        .arg(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/support/atspi_text.py"
        ))
        .args(["--wait", "5", "--controls", title])
        .output()
        .context("cannot run atspi_text.py")?;
    anyhow::ensure!(
        out.status.success(),
        "atspi_text.py: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    Ok(String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| l.split_once('\t'))
        .map(|(role, name)| (role.to_string(), name.to_string()))
        .collect())
}

/// Every control of the window has a name, and those named `expected` are among them.
fn all_named(title: &str, expected: &[&str]) -> anyhow::Result<()> {
    let found = controls(title)?;
    let unnamed: Vec<_> = found.iter().filter(|(_, name)| name.is_empty()).collect();
    anyhow::ensure!(
        unnamed.is_empty(),
        "controls without a name in {title}: {unnamed:?} (all: {found:?})"
    );
    for name in expected {
        anyhow::ensure!(
            found.iter().any(|(_, n)| n == name),
            "no control named {name:?} in {title}: {found:?}"
        );
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn every_window_reads_well_announces_what_comes_and_works_from_the_keyboard(
) -> anyhow::Result<()> {
    let hub = Hub::start(&[ANA, BEN]).await?;
    let app = App::start("a11y").await?;
    axe(&app, "the login form").await?;

    // Signed in with the keyboard: the fields in order, Enter submits.
    app.type_into("login-hub", &hub.address()).await?;
    app.press("\t").await?;
    app.press("ana\tana-password").await?;
    app.press(ENTER).await?;
    app.text_when("connection-state", |t| t.starts_with("Connected"))
        .await?;
    axe(&app, "the main window").await?;
    all_named("Huddle", &["Search conversations", "Main menu"])?;

    app.click("main-menu").await?;
    app.by_test_id("pref-spell-check").await?;
    axe(&app, "the main menu and its preferences").await?;
    app.press("\u{E00C}").await?; // Escape
    app.click("conversations-tab-history").await?;
    axe(&app, "the history").await?;
    app.click("conversations-tab-open").await?;

    // An invitation: the toast, and the main window says so to a screen reader.
    let data = tempfile::tempdir()?;
    let (ben, _) = Engine::sign_in(
        &hub.address(),
        "ben",
        Credential::Password("ben-password".into()),
        data.path(),
    )
    .await?;
    let ana_id = support::agent_id(&ben, "ana").await?;
    let session = ben
        .invite(ana_id, Some("Can you take a look?"), None)
        .await?;
    app.text_when("conversations-live", |t| {
        t.contains("Instant message invitation from Ben Okafor: Can you take a look?")
    })
    .await?;
    x_window_when("Huddle — invitation", "shown", |w| {
        w.is_some_and(|w| w.shown())
    })
    .await?;
    app.switch_to("toast").await?;
    axe(&app, "the toast").await?;

    // The IM window takes the invitation from the keyboard: Accept has the focus.
    app.switch_to(&format!("im-{}", session.id)).await?;
    axe(&app, "an IM window with an invitation").await?;
    app.eval_when(
        "the focus on Accept",
        "return document.activeElement?.dataset.testid;",
        vec![],
        |v| v == "im-accept",
    )
    .await?;
    app.press(ENTER).await?;
    app.text_when("im-status", |t| t == "Connected").await?;
    app.switch_to("main").await?;
    app.text_when("conversations-live", |t| {
        t.contains("Connected with Ben Okafor")
    })
    .await?;

    // Ben writes: the window announces it; Ana answers without the mouse.
    app.switch_to(&format!("im-{}", session.id)).await?;
    let mut events = ben.subscribe();
    ben.send_message(&session.id, "The order is 10442.").await?;
    app.text_when("im-live", |t| t.contains("Ben Okafor: The order is 10442."))
        .await?;
    app.eval_when(
        "the focus in the message field",
        "return document.activeElement?.dataset.testid;",
        vec![],
        |v| v == "im-input",
    )
    .await?;
    app.press(&format!("Looking now{ENTER}")).await?;
    tokio::time::timeout(support::DEADLINE, async {
        loop {
            match events.recv().await {
                Ok(EngineEvent::Message(m)) if m.text == "Looking now" => return Ok(()),
                Ok(_) => {}
                Err(e) => bail!("Ben's events: {e}"),
            }
        }
    })
    .await
    .context("Ben never got the answer")??;
    axe(&app, "a connected IM window").await?;
    all_named(IM_WINDOW, &["Message to Ben Okafor", "End Session"])?;

    app.press(&format!("{CONTROL}f{RELEASE}")).await?;
    app.by_test_id("im-find-field").await?;
    app.press("10442").await?;
    app.text_when("im-find-status", |t| t == "1 of 1").await?;
    axe(&app, "an IM window finding in its transcript").await?;

    // The search of every conversation, from the keyboard.
    app.switch_to("main").await?;
    app.type_into("tc-search", &format!("{CONTROL}k{RELEASE}"))
        .await?;
    app.by_test_id("search-field").await?;
    app.press("10442").await?;
    app.eval_when(
        "a match",
        "return document.querySelectorAll('[data-testid=search-hit]').length;",
        vec![],
        |v| v == 1,
    )
    .await?;
    axe(&app, "the search of every conversation").await?;
    app.finish().await
}
