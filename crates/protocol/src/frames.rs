use serde::{Deserialize, Serialize};

use crate::interaction::{HistoryEntry, InteractionDetails, InteractionSummary, VoiceConsultation};
use crate::model::{
    AgentPresence, AgentProfile, ConsultContext, DirectoryEntry, DirectoryFilter, FirstMessage,
    HubLimits, Message, Presence, SessionInfo, SessionTranscript, UnixMillis,
};
use crate::{ErrorCode, ErrorFrame};

/// A frame sent by a client.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClientFrame {
    /// The client's number for this request, echoed as `re` in the answer.
    pub req: u64,
    /// What the client asks for.
    #[serde(flatten)]
    pub request: Request,
}

/// What a client can ask of the hub.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Request {
    /// The first frame of every connection: the protocol version the client speaks.
    Hello {
        /// The client's protocol version.
        protocol: u32,
        /// The client software and its version, for the hub's logs.
        client: String,
    },
    /// Log in as an agent with a password; the answer carries a session token. Like
    /// `resume`, it names the last event the client holds, and the missed events follow.
    Login {
        /// The agent's login name.
        login: String,
        /// The agent's password.
        password: String,
        /// The sequence number of the last event the client holds (absent: none).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        last_seq: Option<i64>,
        /// The history that number belongs to, as the hub named it (absent: none).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        history: Option<String>,
    },
    /// Log in again with a session token, and get the events missed since `last_seq`.
    Resume {
        /// The token a `logged_in` answer gave.
        token: String,
        /// The sequence number of the last event the client holds (0 for none).
        last_seq: i64,
        /// The history that number belongs to, as the hub named it (absent: none).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        history: Option<String>,
    },
    /// Revoke this connection's session token; the connection stays open, logged out.
    Logout,
    /// Set the agent's own presence.
    SetPresence {
        /// The new presence (not `offline`, which only the hub sets).
        presence: Presence,
    },
    /// Search the directory of internal targets.
    Search {
        /// Any part of a name or login; empty lists everything the filter allows.
        query: String,
        /// Which entries to search.
        #[serde(default)]
        filter: DirectoryFilter,
        /// At most this many entries (the hub caps it).
        #[serde(default)]
        limit: Option<u32>,
    },
    /// Follow these agents' presence from now on, instead of those followed before: the
    /// colleagues the agent sees. Declared again on every connection.
    Follow {
        /// The agents' ids (at most the hub's `max_followed`).
        agents: Vec<i64>,
    },
    /// Mark or unmark an agent as a favorite.
    SetFavorite {
        /// The agent's id.
        agent_id: i64,
        /// Whether it is a favorite from now on.
        favorite: bool,
    },
    /// Invite an agent to a new IM session.
    Invite {
        /// The new session's id, chosen by the client; inviting again with the same id and
        /// the same content changes nothing.
        session_id: String,
        /// The invited agent's id.
        target: i64,
        /// A message that goes with the invitation.
        #[serde(default)]
        first_message: Option<FirstMessage>,
        /// The interaction a consultation is about.
        #[serde(default)]
        context: Option<ConsultContext>,
    },
    /// Accept an invitation.
    Accept {
        /// The session.
        session_id: String,
    },
    /// Reject an invitation.
    Reject {
        /// The session.
        session_id: String,
    },
    /// Withdraw one's own unanswered invitation.
    Cancel {
        /// The session.
        session_id: String,
    },
    /// End a connected session, for both agents.
    End {
        /// The session.
        session_id: String,
    },
    /// Send a message into a connected session.
    Send {
        /// The session.
        session_id: String,
        /// The message's id, chosen by the client; sending it again changes nothing.
        message_id: String,
        /// The text.
        text: String,
    },
    /// Get the agent's open sessions (and recently ended ones) with their latest messages.
    Snapshot,
    /// Page back through a session's transcript: the messages before `before_seq` (before
    /// none: the latest), oldest first.
    Transcript {
        /// The session.
        session_id: String,
        /// Only messages numbered below this one.
        #[serde(default)]
        before_seq: Option<i64>,
        /// At most this many messages (the hub caps it at [`crate::TRANSCRIPT_PAGE`]).
        #[serde(default)]
        limit: Option<u32>,
    },
    /// List the customer interactions assigned to the agent that have not ended.
    Interactions,
    /// Read an interaction's case data, contact and latest contact history.
    InteractionDetails {
        /// The interaction.
        interaction_id: String,
    },
    /// Search the history of an interaction's contact.
    ContactHistory {
        /// The interaction whose contact's history is searched.
        interaction_id: String,
        /// Words to find in subjects, outcomes and notes; empty lists every entry.
        query: String,
        /// At most this many entries (the hub caps it).
        #[serde(default)]
        limit: Option<u32>,
    },
    /// Turn a consultation IM about a voice interaction into a voice consultation: the
    /// customer goes on hold and the consulted agent's phone rings.
    StartVoiceConsultation {
        /// The consultation IM session.
        session_id: String,
    },
    /// The consulted agent accepts or declines a voice consultation.
    AnswerVoiceConsultation {
        /// The voice consultation.
        consultation_id: String,
        /// Whether to take the call.
        accept: bool,
    },
    /// End a voice consultation: the consult call is released and the customer retrieved.
    EndVoiceConsultation {
        /// The voice consultation.
        consultation_id: String,
    },
}

