//! What a client can ask of the hub, one type for each kind of request, each naming the
//! answer it gets ([`Ask::Answer`]).

use serde::{Deserialize, Serialize};

use crate::answer::{self, Answer};
use crate::model::{ConsultContext, DirectoryFilter, FirstMessage, Presence};

/// A kind of request, and the answer the hub gives it when it does not refuse.
pub trait Ask: Into<super::Request> {
    /// The answer to this kind of request.
    type Answer: Answer;
}

/// The first frame of every connection: the protocol version the client speaks.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Hello {
    /// The client's protocol version.
    pub protocol: u32,
    /// The client software and its version, for the hub's logs.
    pub client: String,
}

/// Log in as an agent with a password; the answer carries a session token. Like
/// [`Resume`], it names the last event the client holds, and the missed events follow.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Login {
    /// The agent's login name.
    pub login: String,
    /// The agent's password.
    pub password: String,
    /// The sequence number of the last event the client holds (absent: none).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_seq: Option<i64>,
    /// The history that number belongs to, as the hub named it (absent: none).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub history: Option<String>,
}

/// Log in again with a session token, and get the events missed since `last_seq`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Resume {
    /// The token a `logged_in` answer gave.
    pub token: String,
    /// The sequence number of the last event the client holds (0 for none).
    pub last_seq: i64,
    /// The history that number belongs to, as the hub named it (absent: none).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub history: Option<String>,
}

/// Revoke this connection's session token; the connection stays open, logged out.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Logout {}

/// Set the agent's own presence.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SetPresence {
    /// The new presence (not `offline`, which only the hub sets).
    pub presence: Presence,
}

/// Search the directory of internal targets.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Search {
    /// Any part of a name or login; empty lists everything the filter allows.
    pub query: String,
    /// Which entries to search.
    #[serde(default)]
    pub filter: DirectoryFilter,
    /// At most this many entries (the hub caps it).
    #[serde(default)]
    pub limit: Option<u32>,
}

/// Follow these agents' presence from now on, instead of those followed before: the
/// colleagues the agent sees. Declared again on every connection. The answer is followed by
/// a `presences` frame with their presence now.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Follow {
    /// The agents' ids (at most the hub's `max_followed`).
    pub agents: Vec<i64>,
}

/// Mark or unmark an agent as a favorite.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SetFavorite {
    /// The agent's id.
    pub agent_id: i64,
    /// Whether it is a favorite from now on.
    pub favorite: bool,
}

/// Invite an agent to a new IM session.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Invite {
    /// The new session's id, chosen by the client; inviting again with the same id and the
    /// same content changes nothing.
    pub session_id: String,
    /// The invited agent's id.
    pub target: i64,
    /// A message that goes with the invitation.
    #[serde(default)]
    pub first_message: Option<FirstMessage>,
    /// The interaction a consultation is about.
    #[serde(default)]
    pub context: Option<ConsultContext>,
}

/// Accept an invitation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Accept {
    /// The session.
    pub session_id: String,
}

/// Reject an invitation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reject {
    /// The session.
    pub session_id: String,
}

/// Withdraw one's own unanswered invitation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cancel {
    /// The session.
    pub session_id: String,
}

/// End a connected session, for both agents.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct End {
    /// The session.
    pub session_id: String,
}

/// Send a message into a connected session.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Send {
    /// The session.
    pub session_id: String,
    /// The message's id, chosen by the client; sending it again changes nothing.
    pub message_id: String,
    /// The text.
    pub text: String,
}

/// Get the agent's open sessions (and recently ended ones) with their latest messages.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Snapshot {}

/// Page back through a session's transcript: the messages before `before_seq` (before
/// none: the latest), oldest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Transcript {
    /// The session.
    pub session_id: String,
    /// Only messages numbered below this one.
    #[serde(default)]
    pub before_seq: Option<i64>,
    /// At most this many messages (the hub caps it at [`crate::TRANSCRIPT_PAGE`]).
    #[serde(default)]
    pub limit: Option<u32>,
}

/// List the customer interactions assigned to the agent that have not ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Interactions {}

/// Read an interaction's case data, contact and latest contact history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InteractionDetails {
    /// The interaction.
    pub interaction_id: String,
}

/// Search the history of an interaction's contact.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContactHistory {
    /// The interaction whose contact's history is searched.
    pub interaction_id: String,
    /// Words to find in subjects, outcomes and notes; empty lists every entry.
    pub query: String,
    /// At most this many entries (the hub caps it).
    #[serde(default)]
    pub limit: Option<u32>,
}

/// Turn a consultation IM about a voice interaction into a voice consultation: the customer
/// goes on hold and the consulted agent's phone rings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StartVoiceConsultation {
    /// The consultation IM session.
    pub session_id: String,
}

/// The consulted agent accepts or declines a voice consultation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AnswerVoiceConsultation {
    /// The voice consultation.
    pub consultation_id: String,
    /// Whether to take the call.
    pub accept: bool,
}

/// End a voice consultation: the consult call is released and the customer retrieved.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EndVoiceConsultation {
    /// The voice consultation.
    pub consultation_id: String,
}

/// Declares each request kind's answer, and how it goes into a [`super::Request`].
macro_rules! asks {
    ($($request:ident => $answer:ty;)*) => {
        $(
            impl Ask for $request {
                type Answer = $answer;
            }

            impl From<$request> for super::Request {
                fn from(request: $request) -> Self {
                    Self::$request(request)
                }
            }
        )*
    };
}

asks! {
    Hello => answer::Welcome;
    Login => answer::LoggedIn;
    Resume => answer::Resumed;
    Logout => answer::LoggedOut;
    SetPresence => answer::Done;
    Search => answer::Directory;
    Follow => answer::Done;
    SetFavorite => answer::Done;
    Invite => answer::Session;
    Accept => answer::Done;
    Reject => answer::Done;
    Cancel => answer::Done;
    End => answer::Done;
    Send => answer::Sent;
    Snapshot => answer::Snapshot;
    Transcript => answer::Transcript;
    Interactions => answer::Interactions;
    InteractionDetails => answer::InteractionDetails;
    ContactHistory => answer::ContactHistory;
    StartVoiceConsultation => answer::VoiceConsultation;
    AnswerVoiceConsultation => answer::Done;
    EndVoiceConsultation => answer::Done;
}
