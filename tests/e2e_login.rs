//! End to end: the real app signs in to a real hub through its login form.

mod support;

use support::{App, Hub, Profile};

/// The app's windows share one display; one app at a time keeps the runs independent.
static ONE_APP_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

#[tokio::test(flavor = "multi_thread")]
async fn signing_in_shows_the_agents_name_and_connection() -> anyhow::Result<()> {
    let _turn = ONE_APP_AT_A_TIME.lock().await;
    let hub = Hub::start(&[("ana", "Ana Lima", "ana-password")]).await?;
    let profile = Profile::new()?;
    let app = App::start_in(&profile, "login-success").await?;
    app.sign_in(&hub.address(), "ana", "ana-password").await?;
    app.text_when("agent-name", |t| t == "Ana Lima").await?;
    let state = app
        .text_when("connection-state", |t| t.starts_with("Connected"))
        .await?;
    assert!(state.contains(&hub.address()), "{state}");
    // What Ana wrote stays hers on a shared computer: the app's folders are hers alone (on
    // Windows, the user's profile is).
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        for folder in [profile.data_dir(), profile.config_dir()] {
            let mode = std::fs::metadata(&folder)?.permissions().mode();
            assert_eq!(mode & 0o777, 0o700, "{}", folder.display());
        }
    }
    app.finish().await
}

#[tokio::test(flavor = "multi_thread")]
async fn a_wrong_password_is_explained_in_the_form() -> anyhow::Result<()> {
    let _turn = ONE_APP_AT_A_TIME.lock().await;
    let hub = Hub::start(&[("ana", "Ana Lima", "ana-password")]).await?;
    let app = App::start("login-wrong-password").await?;
    app.sign_in(&hub.address(), "ana", "not-the-password")
        .await?;
    let error = app.text_when("login-error", |t| !t.is_empty()).await?;
    assert!(error.contains("did not accept the login ana"), "{error}");
    let password = app.by_test_id("login-password").await?;
    assert_eq!(
        password.attr("aria-invalid").await?.as_deref(),
        Some("true")
    );
    app.finish().await
}

#[tokio::test(flavor = "multi_thread")]
async fn a_password_is_not_sent_unencrypted_to_another_machine_without_a_warning(
) -> anyhow::Result<()> {
    let _turn = ONE_APP_AT_A_TIME.lock().await;
    let app = App::start("login-unencrypted").await?;
    // An address on the network, in plain ws://: nothing is sent before the agent agrees.
    app.sign_in("ws://192.0.2.10:7878", "ana", "ana-password")
        .await?;
    let warning = app.text_when("login-error", |t| !t.is_empty()).await?;
    assert!(
        warning.contains("ws://192.0.2.10:7878 is not an encrypted address"),
        "{warning}"
    );
    let agree = app.by_test_id("login-unencrypted-ok").await?;
    assert_eq!(agree.text().await?, "Sign in without encryption");
    let hub = app.by_test_id("login-hub").await?;
    assert_eq!(hub.attr("aria-invalid").await?.as_deref(), Some("true"));
    app.finish().await
}

#[tokio::test(flavor = "multi_thread")]
async fn a_preset_hub_and_login_sign_in_by_themselves_when_the_keychain_has_them(
) -> anyhow::Result<()> {
    let _turn = ONE_APP_AT_A_TIME.lock().await;
    let hub = Hub::start(&[
        ("ana", "Ana Lima", "ana-password"),
        ("ben", "Ben Okafor", "ben-password"),
    ])
    .await?;
    // As the demo does: huddle-agent keeps Ana's sign-in where the app looks for it.
    let data = tempfile::tempdir()?;
    let out = std::process::Command::new(support::huddle_agent()?)
        .args(["--hub", &hub.address(), "--login", "ana", "--data"])
        .arg(data.path())
        .arg("remember")
        .env("HUDDLE_PASSWORD", "ana-password")
        .output()?;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    let address = hub.address();
    let (first, second) = (Profile::new()?, Profile::new()?);
    let app = App::start_in_with_args(
        &first,
        "preset-signed-in",
        &["--hub", &address, "--login", "ana"],
    )
    .await?;
    app.text_when("agent-name", |t| t == "Ana Lima").await?;
    app.text_when("connection-state", |t| t.starts_with("Connected"))
        .await?;
    app.finish().await?;

    // Nothing kept for Ben: the form waits for his password, the rest filled in.
    let app = App::start_in_with_args(
        &second,
        "preset-form",
        &[&format!("--hub={address}"), "--login=ben"],
    )
    .await?;
    app.by_test_id("login-password").await?;
    let filled = app
        .eval(
            "return ['login-hub', 'login-login'].map(id => document.querySelector(`[data-testid=${id}]`).value);",
            vec![],
        )
        .await?;
    assert_eq!(filled, serde_json::json!([address, "ben"]));
    app.finish().await
}