impl Request {
    /// The frame's `type` on the wire.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Hello { .. } => "hello",
            Self::Login { .. } => "login",
            Self::Resume { .. } => "resume",
            Self::Logout => "logout",
            Self::SetPresence { .. } => "set_presence",
            Self::Search { .. } => "search",
            Self::Follow { .. } => "follow",
            Self::SetFavorite { .. } => "set_favorite",
            Self::Invite { .. } => "invite",
            Self::Accept { .. } => "accept",
            Self::Reject { .. } => "reject",
            Self::Cancel { .. } => "cancel",
            Self::End { .. } => "end",
            Self::Send { .. } => "send",
            Self::Snapshot => "snapshot",
            Self::Transcript { .. } => "transcript",
            Self::Interactions => "interactions",
            Self::InteractionDetails { .. } => "interaction_details",
            Self::ContactHistory { .. } => "contact_history",
            Self::StartVoiceConsultation { .. } => "start_voice_consultation",
            Self::AnswerVoiceConsultation { .. } => "answer_voice_consultation",
            Self::EndVoiceConsultation { .. } => "end_voice_consultation",
        }
    }
}

/// A frame sent by the hub.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ServerFrame {
    /// The `req` of the client frame this answers, when it answers one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub re: Option<u64>,
    /// The answer or event.
    #[serde(flatten)]
    pub reply: Reply,
}

impl ServerFrame {
    /// An answer to the request numbered `re`.
    pub fn answer(re: u64, reply: Reply) -> Self {
        Self {
            re: Some(re),
            reply,
        }
    }

    /// An error; `re` is the request it answers, if the hub could tell.
    pub fn error(re: Option<u64>, error: ErrorFrame) -> Self {
        Self {
            re,
            reply: Reply::Error(error),
        }
    }
}

