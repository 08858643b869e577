//! The agent's credentials in the OS keychain: the Secret Service on Linux, the Keychain on
//! macOS, the Credential Manager on Windows. They are kept nowhere else.
//!
//! One entry per hub and login: service `huddle`, user `<login>@<hub>` (a login has no `@`,
//! so the two parts cannot run into each other). Its secret is a small JSON object:
//! `{"token": "…"}`, plus `"password"` when the agent asked to be remembered.
//!
//! Keychain calls block (a D-Bus round trip, or a prompt to unlock the keychain), so the
//! public calls are async and run them on tokio's blocking threads.

use std::fmt;
use std::sync::Arc;

use keyring_core::{CredentialStore, Entry, Error};
use serde::{Deserialize, Serialize};

/// The keychain service name of every Huddle entry.
pub const KEYCHAIN_SERVICE: &str = "huddle";

/// What the keychain holds for one agent on one hub.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Secret {
    /// The session token from `logged_in`, for `resume`.
    pub token: String,
    /// The password, only if the agent asked to be remembered.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password: Option<String>,
    /// The password of the proxy the hub is reached through, when it asks for one: the
    /// settings name the proxy and its user, never the password.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub proxy_password: Option<String>,
}

// Written by hand so that no log line or panic message can ever show a secret.
impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Secret")
            .field("token", &"<redacted>")
            .field("password", &self.password.as_ref().map(|_| "<redacted>"))
            .field(
                "proxy_password",
                &self.proxy_password.as_ref().map(|_| "<redacted>"),
            )
            .finish()
    }
}

/// Why the keychain could not do what was asked.
///
/// The messages are for the agent. The details are the keychain's own words, for logs; they
/// never contain a secret.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeychainError {
    /// This computer has no keychain that Huddle can use.
    #[error("No keychain is available on this computer ({}), so Huddle cannot remember you; you will sign in each time.", MISSING_KEYCHAIN)]
    Unavailable {
        /// What the keychain said.
        detail: String,
    },
    /// The keychain is there but refused access, for example because it stayed locked.
    #[error("The keychain did not let Huddle in (it may be locked), so Huddle cannot remember you this time.")]
    Denied {
        /// What the keychain said.
        detail: String,
    },
    /// The entry holds something that is not a secret of this version of Huddle.
    #[error("The sign-in that Huddle saved for this hub cannot be read; please sign in again.")]
    Unreadable,
    /// Anything else the keychain reported.
    #[error("The keychain failed, so Huddle cannot remember you this time.")]
    Failed {
        /// What the keychain said.
        detail: String,
    },
}

#[cfg(target_os = "linux")]
const MISSING_KEYCHAIN: &str = "Secret Service not running";
#[cfg(target_os = "macos")]
const MISSING_KEYCHAIN: &str = "the Keychain cannot be opened";
#[cfg(target_os = "windows")]
const MISSING_KEYCHAIN: &str = "the Credential Manager cannot be reached";
#[cfg(not(any(target_os = "linux", target_os = "macos", target_os = "windows")))]
const MISSING_KEYCHAIN: &str = "Huddle knows no keychain on this system";

impl KeychainError {
    fn from_keyring(error: Error) -> Self {
        // Only the Display text is kept: the Debug of some variants carries the raw secret.
        match error {
            Error::NoStorageAccess(_) => Self::Denied {
                detail: error.to_string(),
            },
            Error::BadEncoding(_) | Error::BadDataFormat(..) => Self::Unreadable,
            _ => Self::Failed {
                detail: error.to_string(),
            },
        }
    }
}

/// The agent's credentials, one keychain entry per hub and login. Cheap to clone.
#[derive(Clone)]
pub struct Keychain {
    keychain: Arc<CredentialStore>,
}

impl fmt::Debug for Keychain {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Keychain")
            .field("keychain", &self.keychain.vendor())
            .finish()
    }
}

impl Keychain {
    /// Opens this OS's keychain; [`KeychainError::Unavailable`] when there is none to use.
    pub async fn open() -> Result<Self, KeychainError> {
        blocking(|| {
            os_keychain()
                .map(Self::with_store)
                .map_err(|error| KeychainError::Unavailable {
                    detail: error.to_string(),
                })
        })
        .await
    }

    /// Keeps credentials in the given store instead, such as keyring-core's mock in tests.
    pub fn with_store(keychain: Arc<CredentialStore>) -> Self {
        Self { keychain }
    }

    /// Saves `secret` for `login` on `hub`, replacing what was saved before.
    ///
    /// `hub` names the entry: pass the normalised address (see [`crate::hub_ws_url`]) so that
    /// the same hub typed two ways finds the same entry.
    pub async fn store(
        &self,
        hub: &str,
        login: &str,
        secret: &Secret,
    ) -> Result<(), KeychainError> {
        // Serialising two strings cannot fail; the error is mapped rather than unwrapped.
        let json = serde_json::to_string(secret).map_err(|error| KeychainError::Failed {
            detail: error.to_string(),
        })?;
        self.with_entry(hub, login, move |entry| entry.set_password(&json))
            .await
    }

    /// The secret saved for `login` on `hub`, if any.
    pub async fn load(&self, hub: &str, login: &str) -> Result<Option<Secret>, KeychainError> {
        let found = self
            .with_entry(hub, login, |entry| match entry.get_password() {
                Err(Error::NoEntry) => Ok(None),
                found => found.map(Some),
            })
            .await?;
        found
            .map(|json| serde_json::from_str(&json).map_err(|_| KeychainError::Unreadable))
            .transpose()
    }

    /// Removes what was saved for `login` on `hub`; nothing saved is not an error.
    pub async fn forget(&self, hub: &str, login: &str) -> Result<(), KeychainError> {
        self.with_entry(hub, login, |entry| match entry.delete_credential() {
            Err(Error::NoEntry) => Ok(()),
            done => done,
        })
        .await
    }

