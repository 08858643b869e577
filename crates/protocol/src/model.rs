//! The things frames talk about: agents, presence, directory entries, IM sessions and
//! their messages.

use serde::{Deserialize, Serialize};

/// Milliseconds since the Unix epoch, UTC. Every time on the wire is one.
pub type UnixMillis = i64;

/// An agent as others see it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct AgentProfile {
    /// The hub's id of the agent.
    pub id: i64,
    /// The login name.
    pub login: String,
    /// The name shown to people.
    pub display_name: String,
}

/// An agent's availability, as set by the agent (Offline is set by the hub).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum Presence {
    /// Available for colleagues and customers.
    Ready,
    /// Signed in but not taking customer interactions.
    NotReady,
    /// In an interaction; interruptions should be short.
    Busy,
    /// Away from the desk.
    Away,
    /// No connection to the hub (after a grace period).
    Offline,
}

/// An agent's presence, as `presences` lists it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct AgentPresence {
    /// The agent.
    pub agent_id: i64,
    /// Their presence now.
    pub presence: Presence,
}

/// The hub's limits that a client respects before asking, so that it can explain them to
/// the agent at once. The hub checks them all the same.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct HubLimits {
    /// The longest message text, in characters.
    pub max_message_chars: u32,
    /// The most agents one connection may follow the presence of.
    pub max_followed: u32,
}

impl Default for HubLimits {
    /// The limits of a hub that does not say (its defaults).
    fn default() -> Self {
        Self {
            max_message_chars: 4000,
            max_followed: 500,
        }
    }
}

/// Which directory entries a search returns.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum DirectoryFilter {
    /// Every entry.
    #[default]
    All,
    /// The searching agent's favorites.
    Favorites,
    /// The agents the searching agent had IM sessions with lately.
    Recent,
}

/// What a directory entry stands for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum EntryKind {
    /// One agent.
    Agent,
    /// A group of agents.
    Group,
}

/// One result of a directory search: an internal target.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct DirectoryEntry {
    /// An agent or a group.
    pub kind: EntryKind,
    /// The agent's or the group's id.
    pub id: i64,
    /// The name shown to people.
    pub name: String,
    /// The agent's login (empty for a group).
    pub login: String,
    /// The agent's presence (absent for a group).
    pub presence: Option<Presence>,
    /// Whether the searching agent marked it as a favorite.
    pub favorite: bool,
    /// When the searching agent last had an IM session with it, if lately.
    pub recent_at: Option<UnixMillis>,
}

/// Where an IM session is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum SessionState {
    /// The target has been invited and has not answered.
    Inviting,
    /// Both agents are in the session.
    Connected,
    /// The session is over; see its [`SessionEnd`].
    Ended,
}

/// Why a session ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum EndReason {
    /// The target rejected the invitation.
    Rejected,
    /// The inviter withdrew the invitation.
    Cancelled,
    /// Nobody answered the invitation in time.
    TimedOut,
    /// A participant ended the connected session.
    Ended,
}

/// How a session ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct SessionEnd {
    /// Why.
    pub reason: EndReason,
    /// The agent who ended it (absent for a time-out).
    pub by: Option<i64>,
    /// When.
    pub at: UnixMillis,
}

/// What a consultation is about: the customer interaction the inviter is handling.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct ConsultContext {
    /// The interaction's id on the hub.
    pub interaction_id: String,
}

/// An IM session between two agents, without its transcript.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct SessionInfo {
    /// The id the inviter's client chose.
    pub id: String,
    /// Who invited.
    pub inviter: AgentProfile,
    /// Who was invited.
    pub target: AgentProfile,
    /// Where the session is.
    pub state: SessionState,
    /// How it ended, once it has.
    pub end: Option<SessionEnd>,
    /// When the invitation was made.
    pub created_at: UnixMillis,
    /// When an unanswered invitation times out.
    pub invite_expires_at: UnixMillis,
    /// The message sent with the invitation, if any.
    pub first_message: Option<Message>,
    /// The interaction a consultation is about, if it is one.
    pub context: Option<ConsultContext>,
}

/// One message of a session's transcript.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Message {
    /// The id the sender's client chose; sending it again changes nothing.
    pub id: String,
    /// The session it belongs to.
    pub session_id: String,
    /// Its place in the session's transcript, from 1, assigned by the hub.
    pub seq: i64,
    /// The sender's agent id.
    pub from: i64,
    /// The text, shown as typed (never as markup).
    pub text: String,
    /// When the hub committed it.
    pub at: UnixMillis,
}

/// A session with the latest part of its transcript.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct SessionTranscript {
    /// The session.
    pub session: SessionInfo,
    /// Its latest messages in order (at most [`SNAPSHOT_MESSAGES`]).
    pub messages: Vec<Message>,
    /// Whether older messages exist; `transcript` pages through them.
    #[serde(default)]
    pub earlier: bool,
}

/// The most messages of one session a snapshot carries; older ones come by `transcript`.
pub const SNAPSHOT_MESSAGES: usize = 200;

/// The most messages one `transcript` page carries.
pub const TRANSCRIPT_PAGE: u32 = 500;

/// A message the inviter sends with an invitation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FirstMessage {
    /// The message's client-chosen id.
    pub id: String,
    /// The text.
    pub text: String,
}