/// What the hub sends: answers to requests, and events.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Reply {
    /// The answer to `hello`: the version both sides now speak.
    Welcome {
        /// The agreed protocol version.
        protocol: u32,
        /// The hub software's version, for the client's logs.
        hub: String,
        /// The hub's limits that a client should respect before asking.
        #[serde(default)]
        limits: HubLimits,
    },
    /// The answer to a successful `login`; the missed events follow it, in order, unless
    /// `resync_required` says that the client must ask for a `snapshot` instead.
    LoggedIn {
        /// The agent now logged in.
        agent: AgentProfile,
        /// The session token for `resume`; keep it secret.
        token: String,
        /// When the token stops working.
        expires_at: UnixMillis,
        /// The agent's latest event sequence number.
        seq: i64,
        /// The agent's presence now.
        presence: Presence,
        /// The name of the history the event numbers belong to.
        #[serde(default)]
        history: String,
        /// The hub cannot replay from the client's `last_seq` (none was given, it is beyond
        /// the hub's, it belongs to another history, or the events are no longer kept).
        #[serde(default = "resync_by_default")]
        resync_required: bool,
    },
    /// The answer to a successful `resume`; the missed events follow it, in order, unless
    /// `resync_required` says that the client must ask for a `snapshot` instead.
    Resumed {
        /// The agent now logged in.
        agent: AgentProfile,
        /// When the token stops working.
        expires_at: UnixMillis,
        /// The agent's latest event sequence number.
        seq: i64,
        /// The agent's presence now.
        presence: Presence,
        /// The name of the history the event numbers belong to.
        #[serde(default)]
        history: String,
        /// The hub cannot replay from the client's `last_seq` (it is beyond the hub's, it
        /// belongs to another history, or the events are no longer kept).
        resync_required: bool,
    },
    /// The answer to `logout`.
    LoggedOut,
    /// A request that has nothing else to say succeeded.
    Ok,
    /// The answer to `search`.
    Directory {
        /// The matching entries, best first.
        entries: Vec<DirectoryEntry>,
    },
    /// The answer to `invite`: the session as it now stands.
    Session {
        /// The session.
        session: Box<SessionInfo>,
    },
    /// The answer to `send`: the message as committed.
    Sent {
        /// The message with its place and time.
        message: Message,
    },
    /// The answer to `snapshot`.
    Snapshot {
        /// The agent's latest event sequence number; events after it follow.
        seq: i64,
        /// The agent's presence now.
        presence: Presence,
        /// Open and recently ended sessions, each with its transcript.
        sessions: Vec<SessionTranscript>,
        /// The agent's interactions that have not ended, oldest first.
        #[serde(default)]
        interactions: Vec<InteractionSummary>,
        /// The voice consultations the agent takes part in that have not ended.
        #[serde(default)]
        voice_consultations: Vec<VoiceConsultation>,
    },
    /// The answer to `interactions`.
    Interactions {
        /// The agent's interactions that have not ended, oldest first.
        interactions: Vec<InteractionSummary>,
    },
    /// The answer to `interaction_details`.
    InteractionDetails {
        /// The interaction, its contact and the contact's latest history.
        details: Box<InteractionDetails>,
    },
    /// The answer to `contact_history`.
    ContactHistory {
        /// The matching entries, newest first.
        entries: Vec<HistoryEntry>,
    },
    /// The answer to `transcript`: a page of a session's messages.
    Transcript {
        /// The session.
        session_id: String,
        /// The messages, oldest first.
        messages: Vec<Message>,
        /// Whether messages older than these exist.
        earlier: bool,
    },
    /// The answer to `start_voice_consultation`: the voice consultation as it now stands.
    VoiceConsultation {
        /// The voice consultation.
        consultation: VoiceConsultation,
    },
    /// Something happened that concerns the agent; `seq` counts the agent's events.
    Event {
        /// The agent's event sequence number, from 1, without gaps.
        seq: i64,
        /// What happened.
        #[serde(flatten)]
        event: Event,
    },
    /// An agent's presence changed (live only: not numbered, not replayed).
    Presence {
        /// The agent.
        agent_id: i64,
        /// The new presence.
        presence: Presence,
    },
    /// The presence of the agents a `follow` named, sent after its answer and before any
    /// later change of theirs (live only: not numbered, not replayed).
    Presences {
        /// Each followed agent that exists, with its presence now.
        presences: Vec<AgentPresence>,
    },
    /// A request was refused or could not be read.
    Error(ErrorFrame),
}

