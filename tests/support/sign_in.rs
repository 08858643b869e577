//! The ways the app signs in, for the journeys that run in each one: a password typed on the
//! form; the session token the keychain keeps (as every agent's app does each morning); and a
//! kept token that has expired, with the kept password behind it.

use anyhow::{bail, Context};
use huddle_client::{Credential, Engine, Keychain, Secret};
use serde_json::json;

use super::hub_process::HubProcess;
use super::{App, Profile};

/// How the app signs in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignIn {
    /// The agent types the password on the form.
    Password,
    /// The app signs in by itself with the token the keychain keeps.
    Token,
    /// The app signs in by itself: the kept token has expired, the kept password works.
    ExpiredToken,
}

/// Every way, in the order the journeys run them.
pub const EVERY_SIGN_IN: [SignIn; 3] = [SignIn::Password, SignIn::Token, SignIn::ExpiredToken];

impl SignIn {
    /// A short name, for screenshots.
    pub fn name(self) -> &'static str {
        match self {
            Self::Password => "password",
            Self::Token => "token",
            Self::ExpiredToken => "expired-token",
        }
    }
}

/// Starts the app on `profile`, signed in as `login` (password `<login>-password`) the way
/// `mode` says; returns once its main window says it is connected.
pub async fn app_signed_in(
    mode: SignIn,
    hub: &HubProcess,
    login: &str,
    profile: &Profile,
    name: &str,
) -> anyhow::Result<App> {
    let address = hub.address();
    let password = format!("{login}-password");
    let kept = match mode {
        SignIn::Password => None,
        SignIn::Token | SignIn::ExpiredToken => {
            let token = issue_token(&address, login, &password).await?;
            let secret = Secret {
                token: token.clone(),
                password: (mode == SignIn::ExpiredToken).then(|| password.clone()),
                proxy_password: None,
            };
            keep(profile, &address, login, &secret).await?;
            if mode == SignIn::ExpiredToken {
                hub.expire_tokens(login).await?;
            }
            Some(token)
        }
    };
    let app = App::start_in(profile, name).await?;
    if mode == SignIn::Password {
        app.sign_in(&address, login, &password).await?;
    }
    app.text_when("connection-state", |t| t.starts_with("Connected"))
        .await
        .with_context(|| format!("the app did not sign in ({mode:?})"))?;
    if mode == SignIn::ExpiredToken {
        // The app signed in with the password, and keeps the new token beside it.
        let now = Keychain::open()
            .await?
            .load(&address, login)
            .await?
            .context("the keychain forgot the sign-in")?;
        if Some(&now.token) == kept.as_ref() || now.password.as_deref() != Some(&password) {
            bail!("the keychain does not hold the new token beside the password");
        }
    }
    Ok(app)
}

/// A session token for `login`, as an earlier run of the app got it.
async fn issue_token(address: &str, login: &str, password: &str) -> anyhow::Result<String> {
    let data = tempfile::tempdir()?;
    let (engine, token) = Engine::sign_in(
        address,
        login,
        Credential::Password(password.to_string()),
        data.path(),
    )
    .await?;
    drop(engine);
    Ok(token)
}

/// What an earlier run of the app left: the sign-in in the keychain, the hub and login in
/// its settings.
async fn keep(
    profile: &Profile,
    address: &str,
    login: &str,
    secret: &Secret,
) -> anyhow::Result<()> {
    Keychain::open()
        .await
        .context("no keychain: run the tests inside scripts/with-desktop.sh")?
        .store(address, login, secret)
        .await?;
    let dir = profile.config_dir();
    std::fs::create_dir_all(&dir)?;
    let remember = secret.password.is_some();
    std::fs::write(
        dir.join("settings.json"),
        serde_json::to_vec(
            &json!({ "last": { "hub": address, "login": login, "remember": remember } }),
        )?,
    )?;
    Ok(())
}
