//! End to end: how an invitation reaches a busy agent and is answered: the toast, the OS
//! notification (a notification server on the session bus records it and clicks its
//! buttons), the tray (a tray watcher reads and clicks its menu), and the IM window waiting
//! minimized in the taskbar.
// Linux only: the desktop's D-Bus services and X11 window states.
#![cfg(target_os = "linux")]

mod support;

use anyhow::{bail, Context};
use huddle_client::{Credential, EndCause, Engine, EngineEvent, SessionStatus};
use serde_json::json;
use support::bus::{self, Service, TrayItem};
use support::{active_window_title, x_window_when, App, Hub, Profile, DEADLINE};

/// The app's windows share one display, and the fake desktop services one bus name each.
static ONE_APP_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

const ANA: (&str, &str, &str) = ("ana", "Ana Lima", "ana-password");
const BEN: (&str, &str, &str) = ("ben", "Ben Okafor", "ben-password");

const IM_WINDOW: &str = "Ben Okafor — Huddle";
const TOAST: &str = "Huddle — invitation";
const TRAY_ITEM: &str = "Instant message from Ben Okafor";

struct Desktop {
    hub: Hub,
    ben: Engine,
    ana_id: i64,
    _dir: tempfile::TempDir,
}

impl Desktop {
    async fn start() -> anyhow::Result<Self> {
        Self::start_with(|_| {}).await
    }

    /// Like [`Desktop::start`], with the hub's configuration changed by `tune`.
    async fn start_with(tune: impl FnOnce(&mut huddle_hub::Config)) -> anyhow::Result<Self> {
        let hub = Hub::start_with(&[ANA, BEN], tune).await?;
        let dir = tempfile::tempdir()?;
        let (ben, _) = Engine::sign_in(
            &hub.address(),
            "ben",
            Credential::Password("ben-password".into()),
            &dir.path().join("ben"),
        )
        .await?;
        let ana_id = support::agent_id(&ben, "ana").await?;
        Ok(Self {
            hub,
            ben,
            ana_id,
            _dir: dir,
        })
    }

    /// Ben invites Ana, with a first message.
    async fn invite(&self, text: &str) -> anyhow::Result<String> {
        Ok(self.ben.invite(self.ana_id, Some(text), None).await?.id)
    }

    /// Waits until Ben's engine sees the session with this status.
    async fn ben_sees(&self, session: &str, want: SessionStatus) -> anyhow::Result<()> {
        let mut events = self.ben.subscribe();
        if self.ben.session_status(session) == Some(want) {
            return Ok(());
        }
        tokio::time::timeout(DEADLINE, async {
            loop {
                match events.recv().await {
                    Ok(EngineEvent::Session(s)) if s.info.id == session && s.status == want => {
                        return Ok(())
                    }
                    Ok(_) => {}
                    Err(e) => bail!("Ben's events failed: {e}"),
                }
            }
        })
        .await
        .with_context(|| format!("Ben never saw {want:?}"))?
    }
}

/// Signs Ana in, and waits until the main window has the focus.
async fn sign_in_ana(app: &App, desktop: &Desktop) -> anyhow::Result<()> {
    app.sign_in(&desktop.hub.address(), "ana", "ana-password")
        .await?;
    app.text_when("connection-state", |t| t.starts_with("Connected"))
        .await?;
    x_window_when("Huddle", "focused", |w| {
        w.is_some() && active_window_title().is_ok_and(|t| t == "Huddle")
    })
    .await?;
    Ok(())
}

