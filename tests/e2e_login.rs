//! End to end: the real app signs in to a real hub through its login form.

mod support;

use support::{App, Hub};

/// The app's windows share one display; one app at a time keeps the runs independent.
static ONE_APP_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

#[tokio::test(flavor = "multi_thread")]
async fn signing_in_shows_the_agents_name_and_connection() -> anyhow::Result<()> {
    let _turn = ONE_APP_AT_A_TIME.lock().await;
    let hub = Hub::start(&[("ana", "Ana Lima", "ana-password")]).await?;
    let app = App::start("login-success").await?;
    app.sign_in(&hub.address(), "ana", "ana-password").await?;
    app.text_when("agent-name", |t| t == "Ana Lima").await?;
    let state = app
        .text_when("connection-state", |t| t.starts_with("Connected"))
        .await?;
    assert!(state.contains(&hub.address()), "{state}");
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
    assert!(error.contains("Wrong password"), "{error}");
    let password = app.by_test_id("login-password").await?;
    assert_eq!(
        password.attr("aria-invalid").await?.as_deref(),
        Some("true")
    );
    app.finish().await
}