    /// Runs `call` on the entry of `login` on `hub`, off the async threads.
    async fn with_entry<T: Send + 'static>(
        &self,
        hub: &str,
        login: &str,
        call: impl FnOnce(&Entry) -> Result<T, Error> + Send + 'static,
    ) -> Result<T, KeychainError> {
        let keychain = self.keychain.clone();
        let user = format!("{login}@{hub}");
        blocking(move || {
            let entry = keychain
                .build(KEYCHAIN_SERVICE, &user, None)
                .map_err(KeychainError::from_keyring)?;
            call(&entry).map_err(KeychainError::from_keyring)
        })
        .await
    }
}

/// Runs a blocking keychain call on tokio's blocking threads.
async fn blocking<T: Send + 'static>(
    call: impl FnOnce() -> Result<T, KeychainError> + Send + 'static,
) -> Result<T, KeychainError> {
    tokio::task::spawn_blocking(call)
        .await
        .unwrap_or_else(|join_error| {
            Err(KeychainError::Failed {
                detail: format!("the keychain call did not finish: {join_error}"),
            })
        })
}

#[cfg(target_os = "linux")]
fn os_keychain() -> Result<Arc<CredentialStore>, Error> {
    Ok(dbus_secret_service_keyring_store::Store::new()?)
}

#[cfg(target_os = "macos")]
fn os_keychain() -> Result<Arc<CredentialStore>, Error> {
    Ok(apple_native_keyring_store::keychain::Store::new()?)
}

#[cfg(target_os = "windows")]
fn os_keychain() -> Result<Arc<CredentialStore>, Error> {
    Ok(windows_native_keyring_store::Store::new()?)
}

#[cfg(not(any(target_os = "linux", target_os = "macos", target_os = "windows")))]
fn os_keychain() -> Result<Arc<CredentialStore>, Error> {
    Err(Error::NotSupportedByStore(MISSING_KEYCHAIN.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use keyring_core::api::CredentialStoreApi;
    use keyring_core::mock;

    const HUB: &str = "ws://hub.example:7878/v1/ws";

    fn mock_store() -> (Keychain, Arc<mock::Store>) {
        let store = mock::Store::new().expect("the mock store opens");
        (Keychain::with_store(store.clone()), store)
    }

    fn secret(token: &str, password: Option<&str>) -> Secret {
        Secret {
            token: token.into(),
            password: password.map(Into::into),
            proxy_password: None,
        }
    }

    #[tokio::test]
    async fn store_load_overwrite_forget() {
        let (credentials, _) = mock_store();
        assert_eq!(credentials.load(HUB, "ana").await, Ok(None));

        let first = secret("t-1", Some("pw"));
        credentials.store(HUB, "ana", &first).await.unwrap();
        assert_eq!(credentials.load(HUB, "ana").await, Ok(Some(first)));

        let second = secret("t-2", None);
        credentials.store(HUB, "ana", &second).await.unwrap();
        assert_eq!(credentials.load(HUB, "ana").await, Ok(Some(second)));

        credentials.forget(HUB, "ana").await.unwrap();
        assert_eq!(credentials.load(HUB, "ana").await, Ok(None));
        assert_eq!(credentials.forget(HUB, "ana").await, Ok(()));
    }

    #[tokio::test]
    async fn one_entry_per_hub_and_login() {
        let (credentials, store) = mock_store();
        let ana = secret("t-ana", None);
        credentials.store(HUB, "ana", &ana).await.unwrap();
        assert_eq!(credentials.load(HUB, "ben").await, Ok(None));
        assert_eq!(credentials.load("ws://other/v1/ws", "ana").await, Ok(None));

        let entry = store.build(KEYCHAIN_SERVICE, &format!("ana@{HUB}"), None);
        let json = entry.unwrap().get_password().unwrap();
        assert_eq!(
            json, r#"{"token":"t-ana"}"#,
            "no password unless remembered"
        );
    }

    #[tokio::test]
    async fn errors_are_told_apart() {
        let (credentials, store) = mock_store();
        let entry = store
            .build(KEYCHAIN_SERVICE, &format!("ana@{HUB}"), None)
            .unwrap();
        let mock: &mock::Cred = entry.as_any().downcast_ref().unwrap();

        entry.set_password("not json").unwrap();
        assert_eq!(
            credentials.load(HUB, "ana").await,
            Err(KeychainError::Unreadable)
        );

        let locked = Error::NoStorageAccess("locked".into());
        mock.set_error(locked);
        let denied = credentials.load(HUB, "ana").await.unwrap_err();
        assert!(matches!(denied, KeychainError::Denied { .. }), "{denied:?}");

        mock.set_error(Error::PlatformFailure("broken".into()));
        let failed = credentials.forget(HUB, "ana").await.unwrap_err();
        assert!(matches!(failed, KeychainError::Failed { .. }), "{failed:?}");
    }

    #[test]
    fn unavailable_speaks_plainly() {
        let error = KeychainError::Unavailable {
            detail: "org.freedesktop.DBus.Error.ServiceUnknown".into(),
        };
        let message = error.to_string();
        assert!(message.starts_with("No keychain is available on this computer ("));
        assert!(message.ends_with("so Huddle cannot remember you; you will sign in each time."));
        assert!(
            !message.contains("DBus"),
            "details stay out of the agent's message"
        );
    }

    #[test]
    fn debug_never_shows_a_secret() {
        let shown = format!("{:?}", secret("tok-123", Some("pw-456")));
        assert!(
            !shown.contains("tok-123") && !shown.contains("pw-456"),
            "{shown}"
        );
        assert!(shown.contains("<redacted>"));
    }
}