fn write_preferences(profile: &Profile, preferences: serde_json::Value) -> anyhow::Result<()> {
    let dir = profile.config_dir();
    std::fs::create_dir_all(&dir)?;
    std::fs::write(
        dir.join("settings.json"),
        serde_json::to_vec(&json!({ "preferences": preferences }))?,
    )?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn an_invitation_shows_everywhere_and_is_accepted_from_the_toast() -> anyhow::Result<()> {
    let _turn = ONE_APP_AT_A_TIME.lock().await;
    let services = tempfile::tempdir()?;
    let notifications = Service::notifications(services.path()).await?;
    let watcher = Service::watcher(services.path()).await?;
    let desktop = Desktop::start().await?;
    let app = App::start("invitation-toast").await?;
    let tray = TrayItem::of(&watcher).await?;
    let idle_icon = tray.state()?["icon"].clone();
    sign_in_ana(&app, &desktop).await?;

    let session = desktop
        .invite("Can you take a billing question for me?")
        .await?;

    // The IM window waits minimized in the taskbar, asking for attention.
    let waiting = x_window_when(IM_WINDOW, "minimized", |w| w.is_some_and(|w| w.minimized()))
        .await?
        .context("no IM window")?;
    assert!(waiting.demands_attention(), "{waiting:?}");
    // The toast shows who invites and the first message, without taking the focus.
    x_window_when(TOAST, "shown", |w| w.is_some_and(|w| w.shown())).await?;
    assert_eq!(active_window_title()?, "Huddle");
    // Three windows (main, IM, toast), one web process: WebKitGTK would start one for each.
    assert_eq!(
        support::web_processes()?,
        1,
        "the windows do not share a web process"
    );
    app.switch_to("toast").await?;
    app.text_when("toast-from", |t| t.contains("Ben Okafor"))
        .await?;
    app.text_when("toast-message", |t| t.contains("billing question"))
        .await?;
    // A window hears only its own news: the toast's script may not listen to what the
    // shell tells the other windows (messages, sessions).
    let refused = app
        .eval_promise(
            "return window.__TAURI_INTERNALS__.invoke('plugin:event|listen', {
                 event: 'message', target: {kind: 'Any'},
                 handler: window.__TAURI_INTERNALS__.transformCallback(() => {})})",
        )
        .await?;
    assert!(
        refused["rejected"]
            .as_str()
            .is_some_and(|e| e.contains("not allowed")),
        "{refused}"
    );
    // The OS notification says the same, with Accept and Reject.
    let shown = notifications
        .record("the notification", |r| r["event"] == "notify")
        .await?;
    assert!(
        shown["summary"]
            .as_str()
            .is_some_and(|s| s.contains("Ben Okafor")),
        "{shown}"
    );
    assert!(
        shown["body"]
            .as_str()
            .is_some_and(|s| s.contains("billing question")),
        "{shown}"
    );
    let actions = shown["actions"].as_array().context("no actions")?;
    for (key, label) in [("accept", "Accept"), ("reject", "Reject")] {
        assert!(
            actions.contains(&json!(key)) && actions.contains(&json!(label)),
            "{shown}"
        );
    }
    // The tray shows that one invitation waits, and lists it.
    let pending = tray
        .state_when("the invitation", |s| {
            s["label"] == "1"
                && s["menu"]
                    .as_array()
                    .is_some_and(|m| m.iter().any(|i| i["label"] == TRAY_ITEM))
        })
        .await?;
    assert_ne!(pending["icon"], idle_icon, "the icon did not change");
    app.save_screenshot("-waiting")?;

    // Accept on the toast: the IM window comes up connected and focused.
    app.click("toast-accept").await?;
    desktop.ben_sees(&session, SessionStatus::Connected).await?;
    x_window_when(IM_WINDOW, "shown", |w| w.is_some_and(|w| w.shown())).await?;
    x_window_when(TOAST, "hidden", |w| w.is_none_or(|w| !w.shown())).await?;
    app.switch_to(&format!("im-{session}")).await?;
    app.text_when("im-status", |t| t == "Connected").await?;
    x_window_when(IM_WINDOW, "focused", |_| {
        active_window_title().is_ok_and(|t| t == IM_WINDOW)
    })
    .await?;
    // Everything else lets go of it.
    notifications
        .record("the notification closed", |r| r["event"] == "close")
        .await?;
    tray.state_when("no invitation", |s| {
        s["label"] != "1"
            && s["menu"]
                .as_array()
                .is_some_and(|m| !m.iter().any(|i| i["label"] == TRAY_ITEM))
    })
    .await?;
    app.finish().await
}

