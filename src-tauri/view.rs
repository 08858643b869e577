//! The types that cross between the shell and the UI: command arguments, command results
//! and event payloads. `ui/src/lib/bindings.ts` is generated from them (see `bindings`).

use huddle_client::ClientError;
use huddle_protocol::{AgentProfile, ErrorCode};
use serde::{Deserialize, Serialize};
use ts_rs::TS;

/// The name of the event that carries a [`ConnectionView`] to the main window.
pub const CONNECTION_EVENT: &str = "connection";

/// What the login form sends.
#[derive(Debug, Clone, Deserialize, TS)]
pub struct LoginForm {
    /// The hub's address as typed.
    pub hub: String,
    /// The agent's login.
    pub login: String,
    /// The agent's password.
    pub password: String,
}

/// Where the agent stands with the hub, as the main window shows it.
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum ConnectionView {
    /// Nobody is signed in: the login form shows.
    SignedOut,
    /// Signed in and connected.
    Online {
        /// The hub's address.
        hub: String,
        /// The signed-in agent.
        agent: AgentProfile,
    },
    /// Signed in, but the connection to the hub is gone.
    Offline {
        /// The hub's address.
        hub: String,
        /// The signed-in agent.
        agent: AgentProfile,
        /// Why the connection ended, in words for the agent.
        reason: String,
    },
}

/// Which field of the login form a failure is about, so the form can point at it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum LoginField {
    /// The hub address.
    Hub,
    /// The login.
    Login,
    /// The password.
    Password,
}

/// Why signing in failed, in words an agent understands.
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
pub struct LoginFailure {
    /// The message to show in the form.
    pub message: String,
    /// The field to point at, if the failure is about one.
    pub field: Option<LoginField>,
}

impl LoginFailure {
    fn new(message: impl Into<String>, field: Option<LoginField>) -> Self {
        Self {
            message: message.into(),
            field,
        }
    }

    /// Explains a failed sign-in of `login` to the agent.
    pub fn from_client_error(login: &str, error: &ClientError) -> Self {
        match error {
            ClientError::Address(e) => Self::new(format!("{e}."), Some(LoginField::Hub)),
            ClientError::Unreachable { .. } | ClientError::Timeout => Self::new(
                "Cannot reach the hub at this address. Check the address, or ask your \
                 administrator whether the hub is running.",
                Some(LoginField::Hub),
            ),
            ClientError::Refused(e) => match e.code {
                ErrorCode::WrongPassword => Self::new(
                    format!("Wrong password for {login}. Check it and try again."),
                    Some(LoginField::Password),
                ),
                ErrorCode::UnknownAgent => Self::new(
                    format!("The hub knows no agent with the login {login}."),
                    Some(LoginField::Login),
                ),
                ErrorCode::AgentDisabled => Self::new(
                    "Your account is disabled. Ask your administrator to enable it.",
                    Some(LoginField::Login),
                ),
                ErrorCode::UnsupportedVersion => Self::new(
                    format!(
                        "This version of Huddle cannot talk to this hub: {}.",
                        e.message
                    ),
                    Some(LoginField::Hub),
                ),
                _ => Self::new(
                    format!("The hub refused to sign you in: {}.", e.message),
                    None,
                ),
            },
            ClientError::Protocol(_) => Self::new(
                "The address answers, but not as a Huddle hub. Check the address.",
                Some(LoginField::Hub),
            ),
            ClientError::Tls(e) => Self::new(format!("{e}."), Some(LoginField::Hub)),
            ClientError::Cache(e) => Self::new(
                format!("Huddle cannot open its local data ({e}). Check the disk, then try again."),
                None,
            ),
            // Signing in acts on no session; kept for completeness of the match.
            ClientError::Illegal(e) => Self::new(format!("Signing in failed: {e}."), None),
            ClientError::Lost(reason) => Self::new(
                format!(
                    "The connection to the hub was lost while signing in ({reason}). Try again."
                ),
                None,
            ),
        }
    }
}
