//! The types that cross between the shell and the UI: command arguments, command results
//! and event payloads. `ui/src/lib/bindings.ts` is generated from them (see `bindings`).

use huddle_client::proxy::ProxyError;
use huddle_client::{Action, ClientError, SessionStatus};
use huddle_protocol::{AgentProfile, ErrorCode, Presence};
use serde::{Deserialize, Serialize};
use ts_rs::TS;

/// The name of the event that carries a [`ConnectionView`] to the main window.
pub const CONNECTION_EVENT: &str = "connection";
/// The name of the event that carries a [`PresenceChange`] to the main window.
pub const PRESENCE_EVENT: &str = "presence";
/// The name of the event that carries the text size of IM views (a percentage) to every
/// window.
pub const ZOOM_EVENT: &str = "zoom";

/// What the login form sends.
#[derive(Debug, Clone, Deserialize, TS)]
pub struct LoginForm {
    /// The hub's address as typed.
    pub hub: String,
    /// The agent's login.
    pub login: String,
    /// The agent's password.
    pub password: String,
    /// Whether to keep the password in the keychain, so that Huddle signs in by itself even
    /// once the session token has expired.
    pub remember: bool,
    /// The agent was warned that this hub's address is not encrypted and signs in anyway.
    #[serde(default)]
    pub unencrypted_ok: bool,
    /// The way to the hub: `system` (the system's proxy settings), `none`, or a proxy's
    /// URL (`http://user:password@proxy:3128`, `socks5://proxy:1080`).
    #[serde(default)]
    pub proxy: String,
}

/// The hub and login of the last sign-in, to fill the form with.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct LastSignIn {
    /// The hub's address as typed.
    pub hub: String,
    /// The agent's login.
    pub login: String,
    /// Whether the agent asked to be remembered.
    pub remember: bool,
    /// The way to the hub (`system`, `none`, or a proxy's URL without its password, which
    /// the keychain keeps).
    #[serde(default = "system_proxy")]
    pub proxy: String,
}

fn system_proxy() -> String {
    "system".into()
}

/// Where the agent stands with the hub, as the main window shows it.
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum ConnectionView {
    /// Nobody is signed in: the login form shows.
    SignedOut {
        /// What to fill the form with.
        last: Option<LastSignIn>,
        /// Something the agent should know, in words for them (a saved sign-in that no
        /// longer works, a keychain that cannot be used).
        notice: Option<String>,
    },
    /// Huddle is signing in by itself with what the keychain holds.
    SigningIn {
        /// The hub's address.
        hub: String,
        /// The agent's login.
        login: String,
    },
    /// Signed in and connected.
    Online {
        /// The hub's address.
        hub: String,
        /// The signed-in agent.
        agent: AgentProfile,
        /// The agent's presence.
        presence: Presence,
        /// Something the agent should know (the keychain could not keep the sign-in).
        notice: Option<String>,
    },
    /// Signed in, but the connection to the hub is gone.
    Offline {
        /// The hub's address.
        hub: String,
        /// The signed-in agent.
        agent: AgentProfile,
        /// The presence the agent chose, shown again once reconnected.
        presence: Presence,
        /// Why the connection ended, in words for the agent.
        reason: String,
        /// Something the agent should know (the keychain could not keep the sign-in).
        notice: Option<String>,
    },
}

/// The event that carries [`Preferences`] to the main window.
pub const PREFERENCES_EVENT: &str = "preferences";

/// How invitations reach the agent, as the main menu sets it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(default)]
pub struct Preferences {
    /// Hold toasts, notifications and sounds back; invitations still wait in the taskbar.
    pub do_not_disturb: bool,
    /// Play a sound when an invitation arrives.
    pub sound: bool,
    /// How long an unanswered toast stays, in seconds.
    pub toast_seconds: u16,
    /// Closing the main window keeps Huddle running in the tray, so invitations still arrive.
    pub keep_in_tray: bool,
    /// The OS's notifications show what colleagues wrote; off, they say only who wrote (for
    /// lock screens and screens others can see).
    pub text_in_notifications: bool,
    /// Huddle starts, to the tray, when the agent logs in to the computer. The OS's entry is
    /// the truth; what is saved here is only what was last shown.
    pub start_at_login: bool,
    /// The system is in do-not-disturb (Focus, Focus Assist, banners off): Huddle holds toasts
    /// and sounds back as its own Do not disturb does. Read from the system, never saved.
    pub system_do_not_disturb: bool,
    /// Misspelled words are marked in the message field, where the webview offers it.
    pub spell_check: bool,
    /// The spelling dictionary (`en_US`), where the agent can choose one; empty for the
    /// system's language.
    pub spell_language: String,
}

impl Default for Preferences {
    fn default() -> Self {
        Self {
            do_not_disturb: false,
            sound: true,
            toast_seconds: 10,
            keep_in_tray: true,
            text_in_notifications: true,
            start_at_login: false,
            system_do_not_disturb: false,
            spell_check: true,
            spell_language: String::new(),
        }
    }
}

/// Another agent's presence changed (the `presence` event).
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
pub struct PresenceChange {
    /// The agent.
    pub agent_id: i64,
    /// Their presence now.
    pub presence: Presence,
}

/// Why a request of the UI failed, in words an agent understands.
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
pub struct Failure {
    /// The message to show.
    pub message: String,
}

impl Failure {
    /// A failure with this message.
    pub fn new(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
        }
    }
}