impl Reply {
    /// The frame's `type` on the wire.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Welcome { .. } => "welcome",
            Self::LoggedIn { .. } => "logged_in",
            Self::Resumed { .. } => "resumed",
            Self::LoggedOut => "logged_out",
            Self::Ok => "ok",
            Self::Directory { .. } => "directory",
            Self::Session { .. } => "session",
            Self::Sent { .. } => "sent",
            Self::Snapshot { .. } => "snapshot",
            Self::Interactions { .. } => "interactions",
            Self::InteractionDetails { .. } => "interaction_details",
            Self::ContactHistory { .. } => "contact_history",
            Self::Transcript { .. } => "transcript",
            Self::VoiceConsultation { .. } => "voice_consultation",
            Self::Event { .. } => "event",
            Self::Presence { .. } => "presence",
            Self::Presences { .. } => "presences",
            Self::Error(_) => "error",
        }
    }
}

fn resync_by_default() -> bool {
    true
}

/// A numbered event for an agent.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum Event {
    /// A session the agent is part of was created or changed state.
    Session {
        /// The session as it now stands.
        session: Box<SessionInfo>,
    },
    /// A message was committed to a session the agent is part of.
    Message {
        /// The message.
        message: Message,
    },
    /// An interaction assigned to the agent was delivered or changed.
    Interaction {
        /// The interaction as it now stands.
        interaction: InteractionSummary,
    },
    /// A voice consultation the agent takes part in began or changed state.
    VoiceConsultation {
        /// The voice consultation as it now stands.
        consultation: VoiceConsultation,
    },
}

impl Event {
    /// The event's name on the wire.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Session { .. } => "session",
            Self::Message { .. } => "message",
            Self::Interaction { .. } => "interaction",
            Self::VoiceConsultation { .. } => "voice_consultation",
        }
    }
}

/// Every `type` a client may send, for telling an unknown type from a malformed known one.
const REQUEST_KINDS: [&str; 22] = [
    "hello",
    "login",
    "resume",
    "logout",
    "set_presence",
    "search",
    "follow",
    "set_favorite",
    "invite",
    "accept",
    "reject",
    "cancel",
    "end",
    "send",
    "snapshot",
    "interactions",
    "interaction_details",
    "contact_history",
    "transcript",
    "start_voice_consultation",
    "answer_voice_consultation",
    "end_voice_consultation",
];

/// Reads one client frame, telling apart the ways it can be wrong.
///
/// On error the result carries the frame's `req` when one could be read, so the error can
/// answer the request it concerns.
pub fn decode_client_frame(text: &str) -> Result<ClientFrame, (Option<u64>, ErrorFrame)> {
    let detail = match serde_json::from_str::<ClientFrame>(text) {
        Ok(frame) => return Ok(frame),
        Err(e) => e,
    };
    let value = match serde_json::from_str::<serde_json::Value>(text) {
        Ok(serde_json::Value::Object(map)) => map,
        Ok(_) => {
            return Err((
                None,
                ErrorFrame::new(ErrorCode::MalformedFrame, "a frame must be a JSON object"),
            ))
        }
        Err(e) => {
            return Err((
                None,
                ErrorFrame::new(
                    ErrorCode::MalformedFrame,
                    format!("the frame is not valid JSON: {e}"),
                ),
            ))
        }
    };
    let req = value.get("req").and_then(serde_json::Value::as_u64);
    let kind = value.get("type").and_then(serde_json::Value::as_str);
    let error = match kind {
        None => ErrorFrame::new(ErrorCode::InvalidFrame, "the frame has no string `type`"),
        Some(kind) if !REQUEST_KINDS.contains(&kind) => ErrorFrame::new(
            ErrorCode::UnknownFrameType,
            format!("`{kind}` is not a frame type of this hub"),
        ),
        Some(kind) if req.is_none() => ErrorFrame::new(
            ErrorCode::InvalidFrame,
            format!("the `{kind}` frame needs a non-negative integer `req`"),
        ),
        Some(kind) => ErrorFrame::new(
            ErrorCode::InvalidFrame,
            format!("the `{kind}` frame is not valid: {detail}"),
        ),
    };
    Err((req, error))
}

