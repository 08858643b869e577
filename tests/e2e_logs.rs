//! End to end: the app writes its log in the OS's log folder, the main menu's "Show logs
//! folder" opens that folder in the file manager, and the log holds no password, token or
//! message text.
// Linux only: the file manager is reached through xdg-open.
#![cfg(target_os = "linux")]

mod support;

use std::os::unix::fs::PermissionsExt;

use anyhow::Context;
use huddle_client::Keychain;
use support::{App, Bot, Hub, Profile};

const ENTER: &str = "\u{E007}";

#[tokio::test(flavor = "multi_thread")]
async fn the_logs_folder_opens_from_the_menu_and_its_log_keeps_no_secret() -> anyhow::Result<()> {
    let hub = Hub::start(&[
        ("ana", "Ana Lima", "ana-password"),
        ("ben", "Ben Okafor", "ben-password"),
    ])
    .await?;
    let _bot = Bot::prompt(&hub.address(), "ben", "Noted: the wombat answer.")?;

    // The desktop's file manager, as xdg-open reaches it: this one notes what it opens.
    let bin = tempfile::tempdir()?;
    let opened = bin.path().join("opened");
    let xdg_open = bin.path().join("xdg-open");
    std::fs::write(
        &xdg_open,
        format!(
            "#!/bin/sh\nprintf '%s\\n' \"$@\" >> '{}'\n",
            opened.display()
        ),
    )?;
    std::fs::set_permissions(&xdg_open, std::fs::Permissions::from_mode(0o755))?;
    let path = format!(
        "{}:{}",
        bin.path().display(),
        std::env::var("PATH").unwrap_or_default()
    );

    let profile = Profile::new()?;
    let app = App::start_in_with_env(&profile, "logs", &[("PATH", &path)]).await?;
    app.by_test_id("login-remember").await?.click().await?;
    app.sign_in(&hub.address(), "ana", "ana-password").await?;
    app.text_when("connection-state", |t| t.starts_with("Connected"))
        .await?;

    // A conversation, so that message texts pass through the app.
    app.send_im_from_team_communicator("ben", "Ben Okafor")
        .await?;
    app.text_when("im-status", |t| t == "Connected").await?;
    app.type_into("im-input", "The quokka phrase 8812").await?;
    app.type_into("im-input", ENTER).await?;
    app.text_when("im-transcript", |t| t.contains("wombat"))
        .await?;

    app.switch_to("main").await?;
    app.click("main-menu").await?;
    app.click("show-logs").await?;
    let logs = profile.log_dir();
    let start = std::time::Instant::now();
    let asked = loop {
        let asked = std::fs::read_to_string(&opened).unwrap_or_default();
        if !asked.is_empty() || start.elapsed() > support::DEADLINE {
            break asked;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    };
    assert_eq!(asked.trim_end(), logs.display().to_string());

    let mut log = String::new();
    for entry in std::fs::read_dir(&logs).context("no logs folder")? {
        let path = entry?.path();
        if path.extension().is_some_and(|e| e == "log") {
            log.push_str(&std::fs::read_to_string(&path)?);
        }
    }
    assert!(log.contains("Huddle starting"), "{log}");
    assert!(log.contains("signed in"), "the log is being written: {log}");
    // Each window's page reports when it became usable.
    assert!(log.contains("window ready window=main"), "{log}");
    assert!(log.contains("window ready window=im-"), "{log}");

    let saved = Keychain::open()
        .await?
        .load(&hub.address(), "ana")
        .await?
        .context("the sign-in was not remembered")?;
    assert_eq!(saved.password.as_deref(), Some("ana-password"));
    for secret in ["ana-password", saved.token.as_str(), "quokka", "wombat"] {
        assert!(!log.contains(secret), "the log holds {secret:?}:\n{log}");
    }
    app.finish().await
}