#[tokio::test(flavor = "multi_thread")]
async fn rejected_from_the_notification_and_opened_from_the_tray() -> anyhow::Result<()> {
    let _turn = ONE_APP_AT_A_TIME.lock().await;
    let services = tempfile::tempdir()?;
    let notifications = Service::notifications(services.path()).await?;
    let watcher = Service::watcher(services.path()).await?;
    let desktop = Desktop::start().await?;
    // Ana keeps what colleagues write off her notifications (her screen faces the floor).
    let profile = Profile::new()?;
    write_preferences(&profile, json!({ "text_in_notifications": false }))?;
    let app = App::start_in(&profile, "invitation-notification").await?;
    let tray = TrayItem::of(&watcher).await?;
    sign_in_ana(&app, &desktop).await?;

    // The notification says who wrote, not what; reject on it: Ben is told, and the waiting
    // window goes.
    let first = desktop.invite("First question about a card number").await?;
    let shown = notifications
        .record("the first notification", |r| r["event"] == "notify")
        .await?;
    assert_eq!(
        shown["body"], "Ben Okafor sent you a message. Open Huddle to read it.",
        "{shown}"
    );
    assert!(!shown.to_string().contains("card number"), "{shown}");
    bus::invoke(shown["id"].as_u64().context("no id")?, "reject")?;
    desktop
        .ben_sees(
            &first,
            SessionStatus::Ended(EndCause::Rejected { by_me: false }),
        )
        .await?;
    x_window_when(IM_WINDOW, "closed", |w| w.is_none()).await?;

    // Open from the tray's menu: the window comes up, with Accept and Reject waiting.
    let second = desktop.invite("Second question").await?;
    tray.state_when("the invitation", |s| {
        s["menu"]
            .as_array()
            .is_some_and(|m| m.iter().any(|i| i["label"] == TRAY_ITEM))
    })
    .await?;
    tray.click(TRAY_ITEM)?;
    x_window_when(IM_WINDOW, "shown", |w| w.is_some_and(|w| w.shown())).await?;
    app.switch_to(&format!("im-{second}")).await?;
    app.click("im-accept").await?;
    desktop.ben_sees(&second, SessionStatus::Connected).await?;
    app.text_when("im-status", |t| t == "Connected").await?;
    app.finish().await
}

#[tokio::test(flavor = "multi_thread")]
async fn an_unanswered_toast_goes_the_im_waits_and_once_withdrawn_is_listed_as_missed(
) -> anyhow::Result<()> {
    let _turn = ONE_APP_AT_A_TIME.lock().await;
    let desktop = Desktop::start().await?;
    let profile = Profile::new()?;
    write_preferences(&profile, json!({ "toast_seconds": 3, "sound": false }))?;
    let app = App::start_in(&profile, "invitation-missed").await?;
    sign_in_ana(&app, &desktop).await?;

    let session = desktop.invite("Are you free for a quick one?").await?;
    x_window_when(TOAST, "shown", |w| w.is_some_and(|w| w.shown())).await?;
    x_window_when(TOAST, "dismissed", |w| w.is_none_or(|w| !w.shown())).await?;
    let waiting =
        x_window_when(IM_WINDOW, "minimized", |w| w.is_some_and(|w| w.minimized())).await?;
    assert!(waiting.is_some());

    // Ben withdraws: the window the agent never looked at goes, the main window lists what
    // was missed, and opening it says what it was.
    desktop.ben.cancel(&session).await?;
    x_window_when(IM_WINDOW, "gone", |w| w.is_none()).await?;
    app.switch_to("main").await?;
    app.text_when("missed-title", |t| t.contains("(1)")).await?;
    let row = format!("[data-testid=missed-list] [data-session-id='{session}']");
    app.client
        .find(fantoccini::Locator::Css(&row))
        .await?
        .click()
        .await?;
    app.switch_to(&format!("im-{session}")).await?;
    app.text_when("im-missed", |t| t.contains("Ben Okafor"))
        .await?;
    app.text_when("im-missed-message", |t| t.contains("quick one"))
        .await?;
    app.save_screenshot("-opened")?;
    app.click_closing("im-done").await?;
    app.click("missed-clear").await?;
    app.by_test_id("sessions-empty").await?;
    app.finish().await
}