#[cfg(test)]
pub(crate) mod samples {
    //! One value of every frame, shared by the round-trip tests and the documentation test.
    use super::*;
    use crate::interaction::{
        CaseDatum, ContactInfo, ContactRef, InteractionState, Media, VoiceConsultationState,
    };
    use crate::model::{EndReason, EntryKind, SessionEnd, SessionState};

    pub fn interaction(state: InteractionState) -> InteractionSummary {
        InteractionSummary {
            id: "i-42".into(),
            media: Media::Voice,
            state,
            contact: ContactRef {
                id: "c-1001".into(),
                name: "Maria Souza".into(),
            },
            subject: "Where is my order?".into(),
            case_data: vec![
                CaseDatum {
                    key: "segment".into(),
                    label: "Customer segment".into(),
                    value: "Gold".into(),
                },
                CaseDatum {
                    key: "order_id".into(),
                    label: "Order".into(),
                    value: "5521".into(),
                },
            ],
            started_at: 1_764_069_900_000,
            ended_at: None,
        }
    }

    fn history() -> HistoryEntry {
        HistoryEntry {
            id: "h-7".into(),
            at: 1_761_300_000_000,
            media: Media::Email,
            subject: "Delivery address change".into(),
            outcome: "Resolved".into(),
            notes: "Updated the address before dispatch.".into(),
        }
    }

    fn voice_consultation(state: VoiceConsultationState) -> VoiceConsultation {
        VoiceConsultation {
            id: "vc-9Qm2".into(),
            session_id: "s-1".into(),
            interaction_id: "i-42".into(),
            state,
            customer_held: state != VoiceConsultationState::Ended,
        }
    }

    pub fn ana() -> AgentProfile {
        AgentProfile {
            id: 7,
            login: "ana".into(),
            display_name: "Ana Lima".into(),
        }
    }

    fn ben() -> AgentProfile {
        AgentProfile {
            id: 8,
            login: "ben".into(),
            display_name: "Ben Okafor".into(),
        }
    }

    fn message() -> Message {
        Message {
            id: "m-1".into(),
            session_id: "s-1".into(),
            seq: 1,
            from: 7,
            text: "Can you take a look at this customer's case?".into(),
            at: 1_764_070_000_000,
        }
    }

    fn session(state: SessionState, end: Option<SessionEnd>) -> SessionInfo {
        SessionInfo {
            id: "s-1".into(),
            inviter: ana(),
            target: ben(),
            state,
            end,
            created_at: 1_764_069_990_000,
            invite_expires_at: 1_764_070_050_000,
            first_message: Some(message()),
            context: Some(ConsultContext {
                interaction_id: "i-42".into(),
            }),
        }
    }

    pub fn requests() -> Vec<Request> {
        vec![
            Request::Hello {
                protocol: 1,
                client: "huddle/0.1.0".into(),
            },
            Request::Login {
                login: "ana".into(),
                password: "s3cret-pass".into(),
                last_seq: Some(41),
                history: Some("9f2c41d07ab35e18".into()),
            },
            Request::Resume {
                token: "q7Zs0c2b8fV1yPp4".into(),
                last_seq: 41,
                history: Some("9f2c41d07ab35e18".into()),
            },
            Request::Logout,
            Request::SetPresence {
                presence: Presence::Busy,
            },
            Request::Search {
                query: "ben".into(),
                filter: DirectoryFilter::All,
                limit: Some(20),
            },
            Request::Follow { agents: vec![8, 9] },
            Request::SetFavorite {
                agent_id: 8,
                favorite: true,
            },
            Request::Invite {
                session_id: "s-1".into(),
                target: 8,
                first_message: Some(FirstMessage {
                    id: "m-1".into(),
                    text: "Can you take a look at this customer's case?".into(),
                }),
                context: Some(ConsultContext {
                    interaction_id: "i-42".into(),
                }),
            },
            Request::Accept {
                session_id: "s-1".into(),
            },
            Request::Reject {
                session_id: "s-1".into(),
            },
            Request::Cancel {
                session_id: "s-1".into(),
            },
            Request::End {
                session_id: "s-1".into(),
            },
            Request::Send {
                session_id: "s-1".into(),
                message_id: "m-2".into(),
                text: "Sure, one moment.".into(),
            },
            Request::Snapshot,
            Request::Interactions,
            Request::InteractionDetails {
                interaction_id: "i-42".into(),
            },
            Request::ContactHistory {
                interaction_id: "i-42".into(),
                query: "address".into(),
                limit: Some(20),
            },
            Request::Transcript {
                session_id: "s-1".into(),
                before_seq: Some(1200),
                limit: Some(500),
            },
            Request::StartVoiceConsultation {
                session_id: "s-1".into(),
            },
            Request::AnswerVoiceConsultation {
                consultation_id: "vc-9Qm2".into(),
                accept: true,
            },
            Request::EndVoiceConsultation {
                consultation_id: "vc-9Qm2".into(),
            },
        ]
    }

