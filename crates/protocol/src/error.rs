use serde::{Deserialize, Serialize};

/// Stable error codes. Clients branch on the code; the message is for people.
///
/// A code added by a newer hub reaches an older client as [`ErrorCode::Unrecognized`], so
/// clients keep working and show the message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    /// The frame is not a JSON object.
    MalformedFrame,
    /// The frame's `type` is not one this hub knows.
    UnknownFrameType,
    /// The frame's type is known but its fields are missing or of the wrong kind.
    InvalidFrame,
    /// The frame is larger than the hub accepts.
    FrameTooLarge,
    /// Binary WebSocket messages are not part of the protocol.
    BinaryFrame,
    /// The first frame must be `hello`.
    HelloRequired,
    /// The client's protocol version is not one the hub speaks.
    UnsupportedVersion,
    /// The connection is already logged in.
    AlreadyLoggedIn,
    /// No agent has this login (not sent by this hub version, whose refusals of a login do
    /// not tell an unknown login from a wrong password: see `WrongPassword`).
    UnknownAgent,
    /// The login is unknown or the password does not match.
    WrongPassword,
    /// An administrator has disabled the account.
    AgentDisabled,
    /// The request needs a logged-in connection.
    NotLoggedIn,
    /// The session token is unknown, expired or revoked: log in with the password.
    TokenInvalid,
    /// The account may not use internal IM.
    ImNotPermitted,
    /// The account may receive IMs but not start them.
    StartNotPermitted,
    /// No agent with this id can receive IMs.
    UnknownTarget,
    /// The target cannot be invited (for example, oneself).
    InvalidTarget,
    /// A client-chosen id is not 1 to 64 characters among A-Z, a-z, 0-9, '-' and '_'.
    InvalidId,
    /// A client-chosen id is already used for something else.
    IdConflict,
    /// No session with this id has the agent as a participant.
    UnknownSession,
    /// The session's state does not allow this request.
    WrongState,
    /// The message text is empty.
    InvalidMessage,
    /// The message text is over the hub's limit.
    MessageTooLong,
    /// Agents cannot set themselves Offline.
    InvalidPresence,
    /// Too many messages or invitations in a short time.
    RateLimited,
    /// The agent has as many open sessions as the hub allows.
    TooManySessions,
    /// The request asks for more than the hub's limit allows (for example, too many agents
    /// to follow).
    LimitExceeded,
    /// The hub is signing in as many agents as it can at once: try again in a moment.
    Busy,
    /// No customer interaction has this id.
    UnknownInteraction,
    /// The agent may not see or consult about this interaction: it is neither assigned to
    /// them nor the subject of an accepted consultation they are the target of.
    InteractionNotPermitted,
    /// No voice consultation with this id has the agent as a participant.
    UnknownConsultation,
    /// The telephony switch failed to carry out a call operation.
    TelephonyFailed,
    /// The hub failed in a way that is not the client's fault.
    Internal,
    /// A code this build does not know (sent by a newer hub).
    #[serde(other)]
    Unrecognized,
}

impl ErrorCode {
    /// Whether the refusal means the agent's session is over on the hub: the client must
    /// sign in again (with a password) rather than retry.
    pub fn ends_session(self) -> bool {
        matches!(
            self,
            Self::TokenInvalid | Self::AgentDisabled | Self::ImNotPermitted
        )
    }

    /// The code as it appears on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::MalformedFrame => "malformed_frame",
            Self::UnknownFrameType => "unknown_frame_type",
            Self::InvalidFrame => "invalid_frame",
            Self::FrameTooLarge => "frame_too_large",
            Self::BinaryFrame => "binary_frame",
            Self::HelloRequired => "hello_required",
            Self::UnsupportedVersion => "unsupported_version",
            Self::AlreadyLoggedIn => "already_logged_in",
            Self::UnknownAgent => "unknown_agent",
            Self::WrongPassword => "wrong_password",
            Self::AgentDisabled => "agent_disabled",
            Self::NotLoggedIn => "not_logged_in",
            Self::TokenInvalid => "token_invalid",
            Self::ImNotPermitted => "im_not_permitted",
            Self::StartNotPermitted => "start_not_permitted",
            Self::UnknownTarget => "unknown_target",
            Self::InvalidTarget => "invalid_target",
            Self::InvalidId => "invalid_id",
            Self::IdConflict => "id_conflict",
            Self::UnknownSession => "unknown_session",
            Self::WrongState => "wrong_state",
            Self::InvalidMessage => "invalid_message",
            Self::MessageTooLong => "message_too_long",
            Self::InvalidPresence => "invalid_presence",
            Self::RateLimited => "rate_limited",
            Self::TooManySessions => "too_many_sessions",
            Self::LimitExceeded => "limit_exceeded",
            Self::Busy => "busy",
            Self::UnknownInteraction => "unknown_interaction",
            Self::InteractionNotPermitted => "interaction_not_permitted",
            Self::UnknownConsultation => "unknown_consultation",
            Self::TelephonyFailed => "telephony_failed",
            Self::Internal => "internal",
            Self::Unrecognized => "unrecognized",
        }
    }

    /// Every code, in declaration order.
    pub const ALL: [ErrorCode; 34] = [
        Self::MalformedFrame,
        Self::UnknownFrameType,
        Self::InvalidFrame,
        Self::FrameTooLarge,
        Self::BinaryFrame,
        Self::HelloRequired,
        Self::UnsupportedVersion,
        Self::AlreadyLoggedIn,
        Self::UnknownAgent,
        Self::WrongPassword,
        Self::AgentDisabled,
        Self::NotLoggedIn,
        Self::TokenInvalid,
        Self::ImNotPermitted,
        Self::StartNotPermitted,
        Self::UnknownTarget,
        Self::InvalidTarget,
        Self::InvalidId,
        Self::IdConflict,
        Self::UnknownSession,
        Self::WrongState,
        Self::InvalidMessage,
        Self::MessageTooLong,
        Self::InvalidPresence,
        Self::RateLimited,
        Self::TooManySessions,
        Self::LimitExceeded,
        Self::Busy,
        Self::UnknownInteraction,
        Self::InteractionNotPermitted,
        Self::UnknownConsultation,
        Self::TelephonyFailed,
        Self::Internal,
        Self::Unrecognized,
    ];
}

impl std::fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The body of an `error` frame: a stable code and a message a person can read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorFrame {
    /// What went wrong, for programs.
    pub code: ErrorCode,
    /// What went wrong, for people.
    pub message: String,
}

impl ErrorFrame {
    /// An error with the given code and message.
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
        }
    }
}

impl std::fmt::Display for ErrorFrame {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} ({})", self.message, self.code)
    }
}

impl std::error::Error for ErrorFrame {}
