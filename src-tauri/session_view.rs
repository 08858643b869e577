//! The types an IM session is shown with: in the main window's list and in its own window.

use huddle_client::cache::{CachedMessage, SearchHit, SnippetPart};
use huddle_client::{EndCause, SessionStatus, SessionUpdate};
use huddle_protocol::{AgentProfile, VoiceConsultation};
use serde::{Deserialize, Serialize};
use ts_rs::TS;

/// The event that carries a [`SessionView`] to the main window and to the session's window.
pub const SESSION_EVENT: &str = "session";
/// The event that carries a [`CachedMessage`] to its session's window.
pub const MESSAGE_EVENT: &str = "message";
/// The event that carries a [`VoiceConsultation`] to its session's window.
pub const VOICE_EVENT: &str = "voice";
/// The event that carries an [`huddle_protocol::InteractionSummary`] to the main window.
pub const INTERACTION_EVENT: &str = "interaction";

/// The colleague a consultation is drafted with, as the Team Communicator shows them.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, TS)]
pub struct ConsultTarget {
    /// The agent's id.
    pub id: i64,
    /// The agent's login.
    pub login: String,
    /// The agent's name.
    pub name: String,
}

/// Where a session stands, as its status indicator shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, TS)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum StatusView {
    /// A consultation not sent yet.
    NotConnected,
    /// This agent invited the other, who has not answered.
    Inviting,
    /// The other agent invited this one, who has not answered.
    Invited,
    /// Both agents are in the session.
    Connected,
    /// The session is over.
    Ended {
        /// Why, in this agent's words.
        cause: EndCauseView,
    },
}

/// Why a session ended, as this agent is told.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum EndCauseView {
    /// This agent ended it.
    EndedByMe,
    /// The other agent ended it.
    EndedByOther,
    /// This agent turned the invitation down.
    RejectedByMe,
    /// The other agent turned this agent's invitation down.
    Rejected,
    /// Nobody answered the invitation in time.
    TimedOut,
    /// The hub no longer has the session.
    Lost,
    /// This agent withdrew the invitation.
    CancelledByMe,
    /// The other agent withdrew the invitation.
    Cancelled,
}

impl From<SessionStatus> for StatusView {
    fn from(status: SessionStatus) -> Self {
        match status {
            SessionStatus::Draft => Self::NotConnected,
            SessionStatus::Inviting => Self::Inviting,
            SessionStatus::Invited => Self::Invited,
            SessionStatus::Connected => Self::Connected,
            SessionStatus::Ended(cause) => Self::Ended {
                cause: match cause {
                    EndCause::EndedByMe => EndCauseView::EndedByMe,
                    EndCause::EndedByOther { .. } => EndCauseView::EndedByOther,
                    EndCause::Rejected { by_me: true } => EndCauseView::RejectedByMe,
                    EndCause::Rejected { by_me: false } => EndCauseView::Rejected,
                    EndCause::TimedOut => EndCauseView::TimedOut,
                    EndCause::Lost => EndCauseView::Lost,
                    EndCause::Cancelled { by_me: true } => EndCauseView::CancelledByMe,
                    EndCause::Cancelled { by_me: false } => EndCauseView::Cancelled,
                },
            },
        }
    }
}

/// An IM session as the windows show it.
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
pub struct SessionView {
    /// The session's id.
    pub id: String,
    /// The signed-in agent.
    pub me: AgentProfile,
    /// The other participant.
    pub other: AgentProfile,
    /// Whether the signed-in agent sent the invitation.
    pub i_invited: bool,
    /// Where it stands.
    pub status: StatusView,
    /// When the invitation was made.
    pub created_at: i64,
    /// When an unanswered invitation times out.
    pub invite_expires_at: i64,
    /// The text that came with the invitation, if any.
    pub first_message: Option<String>,
    /// Whether it is a consultation about a customer interaction.
    pub consultation: bool,
    /// The customer interaction a consultation is about.
    pub interaction_id: Option<String>,
    /// Whether it is an invitation to this agent that ended before they answered it.
    pub missed: bool,
    /// When it ended, once it has (as the hub told it).
    pub ended_at: Option<i64>,
}

