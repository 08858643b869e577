use serde::{Deserialize, Serialize};

use crate::answer::Answer;
use crate::interaction::{InteractionSummary, VoiceConsultation};
use crate::model::{AgentPresence, Message, Presence, SessionInfo};
use crate::request;
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

/// Declares the requests: the enum of them all, and each one's `type` on the wire.
macro_rules! requests {
    ($($request:ident => $kind:literal;)*) => {
        /// What a client can ask of the hub: one of the kinds in [`request`], each of which
        /// names its answer.
        #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
        #[serde(tag = "type", rename_all = "snake_case")]
        pub enum Request {
            $(
                #[doc = concat!("See [`request::", stringify!($request), "`].")]
                $request(request::$request),
            )*
        }

        impl Request {
            /// The frame's `type` on the wire.
            pub fn kind(&self) -> &'static str {
                match self {
                    $(Self::$request(_) => $kind,)*
                }
            }

            /// The `type` of the answer this kind of request gets (or an `error`).
            pub fn answer_kind(&self) -> &'static str {
                match self {
                    $(Self::$request(_) => <<request::$request as request::Ask>::Answer as Answer>::KIND,)*
                }
            }
        }

        /// Every `type` a client may send, for telling an unknown type from a malformed
        /// known one.
        pub const REQUEST_KINDS: &[&str] = &[$($kind),*];
    };
}

requests! {
    Hello => "hello";
    Login => "login";
    Resume => "resume";
    Logout => "logout";
    SetPresence => "set_presence";
    Search => "search";
    Follow => "follow";
    SetFavorite => "set_favorite";
    Invite => "invite";
    Accept => "accept";
    Reject => "reject";
    Cancel => "cancel";
    End => "end";
    Send => "send";
    Snapshot => "snapshot";
    Transcript => "transcript";
    Interactions => "interactions";
    InteractionDetails => "interaction_details";
    ContactHistory => "contact_history";
    StartVoiceConsultation => "start_voice_consultation";
    AnswerVoiceConsultation => "answer_voice_consultation";
    EndVoiceConsultation => "end_voice_consultation";
}

/// What the hub sends without being asked: numbered events, presence, and errors it could
/// not tie to a request. Such a frame has no `re`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Pushed {
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
    /// A frame the hub could not read well enough to tell which request it was.
    Error(ErrorFrame),
}

impl Pushed {
    /// Every `type` the hub pushes.
    pub const KINDS: [&'static str; 4] = ["event", "presence", "presences", "error"];

    /// The frame's `type` on the wire.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Event { .. } => "event",
            Self::Presence { .. } => "presence",
            Self::Presences { .. } => "presences",
            Self::Error(_) => "error",
        }
    }

    /// The frame's text.
    pub fn encode(&self) -> String {
        // Serializing these plain data types cannot fail.
        serde_json::to_string(self).unwrap_or_default()
    }
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

/// An answer of any kind, serialized, waiting for the number of the request it answers: the
/// hub holds answers of different kinds in one queue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Encoded(String);

impl Encoded {
    /// Serializes an answer.
    pub fn new<A: Answer>(answer: &A) -> Self {
        #[derive(Serialize)]
        struct Tagged<'a, A> {
            #[serde(rename = "type")]
            kind: &'static str,
            #[serde(flatten)]
            answer: &'a A,
        }
        let tagged = Tagged {
            kind: A::KIND,
            answer,
        };
        // Serializing these plain data types cannot fail; the fallback is still an object.
        Self(
            serde_json::to_string(&tagged)
                .unwrap_or_else(|_| format!("{{\"type\":\"{}\"}}", A::KIND)),
        )
    }

    /// The frame that answers request `re`.
    pub fn frame(&self, re: u64) -> String {
        // The answer is an object with at least its `type`: `re` goes first inside it.
        format!(
            "{{\"re\":{re},{}",
            self.0.strip_prefix('{').unwrap_or(&self.0)
        )
    }
}

/// The frame that refuses request `re`, or that reports a frame the hub could not tie to a
/// request (`re` none).
pub fn encode_refusal(re: Option<u64>, error: &ErrorFrame) -> String {
    match re {
        Some(re) => Encoded(Pushed::Error(error.clone()).encode()).frame(re),
        None => Pushed::Error(error.clone()).encode(),
    }
}

/// A frame from the hub, told apart once, by whether it carries the `re` of a request.
#[derive(Debug, Clone, PartialEq)]
pub enum ServerFrame {
    /// The answer to the request numbered `re`, or its refusal.
    Answer {
        /// The request's number.
        re: u64,
        /// The answer, read as its request expects ([`AnswerBody::read`]), or the refusal.
        answer: Result<AnswerBody, ErrorFrame>,
    },
    /// Something the hub sent unasked.
    Pushed(Pushed),
}

