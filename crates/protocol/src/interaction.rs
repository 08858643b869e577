//! The customer side of the agent's work: interactions (calls, emails, chats) that routing
//! delivers through the hub, the contact each is with and that contact's history, and the
//! voice consultations an IM consultation can turn into.

use serde::{Deserialize, Serialize};

use crate::model::UnixMillis;

/// How a customer reaches the contact center.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum Media {
    /// A phone call.
    Voice,
    /// An email.
    Email,
    /// A web or messaging chat.
    Chat,
}

impl Media {
    /// The name on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Voice => "voice",
            Self::Email => "email",
            Self::Chat => "chat",
        }
    }
}

/// Where a customer interaction is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum InteractionState {
    /// Offered to the agent, not yet answered (calls).
    Ringing,
    /// The agent is handling it.
    Active,
    /// The customer is on hold.
    Held,
    /// Over.
    Ended,
}

impl InteractionState {
    /// The name on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Ringing => "ringing",
            Self::Active => "active",
            Self::Held => "held",
            Self::Ended => "ended",
        }
    }
}

/// One item of an interaction's case data, as the contact center's systems attach it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct CaseDatum {
    /// A stable name for programs (`order_id`).
    pub key: String,
    /// The name shown to people (`Order`).
    pub label: String,
    /// The value, as text.
    pub value: String,
}

/// The contact an interaction is with, in short.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct ContactRef {
    /// The contact's id (chosen by the contact center's systems).
    pub id: String,
    /// The contact's full name.
    pub name: String,
}

/// A customer interaction as an agent sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct InteractionSummary {
    /// The interaction's id (chosen by the contact center's systems).
    pub id: String,
    /// Call, email or chat.
    pub media: Media,
    /// Where it is.
    pub state: InteractionState,
    /// Who the customer is.
    pub contact: ContactRef,
    /// What it is about.
    pub subject: String,
    /// The case data agents may see, in the order the systems gave it.
    pub case_data: Vec<CaseDatum>,
    /// When it reached the hub.
    pub started_at: UnixMillis,
    /// When it ended, once it has.
    pub ended_at: Option<UnixMillis>,
}

/// A contact's information.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct ContactInfo {
    /// The contact's id.
    pub id: String,
    /// Given name.
    pub first_name: String,
    /// Family name.
    pub last_name: String,
    /// Phone numbers, the main one first.
    pub phones: Vec<String>,
    /// Email addresses, the main one first.
    pub emails: Vec<String>,
}

/// One past interaction with a contact.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct HistoryEntry {
    /// The entry's id (chosen by the contact center's systems, unique per contact).
    pub id: String,
    /// When it took place.
    pub at: UnixMillis,
    /// Call, email or chat.
    pub media: Media,
    /// What it was about.
    pub subject: String,
    /// How it ended ("Resolved", "Refund issued", …).
    pub outcome: String,
    /// The agent's notes.
    pub notes: String,
}

/// Everything about an interaction that an agent may read: the summary, the contact and
/// the contact's latest history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct InteractionDetails {
    /// The interaction.
    pub interaction: InteractionSummary,
    /// Its contact.
    pub contact: ContactInfo,
    /// The contact's most recent history, newest first.
    pub history: Vec<HistoryEntry>,
}

/// Where a voice consultation is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum VoiceConsultationState {
    /// The consulted agent's phone rings.
    Ringing,
    /// The two agents are talking.
    Connected,
    /// Over; the customer is back with the agent.
    Ended,
}

/// A voice call between the two agents of a consultation IM, with the customer on hold.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct VoiceConsultation {
    /// The hub's id of the voice consultation.
    pub id: String,
    /// The consultation IM session it came from.
    pub session_id: String,
    /// The voice interaction whose customer is on hold.
    pub interaction_id: String,
    /// Where it is.
    pub state: VoiceConsultationState,
    /// Whether the customer is on hold now.
    pub customer_held: bool,
}