    pub fn replies() -> Vec<Reply> {
        vec![
            Reply::Welcome {
                protocol: 1,
                hub: "huddle-hub/0.1.0".into(),
                limits: HubLimits::default(),
            },
            Reply::LoggedIn {
                agent: ana(),
                token: "q7Zs0c2b8fV1yPp4".into(),
                expires_at: 1_766_662_000_000,
                seq: 43,
                presence: Presence::Ready,
                history: "9f2c41d07ab35e18".into(),
                resync_required: false,
            },
            Reply::Resumed {
                agent: ana(),
                expires_at: 1_766_662_000_000,
                seq: 43,
                presence: Presence::Ready,
                history: "9f2c41d07ab35e18".into(),
                resync_required: false,
            },
            Reply::LoggedOut,
            Reply::Ok,
            Reply::Directory {
                entries: vec![DirectoryEntry {
                    kind: EntryKind::Agent,
                    id: 8,
                    name: "Ben Okafor".into(),
                    login: "ben".into(),
                    presence: Some(Presence::Ready),
                    favorite: true,
                    recent_at: Some(1_764_069_990_000),
                }],
            },
            Reply::Session {
                session: Box::new(session(SessionState::Inviting, None)),
            },
            Reply::Sent { message: message() },
            Reply::Snapshot {
                seq: 43,
                presence: Presence::Ready,
                sessions: vec![SessionTranscript {
                    session: session(SessionState::Connected, None),
                    messages: vec![message()],
                    earlier: true,
                }],
                interactions: vec![interaction(InteractionState::Active)],
                voice_consultations: Vec::new(),
            },
            Reply::Interactions {
                interactions: vec![interaction(InteractionState::Active)],
            },
            Reply::InteractionDetails {
                details: Box::new(InteractionDetails {
                    interaction: interaction(InteractionState::Active),
                    contact: ContactInfo {
                        id: "c-1001".into(),
                        first_name: "Maria".into(),
                        last_name: "Souza".into(),
                        phones: vec!["+55 11 5555 0101".into()],
                        emails: vec!["maria.souza@example.com".into()],
                    },
                    history: vec![history()],
                }),
            },
            Reply::ContactHistory {
                entries: vec![history()],
            },
            Reply::Transcript {
                session_id: "s-1".into(),
                messages: vec![message()],
                earlier: false,
            },
            Reply::VoiceConsultation {
                consultation: voice_consultation(VoiceConsultationState::Ringing),
            },
            Reply::Event {
                seq: 42,
                event: Event::Session {
                    session: Box::new(session(
                        SessionState::Ended,
                        Some(SessionEnd {
                            reason: EndReason::Ended,
                            by: Some(8),
                            at: 1_764_070_100_000,
                        }),
                    )),
                },
            },
            Reply::Event {
                seq: 43,
                event: Event::Message { message: message() },
            },
            Reply::Event {
                seq: 44,
                event: Event::Interaction {
                    interaction: interaction(InteractionState::Held),
                },
            },
            Reply::Event {
                seq: 45,
                event: Event::VoiceConsultation {
                    consultation: voice_consultation(VoiceConsultationState::Connected),
                },
            },
            Reply::Presence {
                agent_id: 8,
                presence: Presence::Away,
            },
            Reply::Presences {
                presences: vec![
                    AgentPresence {
                        agent_id: 8,
                        presence: Presence::Ready,
                    },
                    AgentPresence {
                        agent_id: 9,
                        presence: Presence::Offline,
                    },
                ],
            },
            Reply::Error(ErrorFrame::new(
                ErrorCode::WrongPassword,
                "the password is not right",
            )),
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::samples::{replies, requests};
    use super::*;
    use serde_json::json;

    #[test]
    fn every_request_round_trips_with_its_type() {
        for (i, request) in requests().into_iter().enumerate() {
            let frame = ClientFrame {
                req: i as u64 + 1,
                request,
            };
            let wire = serde_json::to_value(&frame).unwrap();
            assert_eq!(wire["type"], frame.request.kind());
            assert_eq!(wire["req"], i + 1);
            assert_eq!(decode_client_frame(&wire.to_string()).unwrap(), frame);
        }
    }

    #[test]
    fn every_reply_round_trips_with_its_type() {
        for reply in replies() {
            for re in [None, Some(3)] {
                let frame = ServerFrame {
                    re,
                    reply: reply.clone(),
                };
                let wire = serde_json::to_value(&frame).unwrap();
                assert_eq!(wire["type"], reply.kind());
                assert_eq!(wire.get("re").and_then(|v| v.as_u64()), re);
                let back: ServerFrame = serde_json::from_value(wire).unwrap();
                assert_eq!(back, frame);
            }
        }
    }

    #[test]
    fn wire_shapes_are_as_documented() {
        let hello = ClientFrame {
            req: 1,
            request: Request::Hello {
                protocol: 1,
                client: "huddle/0.1.0".into(),
            },
        };
        assert_eq!(
            serde_json::to_value(&hello).unwrap(),
            json!({"req": 1, "type": "hello", "protocol": 1, "client": "huddle/0.1.0"})
        );
        let event = ServerFrame {
            re: None,
            reply: Reply::Presence {
                agent_id: 8,
                presence: Presence::NotReady,
            },
        };
        assert_eq!(
            serde_json::to_value(&event).unwrap(),
            json!({"type": "presence", "agent_id": 8, "presence": "not_ready"})
        );
        let error = ServerFrame::error(
            None,
            ErrorFrame::new(ErrorCode::MalformedFrame, "a frame must be a JSON object"),
        );
        assert_eq!(
            serde_json::to_value(&error).unwrap(),
            json!({"type": "error", "code": "malformed_frame",
                   "message": "a frame must be a JSON object"})
        );
    }

    #[test]
    fn optional_request_fields_may_be_left_out() {
        let frame = decode_client_frame(r#"{"req":1,"type":"search","query":"be"}"#).unwrap();
        assert_eq!(
            frame.request,
            Request::Search {
                query: "be".into(),
                filter: DirectoryFilter::All,
                limit: None,
            }
        );
        let frame = decode_client_frame(r#"{"req":2,"type":"invite","session_id":"s","target":3}"#)
            .unwrap();
        assert!(matches!(
            frame.request,
            Request::Invite {
                first_message: None,
                context: None,
                ..
            }
        ));
    }

    #[test]
    fn a_snapshot_from_a_hub_without_interactions_still_reads() {
        let frame: ServerFrame = serde_json::from_value(
            json!({"re": 8, "type": "snapshot", "seq": 3, "presence": "ready", "sessions": []}),
        )
        .unwrap();
        assert!(matches!(
            frame.reply,
            Reply::Snapshot { interactions, voice_consultations, .. }
                if interactions.is_empty() && voice_consultations.is_empty()
        ));
    }

    #[test]
    fn an_interaction_event_has_the_documented_shape() {
        let frame = ServerFrame {
            re: None,
            reply: Reply::Event {
                seq: 12,
                event: Event::Interaction {
                    interaction: super::samples::interaction(
                        crate::interaction::InteractionState::Ringing,
                    ),
                },
            },
        };
        let wire = serde_json::to_value(&frame).unwrap();
        assert_eq!(wire["type"], "event");
        assert_eq!(wire["seq"], 12);
        assert_eq!(wire["event"], "interaction");
        assert_eq!(wire["interaction"]["state"], "ringing");
        assert_eq!(wire["interaction"]["media"], "voice");
        assert_eq!(wire["interaction"]["contact"]["name"], "Maria Souza");
        assert_eq!(wire["interaction"]["case_data"][1]["label"], "Order");
        assert!(wire["interaction"]["ended_at"].is_null());
    }

    #[test]
    fn every_error_code_round_trips_by_its_name() {
        for code in ErrorCode::ALL {
            let wire = serde_json::to_value(code).unwrap();
            assert_eq!(wire, json!(code.as_str()));
            assert_eq!(serde_json::from_value::<ErrorCode>(wire).unwrap(), code);
        }
    }

    #[test]
    fn an_error_code_from_a_newer_hub_is_unrecognized_not_a_failure() {
        let frame: ServerFrame = serde_json::from_value(
            json!({"re": 3, "type": "error", "code": "quota_exceeded", "message": "slow down"}),
        )
        .unwrap();
        assert_eq!(
            frame.reply,
            Reply::Error(ErrorFrame::new(ErrorCode::Unrecognized, "slow down"))
        );
    }

    #[test]
    fn request_kinds_list_every_request() {
        let kinds: Vec<_> = requests().iter().map(Request::kind).collect();
        assert_eq!(kinds, REQUEST_KINDS);
    }

    fn code_of(text: &str) -> (Option<u64>, ErrorCode) {
        let (req, e) = decode_client_frame(text).unwrap_err();
        (req, e.code)
    }

    #[test]
    fn bad_frames_are_told_apart() {
        assert_eq!(code_of("{not json"), (None, ErrorCode::MalformedFrame));
        assert_eq!(code_of("[1,2]"), (None, ErrorCode::MalformedFrame));
        assert_eq!(code_of(r#"{"req":4}"#), (Some(4), ErrorCode::InvalidFrame));
        assert_eq!(
            code_of(r#"{"req":5,"type":"teleport"}"#),
            (Some(5), ErrorCode::UnknownFrameType)
        );
        assert_eq!(
            code_of(r#"{"req":6,"type":"login","login":"ana"}"#),
            (Some(6), ErrorCode::InvalidFrame)
        );
        assert_eq!(
            code_of(r#"{"type":"hello","protocol":1,"client":"x"}"#),
            (None, ErrorCode::InvalidFrame)
        );
    }
}

#[cfg(test)]
mod doc_tests {
    use super::samples::{replies, requests};
    use super::*;

    const DOC: &str = include_str!("../../../docs/protocol.md");

    #[test]
    fn the_protocol_page_describes_every_frame_and_error_code() {
        let mut kinds: Vec<&str> = requests().iter().map(Request::kind).collect();
        kinds.extend(replies().iter().map(Reply::kind));
        for kind in kinds {
            assert!(
                DOC.contains(&format!("### `{kind}`")),
                "docs/protocol.md has no section for `{kind}`"
            );
            assert!(
                DOC.contains(&format!("\"type\": \"{kind}\"")),
                "docs/protocol.md has no example of `{kind}`"
            );
        }
        for reply in replies() {
            if let Reply::Event { event, .. } = reply {
                let kind = event.kind();
                assert!(
                    DOC.contains(&format!("\"event\": \"{kind}\"")),
                    "docs/protocol.md has no example of the `{kind}` event"
                );
            }
        }
        for code in ErrorCode::ALL {
            if code == ErrorCode::Unrecognized {
                continue;
            }
            assert!(
                DOC.contains(&format!("| `{code}` |")),
                "docs/protocol.md does not explain the error code `{code}`"
            );
        }
    }
}
