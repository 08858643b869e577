//! End to end: the app as a desktop citizen: the OS's light or dark theme, one instance per
//! profile, and the main window back where the agent left it.
// Linux only: X11 window tools, GTK themes and XDG folders.
#![cfg(target_os = "linux")]

mod support;

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use huddle_client::{Credential, Engine};
use huddle_protocol::Presence;
use support::{App, Bot, Hub, Profile, DEADLINE};

/// The app's windows share one display; one app at a time keeps the runs independent.
static ONE_APP_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

const TEAM: [(&str, &str, &str); 6] = [
    ("ana", "Ana Lima", "ana-password"),
    ("ben", "Ben Okafor", "ben-password"),
    ("chloe", "Chloé Martin", "chloe-password"),
    ("dev", "Dev Patel", "dev-password"),
    ("emma", "Emma Schmidt", "emma-password"),
    ("farid", "Farid Haddad", "farid-password"),
];

/// The relative luminance (0 dark – 1 light) of the page's background.
const BACKGROUND_LUMINANCE: &str = "
    const [r, g, b] = getComputedStyle(document.body).backgroundColor
        .match(/[\\d.]+/g).slice(0, 3).map(Number);
    return (0.2126 * r + 0.7152 * g + 0.0722 * b) / 255;";

/// A colleague signed in with this presence; signed in as long as the engine is kept.
async fn colleague(
    hub: &Hub,
    login: &str,
    presence: Presence,
) -> anyhow::Result<(Engine, tempfile::TempDir)> {
    let dir = tempfile::tempdir()?;
    let (engine, _) = Engine::sign_in(
        &hub.address(),
        login,
        Credential::Password(format!("{login}-password")),
        dir.path(),
    )
    .await?;
    engine.set_presence(presence).await?;
    Ok((engine, dir))
}

/// Ana's desktop with a team around her and a conversation with Ben, in one theme; the
/// screenshots are the README's.
async fn desktop_in_theme(dark: bool) -> anyhow::Result<()> {
    let theme = if dark { "dark" } else { "light" };
    let hub = Hub::start(&TEAM).await?;
    let bot_data = tempfile::tempdir()?;
    let script = bot_data.path().join("answers.txt");
    std::fs::write(
        &script,
        "shipped: Yes, the replacement left the warehouse this morning. Tracking: 1Z 999 AA1 0123.\n\
         thank: Anytime!\n",
    )?;
    let script = script.to_string_lossy().to_string();
    let _ben = Bot::start(
        &hub.address(),
        "ben",
        bot_data.path(),
        &[
            "--script",
            &script,
            "--accept-delay-ms",
            "200",
            "--reply-delay-ms",
            "300",
        ],
    )?;
    let _chloe = colleague(&hub, "chloe", Presence::Busy).await?;
    let _dev = colleague(&hub, "dev", Presence::Away).await?;
    let _emma = colleague(&hub, "emma", Presence::NotReady).await?;

    let gtk_theme = if dark { "Adwaita:dark" } else { "Adwaita" };
    let app = App::start_with_env(&format!("desktop-{theme}"), &[("GTK_THEME", gtk_theme)]).await?;
    let luminance = app
        .eval(BACKGROUND_LUMINANCE, vec![])
        .await?
        .as_f64()
        .context("no background colour")?;
    if dark {
        assert!(
            luminance < 0.3,
            "a dark desktop got a light page ({luminance})"
        );
    } else {
        assert!(
            luminance > 0.7,
            "a light desktop got a dark page ({luminance})"
        );
    }

    app.sign_in(&hub.address(), "ana", "ana-password").await?;
    app.text_when("connection-state", |t| t.starts_with("Connected"))
        .await?;
    app.eval_when(
        "the team",
        "return document.querySelectorAll('[data-testid=tc-entry]').length;",
        vec![],
        |n| n == 5,
    )
    .await?;
    app.eval_when(
        "Ben ready",
        "return [...document.querySelectorAll('[data-testid=tc-entry]')]
            .find(e => e.dataset.login === 'ben')?.querySelector('[data-testid=tc-presence]')?.innerText;",
        vec![],
        |p| p.as_str().is_some_and(|p| p.contains("Ready")),
    )
    .await?;
    app.eval(
        "[...document.querySelectorAll('[data-testid=tc-entry]')].find(e => e.dataset.login === 'ben').click();",
        vec![],
    )
    .await?;
    app.click("tc-action-im").await?;
    app.switch_to_im().await?;
    app.text_when("im-status", |t| t == "Connected").await?;
    app.type_into(
        "im-input",
        "Hi Ben, my customer asks whether order 5521 has shipped. Can you check?",
    )
    .await?;
    app.type_into("im-input", "\u{E007}").await?;
    app.eval_when(
        "Ben's answer",
        "return document.querySelectorAll('[data-testid=im-entry]').length;",
        vec![],
        |n| n == 2,
    )
    .await?;
    app.type_into("im-input", "Perfect, thanks! I'll tell her.")
        .await?;
    app.type_into("im-input", "\u{E007}").await?;
    app.eval_when(
        "the thanks",
        "return document.querySelectorAll('[data-testid=im-entry]').length;",
        vec![],
        |n| n == 4,
    )
    .await?;
    // One picture per window: the IM window steps aside for the main window's.
    app.save_window_screenshot("Ben Okafor — Huddle", "-im")?;
    let minimized = Command::new("xdotool")
        .args([
            "search",
            "--name",
            "^Ben Okafor — Huddle$",
            "windowminimize",
            "%@",
        ])
        .status()?;
    assert!(minimized.success());
    app.switch_to("main").await?;
    app.eval_when(
        "the main window in front",
        "return document.hasFocus() || document.visibilityState === 'visible';",
        vec![],
        |v| v == true,
    )
    .await?;
    app.save_window_screenshot("Huddle", "-main")?;
    app.finish().await
}