#[tokio::test(flavor = "multi_thread")]
async fn a_hundred_abandoned_invitations_leave_no_window_and_a_hundred_missed() -> anyhow::Result<()>
{
    const ROUNDS: usize = 100;
    let _turn = ONE_APP_AT_A_TIME.lock().await;
    let desktop = Desktop::start_with(|c| c.limits.invitations_per_minute = 1000).await?;
    let profile = Profile::new()?;
    write_preferences(&profile, json!({ "sound": false }))?;
    let app = App::start_in(&profile, "invitation-abandoned").await?;
    sign_in_ana(&app, &desktop).await?;

    // Ben invites and withdraws, again and again, faster than windows open.
    for i in 0..ROUNDS {
        let session = desktop.invite(&format!("Never mind {i}")).await?;
        desktop.ben.cancel(&session).await?;
    }
    app.switch_to("main").await?;
    app.text_when("missed-title", |t| t.contains(&format!("({ROUNDS})")))
        .await?;
    // Every window of an abandoned invitation goes once built; none is left behind.
    let im_windows = || -> anyhow::Result<usize> {
        let out = std::process::Command::new("wmctrl").arg("-l").output()?;
        Ok(String::from_utf8_lossy(&out.stdout)
            .lines()
            .filter(|l| l.ends_with(IM_WINDOW))
            .count())
    };
    let start = std::time::Instant::now();
    while im_windows()? > 0 {
        if start.elapsed() > DEADLINE * 3 {
            bail!("{} IM windows are left", im_windows()?);
        }
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    let labels = app.window_labels().await?;
    assert!(
        labels.iter().filter(|l| l.starts_with("im-")).count() == 0,
        "{labels:?}"
    );
    app.switch_to("main").await?;
    let rows = app
        .eval(
            "return document.querySelectorAll('[data-testid=missed-list] [data-testid=session-row]').length;",
            vec![],
        )
        .await?;
    assert_eq!(rows, ROUNDS);
    app.finish().await
}

/// An invitation held back: its window waits minimized, with neither a toast nor a
/// notification.
async fn only_the_window_waits(notifications: &Service) -> anyhow::Result<()> {
    x_window_when(IM_WINDOW, "minimized", |w| w.is_some_and(|w| w.minimized())).await?;
    // The window is the last thing the invitation does: by now a toast or a notification
    // would have been shown.
    anyhow::ensure!(
        support::x_window(TOAST)?.is_none_or(|w| !w.shown()),
        "the toast showed"
    );
    let records = notifications.records();
    anyhow::ensure!(
        !records.iter().any(|r| r["event"] == "notify"),
        "a notification showed: {records:?}"
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn do_not_disturb_holds_the_toast_back_but_the_im_still_waits() -> anyhow::Result<()> {
    let _turn = ONE_APP_AT_A_TIME.lock().await;
    let services = tempfile::tempdir()?;
    let notifications = Service::notifications(services.path()).await?;
    let desktop = Desktop::start().await?;
    let profile = Profile::new()?;
    write_preferences(&profile, json!({ "do_not_disturb": true }))?;
    let app = App::start_in(&profile, "invitation-dnd").await?;
    sign_in_ana(&app, &desktop).await?;
    app.text_when("dnd-indicator", |t| !t.is_empty()).await?;

    desktop.invite("Quiet please").await?;
    only_the_window_waits(&notifications).await?;
    app.finish().await
}

#[tokio::test(flavor = "multi_thread")]
async fn closing_the_main_window_keeps_huddle_in_the_tray() -> anyhow::Result<()> {
    let _turn = ONE_APP_AT_A_TIME.lock().await;
    let services = tempfile::tempdir()?;
    let watcher = Service::watcher(services.path()).await?;
    let desktop = Desktop::start().await?;
    let app = App::start("invitation-tray").await?;
    let tray = TrayItem::of(&watcher).await?;
    sign_in_ana(&app, &desktop).await?;

    let closed = std::process::Command::new("wmctrl")
        .args(["-F", "-c", "Huddle"])
        .status()?;
    assert!(closed.success());
    x_window_when("Huddle", "hidden", |w| w.is_none_or(|w| !w.shown())).await?;
    // Still signed in: an invitation still arrives.
    desktop.invite("Still there?").await?;
    x_window_when(IM_WINDOW, "waiting", |w| w.is_some()).await?;
    tray.click("Show Huddle")?;
    x_window_when("Huddle", "shown", |w| w.is_some_and(|w| w.shown())).await?;
    app.finish().await
}

/// Sets GNOME's notification banners setting in the profile's settings file, as the
/// desktop's do-not-disturb switch does.
fn show_banners(profile: &Profile, on: bool) -> anyhow::Result<()> {
    let set = std::process::Command::new("gsettings")
        .args([
            "set",
            "org.gnome.desktop.notifications",
            "show-banners",
            if on { "true" } else { "false" },
        ])
        .env("GSETTINGS_BACKEND", "keyfile")
        .envs(profile.env())
        .status()
        .context("cannot run gsettings")?;
    anyhow::ensure!(set.success(), "gsettings failed: {set}");
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn the_desktops_do_not_disturb_holds_toasts_back_until_it_is_off() -> anyhow::Result<()> {
    let _turn = ONE_APP_AT_A_TIME.lock().await;
    let services = tempfile::tempdir()?;
    let notifications = Service::notifications(services.path()).await?;
    let desktop = Desktop::start().await?;
    let profile = Profile::new()?;
    show_banners(&profile, false)?;
    // GSettings kept in a file that the app watches, as dconf is watched on a GNOME desktop.
    let app = App::start_in_with_env(
        &profile,
        "invitation-system-dnd",
        &[("GSETTINGS_BACKEND", "keyfile")],
    )
    .await?;
    sign_in_ana(&app, &desktop).await?;
    app.text_when("dnd-indicator", |t| t.contains("Do not disturb (system)"))
        .await?;
    app.save_screenshot("-indicator")?;

    desktop.invite("Quiet please").await?;
    only_the_window_waits(&notifications).await?;

    // The desktop's do-not-disturb off: the main window says so, and the next one pops up.
    show_banners(&profile, true)?;
    app.eval_when(
        "the indicator gone",
        "return document.querySelector('[data-testid=dnd-indicator]') === null;",
        vec![],
        |v| v == true,
    )
    .await?;
    desktop.invite("Now you can").await?;
    x_window_when(TOAST, "shown", |w| w.is_some_and(|w| w.shown())).await?;
    app.finish().await
}

/// Gives the keyboard focus to the window titled exactly `title`, as a click on it does.
fn activate(title: &str) -> anyhow::Result<()> {
    let done = std::process::Command::new("wmctrl")
        .args(["-F", "-a", title])
        .status()
        .context("cannot run wmctrl")?;
    anyhow::ensure!(done.success(), "wmctrl could not activate {title}");
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn the_icon_counts_invitations_and_unread_messages() -> anyhow::Result<()> {
    let _turn = ONE_APP_AT_A_TIME.lock().await;
    let services = tempfile::tempdir()?;
    let dock = Service::launcher(services.path()).await?;
    let desktop = Desktop::start().await?;
    let app = App::start("badge").await?;
    sign_in_ana(&app, &desktop).await?;
    let count = |n: i64| {
        move |r: &serde_json::Value| {
            r["event"] == "launcher"
                && r["app_uri"] == "application://Huddle.desktop"
                && r["count"] == n
                && r["count_visible"] == (n > 0)
        }
    };

    // An invitation counts one.
    let session = desktop.invite("Got a minute?").await?;
    dock.latest("the icon counting the invitation", count(1))
        .await?;

    // Answered, it no longer counts; then two messages come while Ana looks elsewhere.
    app.switch_to(&format!("im-{session}")).await?;
    app.click("im-accept").await?;
    desktop.ben_sees(&session, SessionStatus::Connected).await?;
    dock.latest("the icon counting nothing", count(0)).await?;
    activate("Huddle")?;
    x_window_when("Huddle", "focused", |_| {
        active_window_title().is_ok_and(|t| t == "Huddle")
    })
    .await?;
    for text in ["Are you there?", "It is about the refund"] {
        desktop.ben.send_message(&session, text).await?;
    }
    dock.latest("the icon counting two unread messages", count(2))
        .await?;

    // Ana looks at the conversation: nothing is unread any more.
    activate(IM_WINDOW)?;
    dock.latest("the icon cleared once the messages are seen", count(0))
        .await?;
    app.finish().await
}