/// Chooses a proxy on the login form's connection settings.
async fn choose_proxy(app: &App, url: &str) -> anyhow::Result<()> {
    if app
        .eval(
            "return document.querySelector('[data-testid=login-proxy-mode]') === null;",
            vec![],
        )
        .await?
        == true
    {
        app.click("login-connection-toggle").await?;
    }
    app.eval(
        "const mode = document.querySelector('[data-testid=login-proxy-mode]');
         mode.value = 'manual';
         mode.dispatchEvent(new Event('change', { bubbles: true }));",
        vec![],
    )
    .await?;
    app.fill("login-proxy", url).await
}

/// Submits the form, agreeing to an unencrypted address (the hub's name is not this
/// computer's), and returns the error it then shows, if any.
async fn submit_unencrypted(app: &App) -> anyhow::Result<()> {
    app.click("login-submit").await?;
    app.text_when("login-error", |t| t.contains("not an encrypted address"))
        .await?;
    app.click("login-unencrypted-ok").await
}

#[tokio::test(flavor = "multi_thread")]
async fn a_proxy_carries_the_connection_and_its_refusal_is_explained() -> anyhow::Result<()> {
    use support::proxy::{Auth, Kind, TestProxy};
    let _turn = ONE_APP_AT_A_TIME.lock().await;
    let hub = Hub::start(&[
        ("ana", "Ana Lima", "ana-password"),
        ("ben", "Ben Okafor", "ben-password"),
    ])
    .await?;
    // Only the proxy knows the hub's name: the app can reach it no other way.
    let proxy = TestProxy::start(
        Kind::Http,
        Auth::Password("ana.proxy".into(), "pr0xy-pass".into()),
        Some(hub.hub.addr),
    )
    .await?;
    let hidden = format!("hub.huddle.test:{}", hub.hub.addr.port());
    let profile = Profile::new()?;
    let app = App::start_in(&profile, "login-proxy").await?;
    app.fill("login-hub", &hidden).await?;
    app.fill("login-login", "ana").await?;
    app.fill("login-password", "ana-password").await?;

    // Without its password the proxy refuses, and the form says what to do.
    choose_proxy(&app, &proxy.url(None)).await?;
    submit_unencrypted(&app).await?;
    let error = app
        .text_when("login-error", |t| t.contains("proxy"))
        .await?;
    assert!(
        error.contains("asks for a user name and password"),
        "{error}"
    );
    app.save_screenshot("-refused")?;

    choose_proxy(&app, &proxy.url(Some(("ana.proxy", "pr0xy-pass")))).await?;
    submit_unencrypted(&app).await?;
    app.text_when("connection-state", |t| t.starts_with("Connected"))
        .await?;
    let carried = proxy.tunnels();
    assert!(carried >= 1, "the proxy carried the connection");

    // Ben, on the hub directly, sees Ana ready.
    let ben_data = tempfile::tempdir()?;
    let (ben, _) = huddle_client::Engine::sign_in(
        &hub.address(),
        "ben",
        huddle_client::Credential::Password("ben-password".into()),
        ben_data.path(),
    )
    .await?;
    let ana = ben
        .search("ana", Default::default())
        .await?
        .into_iter()
        .find(|e| e.login == "ana");
    assert_eq!(
        ana.and_then(|e| e.presence),
        Some(huddle_protocol::Presence::Ready)
    );
    app.finish().await?;

    // The settings name the proxy and its user, never the password, which the keychain
    // keeps: started again, Huddle signs in by itself through the proxy.
    let settings = std::fs::read_to_string(profile.config_dir().join("settings.json"))?;
    assert!(settings.contains("ana.proxy@127.0.0.1"), "{settings}");
    assert!(!settings.contains("pr0xy-pass"), "{settings}");
    let app = App::start_in(&profile, "login-proxy-again").await?;
    app.text_when("connection-state", |t| t.starts_with("Connected"))
        .await?;
    assert!(proxy.tunnels() > carried, "the proxy carried it again");
    app.finish().await
}