/// Explains a failed request to the hub.
impl From<&ClientError> for Failure {
    fn from(error: &ClientError) -> Self {
        Self::new(match error {
            ClientError::Unreachable { .. } | ClientError::Lost(_) | ClientError::Timeout => {
                "Huddle is not connected to the hub right now; try again in a moment.".to_string()
            }
            ClientError::Proxy { proxy, error } => proxy_explained(proxy, error),
            ClientError::Refused(e) => refusal(e.code, &e.message),
            ClientError::Illegal(e) => match (e.from, e.action) {
                (SessionStatus::Ended(_), _) => "This session has already ended.".into(),
                (SessionStatus::Inviting | SessionStatus::Invited, Action::Send) => {
                    "The session is not connected yet: wait until the invitation is accepted."
                        .into()
                }
                _ => format!("That is not possible now ({e})."),
            },
            ClientError::Cache(e) => format!("Huddle cannot use its local data: {e}."),
            ClientError::EmptyMessage => "Type a message first.".into(),
            ClientError::MessageTooLong { length, limit } => format!(
                "This message is {length} characters long; the limit is {limit}. Shorten it or split it."
            ),
            other => format!("Something went wrong: {other}."),
        })
    }
}

impl From<ClientError> for Failure {
    fn from(error: ClientError) -> Self {
        Self::from(&error)
    }
}

fn refusal(code: ErrorCode, message: &str) -> String {
    match code {
        ErrorCode::UnknownTarget | ErrorCode::InvalidTarget => {
            "This colleague cannot receive instant messages.".into()
        }
        ErrorCode::WrongState => "This session has moved on; it no longer allows that.".into(),
        ErrorCode::MessageTooLong => "This message is too long for the hub; shorten it.".into(),
        ErrorCode::TooManySessions => {
            "You have as many IM sessions open as the hub allows; end one first.".into()
        }
        ErrorCode::StartNotPermitted => {
            "Your account may answer instant messages but not start them. Ask your administrator."
                .into()
        }
        ErrorCode::ImNotPermitted => {
            "Your account is not set up for instant messaging. Ask your administrator.".into()
        }
        ErrorCode::RateLimited => "Too many requests at once; wait a moment and try again.".into(),
        _ => format!("The hub refused: {message}."),
    }
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
    /// The proxy.
    Proxy,
}

/// Why signing in failed, in words an agent understands.
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
pub struct LoginFailure {
    /// The message to show in the form.
    pub message: String,
    /// The field to point at, if the failure is about one.
    pub field: Option<LoginField>,
    /// Nothing was sent: the address is not encrypted and leads to another machine, and the
    /// agent may sign in anyway once warned (`LoginForm::unencrypted_ok`).
    pub unencrypted: bool,
}

impl LoginFailure {
    /// A failure with this message, about this field.
    pub fn new(message: impl Into<String>, field: Option<LoginField>) -> Self {
        Self {
            message: message.into(),
            field,
            unencrypted: false,
        }
    }

    /// The warning before a password would cross the network unencrypted to `hub`.
    pub fn unencrypted(hub: &str) -> Self {
        Self {
            message: format!(
                "{hub} is not an encrypted address: your password and your messages would \
                 cross the network where others could read them. Ask your administrator for \
                 the hub's wss:// address, or sign in anyway if this network is trusted."
            ),
            field: Some(LoginField::Hub),
            unencrypted: true,
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
                    format!(
                        "The hub did not accept the login {login} with this password. \
                         Check both and try again."
                    ),
                    Some(LoginField::Password),
                ),
                ErrorCode::RateLimited => Self::new(
                    format!(
                        "Too many failed sign-ins from this computer: {}.",
                        e.message
                    ),
                    Some(LoginField::Password),
                ),
                ErrorCode::Busy => Self::new(
                    "The hub is signing everyone in at once and could not take you yet. \
                     Try again in a moment.",
                    None,
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
            // Signing in acts on no session and sends no message.
            ClientError::Illegal(_)
            | ClientError::UnknownSession(_)
            | ClientError::EmptyMessage
            | ClientError::MessageTooLong { .. } => {
                Self::new(format!("Signing in failed: {error}."), None)
            }
            ClientError::Lost(reason) => Self::new(
                format!(
                    "The connection to the hub was lost while signing in ({reason}). Try again."
                ),
                None,
            ),
            ClientError::Proxy { proxy, error } => {
                Self::new(proxy_explained(proxy, error), Some(LoginField::Proxy))
            }
        }
    }
}

/// What to do when the proxy on the way to the hub does not carry the connection.
pub fn proxy_explained(proxy: &str, error: &ProxyError) -> String {
    match error {
        ProxyError::AuthRequired(_) | ProxyError::AuthRejected(_)
            if error.needs_other_authentication() =>
        {
            format!(
                "The proxy {proxy} asks for a kind of sign-in Huddle cannot give it ({error}). \
                 Huddle signs in to proxies with a user name and password (Basic). Ask your \
                 administrator to let Huddle reach the hub without it, or for a proxy that \
                 takes a password."
            )
        }
        ProxyError::AuthRequired(_) => format!(
            "The proxy {proxy} asks for a user name and password. Add them to the proxy's \
             address, as in http://your.name:password@proxy.example:3128."
        ),
        ProxyError::AuthRejected(_) => format!(
            "The proxy {proxy} refused the user name and password given. Check them, or ask \
             your administrator for the ones it takes."
        ),
        ProxyError::Unreachable(reason) => format!(
            "Huddle cannot reach the proxy {proxy} ({reason}). Check the proxy's address, or \
             choose the system's settings."
        ),
        ProxyError::Refused(reason) => format!(
            "The proxy {proxy} would not connect to the hub ({reason}). Ask your administrator \
             to allow the hub's address."
        ),
        ProxyError::Garbled(reason) => format!(
            "The proxy {proxy} does not answer as a proxy ({reason}). Check its address and \
             kind (http:// or socks5://)."
        ),
    }
}