impl ServerFrame {
    /// Reads a frame's text.
    pub fn decode(text: &str) -> serde_json::Result<Self> {
        #[derive(Deserialize)]
        struct Head {
            #[serde(default)]
            re: Option<u64>,
            #[serde(rename = "type")]
            kind: String,
        }
        let head: Head = serde_json::from_str(text)?;
        let Some(re) = head.re else {
            return Ok(Self::Pushed(serde_json::from_str(text)?));
        };
        let answer = if head.kind == "error" {
            Err(serde_json::from_str(text)?)
        } else {
            // Read as the answer its request expects, which only the asker knows.
            Ok(AnswerBody {
                kind: head.kind,
                text: text.to_string(),
            })
        };
        Ok(Self::Answer { re, answer })
    }
}

/// An answer as it came, to be read as the answer its request expects.
#[derive(Debug, Clone, PartialEq)]
pub struct AnswerBody {
    kind: String,
    text: String,
}

impl AnswerBody {
    /// The answer's `type`.
    pub fn kind(&self) -> &str {
        &self.kind
    }

    /// Reads the answer as an `A`; an answer of another kind, or one that does not read,
    /// says what came instead.
    pub fn read<A: Answer>(self) -> Result<A, String> {
        if self.kind != A::KIND {
            return Err(format!("expected `{}`, got `{}`", A::KIND, self.kind));
        }
        serde_json::from_str(&self.text)
            .map_err(|e| format!("the `{}` answer does not read: {e}", A::KIND))
    }
}

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
    use crate::answer;
    use crate::interaction::{
        CaseDatum, ContactInfo, ContactRef, InteractionState, Media, VoiceConsultationState,
    };
    use crate::interaction::{HistoryEntry, InteractionDetails};
    use crate::model::{
        AgentProfile, ConsultContext, DirectoryEntry, DirectoryFilter, FirstMessage, HubLimits,
        SessionTranscript,
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
            request::Hello {
                protocol: 1,
                client: "huddle/0.1.0".into(),
            }
            .into(),
            request::Login {
                login: "ana".into(),
                password: "s3cret-pass".into(),
                last_seq: Some(41),
                history: Some("9f2c41d07ab35e18".into()),
            }
            .into(),
            request::Resume {
                token: "q7Zs0c2b8fV1yPp4".into(),
                last_seq: 41,
                history: Some("9f2c41d07ab35e18".into()),
            }
            .into(),
            request::Logout {}.into(),
            request::SetPresence {
                presence: Presence::Busy,
            }
            .into(),
            request::Search {
                query: "ben".into(),
                filter: DirectoryFilter::All,
                limit: Some(20),
            }
            .into(),
            request::Follow { agents: vec![8, 9] }.into(),
            request::SetFavorite {
                agent_id: 8,
                favorite: true,
            }
            .into(),
            request::Invite {
                session_id: "s-1".into(),
                target: 8,
                first_message: Some(FirstMessage {
                    id: "m-1".into(),
                    text: "Can you take a look at this customer's case?".into(),
                }),
                context: Some(ConsultContext {
                    interaction_id: "i-42".into(),
                }),
            }
            .into(),
            request::Accept {
                session_id: "s-1".into(),
            }
            .into(),
            request::Reject {
                session_id: "s-1".into(),
            }
            .into(),
            request::Cancel {
                session_id: "s-1".into(),
            }
            .into(),
            request::End {
                session_id: "s-1".into(),
            }
            .into(),
            request::Send {
                session_id: "s-1".into(),
                message_id: "m-2".into(),
                text: "Sure, one moment.".into(),
            }
            .into(),
            request::Snapshot {}.into(),
            request::Transcript {
                session_id: "s-1".into(),
                before_seq: Some(1200),
                limit: Some(500),
            }
            .into(),
            request::Interactions {}.into(),
            request::InteractionDetails {
                interaction_id: "i-42".into(),
            }
            .into(),
            request::ContactHistory {
                interaction_id: "i-42".into(),
                query: "address".into(),
                limit: Some(20),
            }
            .into(),
            request::StartVoiceConsultation {
                session_id: "s-1".into(),
            }
            .into(),
            request::AnswerVoiceConsultation {
                consultation_id: "vc-9Qm2".into(),
                accept: true,
            }
            .into(),
            request::EndVoiceConsultation {
                consultation_id: "vc-9Qm2".into(),
            }
            .into(),
        ]
    }

    /// One answer, as the hub writes it, and a check that it reads back the same.
    pub struct AnswerSample {
        pub kind: &'static str,
        pub encoded: Encoded,
        pub reads_back: Box<dyn Fn(AnswerBody) -> bool>,
    }

    fn one<A: Answer + PartialEq + Clone + 'static>(answer: A) -> AnswerSample {
        AnswerSample {
            kind: A::KIND,
            encoded: Encoded::new(&answer),
            reads_back: Box::new(move |body| body.read::<A>().ok().as_ref() == Some(&answer)),
        }
    }

    pub fn answers() -> Vec<AnswerSample> {
        vec![
            one(answer::Welcome {
                protocol: 1,
                hub: "huddle-hub/0.1.0".into(),
                limits: HubLimits::default(),
            }),
            one(answer::LoggedIn {
                agent: ana(),
                token: "q7Zs0c2b8fV1yPp4".into(),
                expires_at: 1_766_662_000_000,
                seq: 43,
                presence: Presence::Ready,
                history: "9f2c41d07ab35e18".into(),
                resync_required: false,
            }),
            one(answer::Resumed {
                agent: ana(),
                expires_at: 1_766_662_000_000,
                seq: 43,
                presence: Presence::Ready,
                history: "9f2c41d07ab35e18".into(),
                resync_required: false,
            }),
            one(answer::LoggedOut {}),
            one(answer::Done {}),
            one(answer::Directory {
                entries: vec![DirectoryEntry {
                    kind: EntryKind::Agent,
                    id: 8,
                    name: "Ben Okafor".into(),
                    login: "ben".into(),
                    presence: Some(Presence::Ready),
                    favorite: true,
                    recent_at: Some(1_764_069_990_000),
                }],
            }),
            one(answer::Session {
                session: Box::new(session(SessionState::Inviting, None)),
            }),
            one(answer::Sent { message: message() }),
            one(answer::Snapshot {
                seq: 43,
                presence: Presence::Ready,
                sessions: vec![SessionTranscript {
                    session: session(SessionState::Connected, None),
                    messages: vec![message()],
                    earlier: true,
                }],
                interactions: vec![interaction(InteractionState::Active)],
                voice_consultations: Vec::new(),
            }),
            one(answer::Interactions {
                interactions: vec![interaction(InteractionState::Active)],
            }),
            one(answer::InteractionDetails {
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
            }),
            one(answer::ContactHistory {
                entries: vec![history()],
            }),
            one(answer::Transcript {
                session_id: "s-1".into(),
                messages: vec![message()],
                earlier: false,
            }),
            one(answer::VoiceConsultation {
                consultation: voice_consultation(VoiceConsultationState::Ringing),
            }),
        ]
    }

    pub fn pushed() -> Vec<Pushed> {
        vec![
            Pushed::Event {
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
            Pushed::Event {
                seq: 43,
                event: Event::Message { message: message() },
            },
            Pushed::Event {
                seq: 44,
                event: Event::Interaction {
                    interaction: interaction(InteractionState::Held),
                },
            },
            Pushed::Event {
                seq: 45,
                event: Event::VoiceConsultation {
                    consultation: voice_consultation(VoiceConsultationState::Connected),
                },
            },
            Pushed::Presence {
                agent_id: 8,
                presence: Presence::Away,
            },
            Pushed::Presences {
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
            Pushed::Error(ErrorFrame::new(
                ErrorCode::FrameTooLarge,
                "frames may have at most 65536 bytes",
            )),
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::samples::{answers, pushed, requests};
    use super::*;
    use crate::answer;
    use crate::model::DirectoryFilter;
    use crate::request::Ask;
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
    fn every_answer_round_trips_with_its_type_and_number() {
        let samples = answers();
        assert_eq!(
            samples.iter().map(|s| s.kind).collect::<Vec<_>>(),
            answer::KINDS
        );
        for sample in samples {
            let text = sample.encoded.frame(3);
            let wire: serde_json::Value = serde_json::from_str(&text).unwrap();
            assert_eq!(wire["type"], sample.kind, "{text}");
            assert_eq!(wire["re"], 3, "{text}");
            let Ok(ServerFrame::Answer {
                re: 3,
                answer: Ok(body),
            }) = ServerFrame::decode(&text)
            else {
                panic!("{text} is not read as an answer");
            };
            assert_eq!(body.kind(), sample.kind);
            assert!((sample.reads_back)(body), "{text} does not read back");
        }
    }

    #[test]
    fn an_answer_of_another_kind_is_not_read_as_the_one_expected() {
        let text = Encoded::new(&answer::Done {}).frame(9);
        let Ok(ServerFrame::Answer {
            answer: Ok(body), ..
        }) = ServerFrame::decode(&text)
        else {
            panic!("{text} is not read as an answer");
        };
        let read = body.read::<<request::Send as Ask>::Answer>();
        assert_eq!(read.unwrap_err(), "expected `sent`, got `ok`");
    }

    #[test]
    fn every_pushed_frame_round_trips_without_a_number() {
        let frames = pushed();
        let mut kinds: Vec<_> = frames.iter().map(Pushed::kind).collect();
        kinds.dedup();
        assert_eq!(kinds, Pushed::KINDS);
        for frame in frames {
            let text = frame.encode();
            let wire: serde_json::Value = serde_json::from_str(&text).unwrap();
            assert_eq!(wire["type"], frame.kind());
            assert!(wire.get("re").is_none(), "{text}");
            assert_eq!(
                ServerFrame::decode(&text).unwrap(),
                ServerFrame::Pushed(frame)
            );
        }
    }

    #[test]
    fn a_refusal_answers_its_request_and_an_untied_error_is_pushed() {
        let error = ErrorFrame::new(ErrorCode::WrongPassword, "the password is not right");
        let text = encode_refusal(Some(4), &error);
        assert_eq!(
            serde_json::from_str::<serde_json::Value>(&text).unwrap(),
            json!({"re": 4, "type": "error", "code": "wrong_password",
                   "message": "the password is not right"})
        );
        assert_eq!(
            ServerFrame::decode(&text).unwrap(),
            ServerFrame::Answer {
                re: 4,
                answer: Err(error.clone())
            }
        );
        assert_eq!(
            ServerFrame::decode(&encode_refusal(None, &error)).unwrap(),
            ServerFrame::Pushed(Pushed::Error(error))
        );
    }

    #[test]
    fn wire_shapes_are_as_documented() {
        let hello = ClientFrame {
            req: 1,
            request: request::Hello {
                protocol: 1,
                client: "huddle/0.1.0".into(),
            }
            .into(),
        };
        assert_eq!(
            serde_json::to_value(&hello).unwrap(),
            json!({"req": 1, "type": "hello", "protocol": 1, "client": "huddle/0.1.0"})
        );
        let logout = ClientFrame {
            req: 2,
            request: request::Logout {}.into(),
        };
        assert_eq!(
            serde_json::to_value(&logout).unwrap(),
            json!({"req": 2, "type": "logout"})
        );
        assert_eq!(
            Encoded::new(&answer::Done {}).frame(2),
            r#"{"re":2,"type":"ok"}"#
        );
        let event = Pushed::Presence {
            agent_id: 8,
            presence: Presence::NotReady,
        };
        assert_eq!(
            serde_json::to_value(&event).unwrap(),
            json!({"type": "presence", "agent_id": 8, "presence": "not_ready"})
        );
        let error = Pushed::Error(ErrorFrame::new(
            ErrorCode::MalformedFrame,
            "a frame must be a JSON object",
        ));
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
            Request::Search(request::Search {
                query: "be".into(),
                filter: DirectoryFilter::All,
                limit: None,
            })
        );
        let frame = decode_client_frame(r#"{"req":2,"type":"invite","session_id":"s","target":3}"#)
            .unwrap();
        assert!(matches!(
            frame.request,
            Request::Invite(request::Invite {
                first_message: None,
                context: None,
                ..
            })
        ));
    }

    #[test]
    fn a_snapshot_from_a_hub_without_interactions_still_reads() {
        let text =
            r#"{"re": 8, "type": "snapshot", "seq": 3, "presence": "ready", "sessions": []}"#;
        let Ok(ServerFrame::Answer {
            answer: Ok(body), ..
        }) = ServerFrame::decode(text)
        else {
            panic!("not an answer");
        };
        let snapshot = body.read::<answer::Snapshot>().unwrap();
        assert!(snapshot.interactions.is_empty() && snapshot.voice_consultations.is_empty());
    }

    #[test]
    fn an_interaction_event_has_the_documented_shape() {
        let frame = Pushed::Event {
            seq: 12,
            event: Event::Interaction {
                interaction: super::samples::interaction(
                    crate::interaction::InteractionState::Ringing,
                ),
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
        let frame = ServerFrame::decode(
            r#"{"re": 3, "type": "error", "code": "quota_exceeded", "message": "slow down"}"#,
        )
        .unwrap();
        assert_eq!(
            frame,
            ServerFrame::Answer {
                re: 3,
                answer: Err(ErrorFrame::new(ErrorCode::Unrecognized, "slow down"))
            }
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
    use super::samples::pushed;
    use super::*;

    const DOC: &str = include_str!("../../../docs/protocol.md");

    #[test]
    fn the_protocol_page_describes_every_frame_and_error_code() {
        let kinds = REQUEST_KINDS
            .iter()
            .chain(crate::answer::KINDS)
            .chain(&Pushed::KINDS);
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
        for request in super::samples::requests() {
            let row = format!("| `{}` | `{}` |", request.kind(), request.answer_kind());
            assert!(
                DOC.contains(&row),
                "docs/protocol.md's table of answers has no row {row}"
            );
        }
        for frame in pushed() {
            if let Pushed::Event { event, .. } = frame {
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