impl SessionView {
    /// The view of an engine's session for the agent `me`.
    pub fn of(update: &SessionUpdate, me: &AgentProfile) -> Self {
        let info = &update.info;
        let i_invited = update.i_invited(me.id);
        let other = if i_invited {
            &info.target
        } else {
            &info.inviter
        };
        Self {
            id: info.id.clone(),
            me: me.clone(),
            other: other.clone(),
            i_invited,
            status: update.status.into(),
            created_at: info.created_at,
            invite_expires_at: info.invite_expires_at,
            first_message: info.first_message.as_ref().map(|m| m.text.clone()),
            consultation: info.context.is_some(),
            interaction_id: info.context.as_ref().map(|c| c.interaction_id.clone()),
            missed: update.missed(me.id),
            ended_at: info.end.as_ref().map(|e| e.at),
        }
    }
}

/// The event that asks an IM window to show one of its messages, highlighted.
pub const REVEAL_EVENT: &str = "reveal";

/// A message an IM window is asked to show, wherever it is in the transcript.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct RevealView {
    /// The message's id.
    pub message_id: String,
    /// Its sender.
    pub from: i64,
    /// Its number in the transcript (`None` while it waits in the outbox).
    pub seq: Option<i64>,
}

/// A message found by a search, as the results list shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
pub struct MessageHitView {
    /// The session it belongs to.
    pub session_id: String,
    /// The colleague of that session.
    pub colleague: AgentProfile,
    /// Whether the session is over.
    pub ended: bool,
    /// The message, to show it in its window.
    pub reveal: RevealView,
    /// Whether the signed-in agent wrote it.
    pub mine: bool,
    /// When it was sent.
    pub at: i64,
    /// The extract around the match, the matching words marked.
    pub snippet: Vec<SnippetPart>,
}

impl MessageHitView {
    /// The view of a search hit in `session`.
    pub fn of(hit: SearchHit, session: &SessionView) -> Self {
        Self {
            session_id: hit.session_id,
            colleague: session.other.clone(),
            ended: matches!(session.status, StatusView::Ended { .. }),
            mine: hit.from == session.me.id,
            reveal: RevealView {
                message_id: hit.message_id,
                from: hit.from,
                seq: hit.seq,
            },
            at: hit.at,
            snippet: hit.snippet,
        }
    }
}

/// Everything an IM window shows when it opens.
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
pub struct ImWindowView {
    /// The session.
    pub session: SessionView,
    /// The end of its transcript, in order.
    pub messages: Vec<CachedMessage>,
    /// Whether earlier messages exist (`im_earlier` reads them).
    pub has_earlier: bool,
    /// The text size of IM views, in percent.
    pub zoom: u16,
    /// Whether misspelled words are marked in the message field.
    pub spell_check: bool,
    /// The session's voice consultation, if it became one.
    pub voice: Option<VoiceConsultation>,
}

/// Earlier messages of a transcript, in order.
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
pub struct TranscriptPageView {
    /// The messages.
    pub messages: Vec<CachedMessage>,
    /// Whether messages before these exist.
    pub has_earlier: bool,
}

/// The event that carries a [`ToastView`] to the toast window.
pub const TOAST_EVENT: &str = "toast";

/// An invitation as the toast shows it.
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
pub struct InvitationView {
    /// The session.
    pub session_id: String,
    /// Who invites.
    pub from: AgentProfile,
    /// The text that came with the invitation (a consultation's first message).
    pub first_message: Option<String>,
    /// Whether it is a consultation about a customer interaction.
    pub consultation: bool,
    /// When the invitation was made, in milliseconds.
    pub created_at: i64,
}

impl InvitationView {
    /// The toast's view of an invitation.
    pub fn of(session: &SessionView) -> Self {
        Self {
            session_id: session.id.clone(),
            from: session.other.clone(),
            first_message: session.first_message.clone(),
            consultation: session.consultation,
            created_at: session.created_at,
        }
    }
}

/// What the toast window shows: the invitations not answered or dismissed yet, newest last.
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
pub struct ToastView {
    /// The invitations, oldest first.
    pub invitations: Vec<InvitationView>,
    /// How long a card stays before it is dismissed, in seconds.
    pub seconds: u16,
    /// Whether a sound plays for a new invitation.
    pub sound: bool,
}
