//! The hub's answers, one type for each kind, named by the requests that get them
//! ([`crate::request::Ask::Answer`]). On the wire an answer carries its `type` and the `re`
//! of its request; a refusal is an `error` frame instead.

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::interaction::{HistoryEntry, InteractionSummary};
use crate::model::{
    AgentProfile, DirectoryEntry, HubLimits, Message, Presence, SessionInfo, SessionTranscript,
    UnixMillis,
};

/// A kind of answer.
pub trait Answer: Serialize + DeserializeOwned {
    /// The frame's `type` on the wire.
    const KIND: &'static str;
}

/// The answer to `hello`: the version both sides now speak.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Welcome {
    /// The agreed protocol version.
    pub protocol: u32,
    /// The hub software's version, for the client's logs.
    pub hub: String,
    /// The hub's limits that a client should respect before asking.
    #[serde(default)]
    pub limits: HubLimits,
}

/// The answer to a successful `login`; the missed events follow it, in order, unless
/// `resync_required` says that the client must ask for a `snapshot` instead.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LoggedIn {
    /// The agent now logged in.
    pub agent: AgentProfile,
    /// The session token for `resume`; keep it secret.
    pub token: String,
    /// When the token stops working.
    pub expires_at: UnixMillis,
    /// The agent's latest event sequence number.
    pub seq: i64,
    /// The agent's presence now.
    pub presence: Presence,
    /// The name of the history the event numbers belong to.
    #[serde(default)]
    pub history: String,
    /// The hub cannot replay from the client's `last_seq` (none was given, it is beyond the
    /// hub's, it belongs to another history, or the events are no longer kept).
    #[serde(default = "resync_by_default")]
    pub resync_required: bool,
}

fn resync_by_default() -> bool {
    true
}

/// The answer to a successful `resume`; the missed events follow it, in order, unless
/// `resync_required` says that the client must ask for a `snapshot` instead.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Resumed {
    /// The agent now logged in.
    pub agent: AgentProfile,
    /// When the token stops working.
    pub expires_at: UnixMillis,
    /// The agent's latest event sequence number.
    pub seq: i64,
    /// The agent's presence now.
    pub presence: Presence,
    /// The name of the history the event numbers belong to.
    #[serde(default)]
    pub history: String,
    /// The hub cannot replay from the client's `last_seq` (it is beyond the hub's, it
    /// belongs to another history, or the events are no longer kept).
    pub resync_required: bool,
}

/// The answer to `logout`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LoggedOut {}

/// The answer to a request that has nothing else to say: it succeeded (`ok`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Done {}

/// The answer to `search`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Directory {
    /// The matching entries, best first.
    pub entries: Vec<DirectoryEntry>,
}

/// The answer to `invite`: the session as it now stands.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Session {
    /// The session.
    pub session: Box<SessionInfo>,
}

/// The answer to `send`: the message as committed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Sent {
    /// The message with its place and time.
    pub message: Message,
}

/// The answer to `snapshot`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Snapshot {
    /// The agent's latest event sequence number; events after it follow.
    pub seq: i64,
    /// The agent's presence now.
    pub presence: Presence,
    /// Open and recently ended sessions, each with its transcript.
    pub sessions: Vec<SessionTranscript>,
    /// The agent's interactions that have not ended, oldest first.
    #[serde(default)]
    pub interactions: Vec<InteractionSummary>,
    /// The voice consultations the agent takes part in that have not ended.
    #[serde(default)]
    pub voice_consultations: Vec<crate::VoiceConsultation>,
}

/// The answer to `interactions`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Interactions {
    /// The agent's interactions that have not ended, oldest first.
    pub interactions: Vec<InteractionSummary>,
}

/// The answer to `interaction_details`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InteractionDetails {
    /// The interaction, its contact and the contact's latest history.
    pub details: Box<crate::InteractionDetails>,
}

/// The answer to `contact_history`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ContactHistory {
    /// The matching entries, newest first.
    pub entries: Vec<HistoryEntry>,
}

/// The answer to `transcript`: a page of a session's messages.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Transcript {
    /// The session.
    pub session_id: String,
    /// The messages, oldest first.
    pub messages: Vec<Message>,
    /// Whether messages older than these exist.
    pub earlier: bool,
}

/// The answer to `start_voice_consultation`: the voice consultation as it now stands.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VoiceConsultation {
    /// The voice consultation.
    pub consultation: crate::VoiceConsultation,
}

macro_rules! kinds {
    ($($answer:ident => $kind:literal;)*) => {
        $(
            impl Answer for $answer {
                const KIND: &'static str = $kind;
            }
        )*

        /// Every answer's `type`.
        pub const KINDS: &[&str] = &[$($kind),*];
    };
}

kinds! {
    Welcome => "welcome";
    LoggedIn => "logged_in";
    Resumed => "resumed";
    LoggedOut => "logged_out";
    Done => "ok";
    Directory => "directory";
    Session => "session";
    Sent => "sent";
    Snapshot => "snapshot";
    Interactions => "interactions";
    InteractionDetails => "interaction_details";
    ContactHistory => "contact_history";
    Transcript => "transcript";
    VoiceConsultation => "voice_consultation";
}