#[tokio::test(flavor = "multi_thread")]
async fn the_light_theme_follows_the_os() -> anyhow::Result<()> {
    let _turn = ONE_APP_AT_A_TIME.lock().await;
    desktop_in_theme(false).await
}

#[tokio::test(flavor = "multi_thread")]
async fn the_dark_theme_follows_the_os() -> anyhow::Result<()> {
    let _turn = ONE_APP_AT_A_TIME.lock().await;
    desktop_in_theme(true).await
}

/// The geometry `wmctrl -lG` gives the window titled exactly `title`: x, y, width, height.
fn geometry(title: &str) -> anyhow::Result<Option<[i64; 4]>> {
    let out = Command::new("wmctrl")
        .arg("-lG")
        .output()
        .context("cannot run wmctrl")?;
    for line in String::from_utf8_lossy(&out.stdout).lines() {
        let fields: Vec<&str> = line.split_whitespace().collect();
        if fields.len() >= 8 && fields[7..].join(" ") == title {
            let n = |i: usize| fields[i].parse::<i64>().unwrap_or(-1);
            return Ok(Some([n(2), n(3), n(4), n(5)]));
        }
    }
    Ok(None)
}

async fn until<T>(
    what: &str,
    mut probe: impl FnMut() -> anyhow::Result<Option<T>>,
) -> anyhow::Result<T> {
    let start = Instant::now();
    while start.elapsed() < DEADLINE {
        if let Some(found) = probe()? {
            return Ok(found);
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    bail!("{what} never happened")
}

/// Whether the main window is shown (not minimized), from its `_NET_WM_STATE`.
fn visible_main_window() -> anyhow::Result<bool> {
    let out = Command::new("xdotool")
        .args(["search", "--name", "^Huddle$"])
        .output()
        .context("cannot run xdotool")?;
    let ids = String::from_utf8_lossy(&out.stdout).to_string();
    for id in ids.split_whitespace() {
        let state = Command::new("xprop")
            .args(["-id", id, "_NET_WM_STATE", "WM_STATE"])
            .output()
            .context("cannot run xprop")?;
        let state = String::from_utf8_lossy(&state.stdout).to_string();
        if state.contains("Normal") && !state.contains("_NET_WM_STATE_HIDDEN") {
            return Ok(true);
        }
    }
    Ok(false)
}

#[tokio::test(flavor = "multi_thread")]
async fn one_instance_per_profile_and_the_main_window_comes_back_where_it_was() -> anyhow::Result<()>
{
    let _turn = ONE_APP_AT_A_TIME.lock().await;
    let profile = Profile::new()?;
    let app = App::start_in(&profile, "placed").await?;
    app.by_test_id("login-hub").await?;
    let moved = Command::new("wmctrl")
        .args(["-F", "-r", "Huddle", "-e", "0,180,90,880,600"])
        .status()?;
    assert!(moved.success());
    let placed = until("the move", || {
        Ok(geometry("Huddle")?.filter(|g| g[0] >= 150 && g[2] == 880))
    })
    .await?;
    let settings = profile.config_dir().join("settings.json");
    until("the place saved", || {
        Ok(std::fs::read_to_string(&settings)
            .ok()
            .filter(|s| s.contains("\"main\"") && s.contains("880")))
    })
    .await?;

    // A second launch on the same profile hands over to the first and leaves.
    let minimized = Command::new("xdotool")
        .args(["search", "--name", "^Huddle$", "windowminimize", "%@"])
        .status()?;
    assert!(minimized.success());
    until("the minimize", || {
        Ok((!visible_main_window()?).then_some(()))
    })
    .await?;
    let mut second = Command::new(support::app_binary())
        .envs(profile.env())
        .env("WEBKIT_DISABLE_DMABUF_RENDERER", "1")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()?;
    let exit = until("the second instance to leave", || Ok(second.try_wait()?)).await?;
    assert!(exit.success(), "{exit}");
    until("the first instance to come up", || {
        Ok(visible_main_window()?.then_some(()))
    })
    .await?;
    app.finish().await?;

    // Started again: the main window is where it was left.
    let app = App::start_in(&profile, "placed-again").await?;
    app.by_test_id("login-hub").await?;
    let again = until("the main window", || geometry("Huddle")).await?;
    assert_eq!(again, placed);
    app.finish().await
}

#[tokio::test(flavor = "multi_thread")]
async fn starting_at_login_writes_the_autostart_entry_and_starts_to_the_tray() -> anyhow::Result<()>
{
    let _turn = ONE_APP_AT_A_TIME.lock().await;
    let profile = Profile::new()?;
    let entry = profile.path().join("config/autostart/huddle.desktop");
    let hub = Hub::start(&TEAM[..1]).await?;
    let app = App::start_in(&profile, "autostart").await?;
    until("the main window to show", || {
        Ok(visible_main_window()?.then_some(()))
    })
    .await?;
    app.sign_in(&hub.address(), "ana", "ana-password").await?;

    // Off by default; the main menu turns it on, and the entry is written.
    app.click("main-menu").await?;
    let toggle = "return document.querySelector('[data-testid=pref-start-at-login]').getAttribute('aria-checked');";
    app.eval_when("the preference, off", toggle, vec![], |v| v == "false")
        .await?;
    assert!(!entry.exists(), "no entry before the agent asks");
    app.click("pref-start-at-login").await?;
    app.eval_when("the preference, on", toggle, vec![], |v| v == "true")
        .await?;
    let text = std::fs::read_to_string(&entry).context("the autostart entry")?;
    let exec = format!("Exec=\"{}\" --background", support::app_binary());
    assert!(text.contains(&exec), "{text}");
    assert!(text.contains("Hidden=false"), "{text}");

    // Off again: the entry goes.
    app.click("pref-start-at-login").await?;
    app.eval_when("the preference, off again", toggle, vec![], |v| {
        v == "false"
    })
    .await?;
    assert!(!entry.exists(), "the entry is removed");
    app.click("pref-start-at-login").await?;
    app.eval_when("the preference, on again", toggle, vec![], |v| v == "true")
        .await?;
    app.finish().await?;

    // As the desktop starts it at login: running, its main window not shown.
    let app = App::start_in_with_args(&profile, "autostarted", &["--background"]).await?;
    app.text_when("connection-state", |t| t.starts_with("Connected"))
        .await?;
    assert!(
        !visible_main_window()?,
        "started at login, the main window waits"
    );
    app.finish().await
}

/// The app's log so far, from the profile's logs folder.
fn app_log(profile: &Profile) -> anyhow::Result<String> {
    let mut log = String::new();
    let dir = profile.log_dir();
    for entry in std::fs::read_dir(&dir).context("no logs folder")? {
        let path = entry?.path();
        if path.extension().is_some_and(|e| e == "log") {
            log.push_str(&std::fs::read_to_string(&path)?);
        }
    }
    Ok(log)
}

#[tokio::test(flavor = "multi_thread")]
async fn spelling_is_checked_in_the_message_field_in_the_language_chosen() -> anyhow::Result<()> {
    let _turn = ONE_APP_AT_A_TIME.lock().await;
    let hub = Hub::start(&TEAM[..2]).await?;
    let _ben = Bot::prompt(&hub.address(), "ben", "Noted.")?;
    let profile = Profile::new()?;
    let app = App::start_in(&profile, "spelling").await?;
    app.sign_in(&hub.address(), "ana", "ana-password").await?;
    app.text_when("connection-state", |t| t.starts_with("Connected"))
        .await?;
    // WebKit says which dictionaries it took: the system's English one here.
    until("spell checking on, in English", || {
        Ok(app_log(&profile)?
            .contains("spell checking enabled=true languages=[\"en_US\"]")
            .then_some(()))
    })
    .await?;

    app.send_im_from_team_communicator("ben", "Ben Okafor")
        .await?;
    let field = app.by_test_id("im-input").await?;
    assert_eq!(field.attr("spellcheck").await?.as_deref(), Some("true"));

    // The main menu offers the installed dictionaries, and turns checking off.
    app.switch_to("main").await?;
    app.click("main-menu").await?;
    app.eval_when(
        "the dictionaries offered",
        "return [...document.querySelectorAll('[data-testid=pref-spell-language] option')].map(o => o.value);",
        vec![],
        |v| v.as_array().is_some_and(|a| a.iter().any(|o| o == "en_US")),
    )
    .await?;
    app.click("pref-spell-check").await?;
    until("spell checking off", || {
        Ok(app_log(&profile)?
            .contains("spell checking enabled=false")
            .then_some(()))
    })
    .await?;
    app.finish().await
}
