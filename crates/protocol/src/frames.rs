use serde::{Deserialize, Serialize};

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
    /// Log in as an agent with a password.
    Login {
        /// The agent's login name.
        login: String,
        /// The agent's password.
        password: String,
    },
}

impl Request {
    /// The frame's `type` on the wire.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Hello { .. } => "hello",
            Self::Login { .. } => "login",
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

/// What the hub sends.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Reply {
    /// The answer to `hello`: the version both sides now speak.
    Welcome {
        /// The agreed protocol version.
        protocol: u32,
        /// The hub software's version, for the client's logs.
        hub: String,
    },
    /// The answer to a successful `login`.
    LoggedIn {
        /// The agent now logged in.
        agent: AgentProfile,
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
            Self::Error(_) => "error",
        }
    }
}

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

/// Every `type` a client may send, for telling an unknown type from a malformed known one.
const REQUEST_KINDS: [&str; 2] = ["hello", "login"];

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
mod tests {
    use super::*;
    use serde_json::json;

    fn round_trip_client(frame: ClientFrame, wire: serde_json::Value) {
        assert_eq!(serde_json::to_value(&frame).unwrap(), wire);
        assert_eq!(decode_client_frame(&wire.to_string()).unwrap(), frame);
    }

    fn round_trip_server(frame: ServerFrame, wire: serde_json::Value) {
        assert_eq!(serde_json::to_value(&frame).unwrap(), wire);
        let back: ServerFrame = serde_json::from_value(wire).unwrap();
        assert_eq!(back, frame);
    }

    #[test]
    fn hello_round_trips() {
        round_trip_client(
            ClientFrame {
                req: 1,
                request: Request::Hello {
                    protocol: 1,
                    client: "huddle/0.1.0".into(),
                },
            },
            json!({"req": 1, "type": "hello", "protocol": 1, "client": "huddle/0.1.0"}),
        );
    }

    #[test]
    fn login_round_trips() {
        round_trip_client(
            ClientFrame {
                req: 2,
                request: Request::Login {
                    login: "ana".into(),
                    password: "s3cret".into(),
                },
            },
            json!({"req": 2, "type": "login", "login": "ana", "password": "s3cret"}),
        );
    }

    #[test]
    fn welcome_logged_in_and_error_round_trip() {
        round_trip_server(
            ServerFrame::answer(
                1,
                Reply::Welcome {
                    protocol: 1,
                    hub: "huddle-hub/0.1.0".into(),
                },
            ),
            json!({"re": 1, "type": "welcome", "protocol": 1, "hub": "huddle-hub/0.1.0"}),
        );
        round_trip_server(
            ServerFrame::answer(
                2,
                Reply::LoggedIn {
                    agent: AgentProfile {
                        id: 7,
                        login: "ana".into(),
                        display_name: "Ana Lima".into(),
                    },
                },
            ),
            json!({"re": 2, "type": "logged_in",
                   "agent": {"id": 7, "login": "ana", "display_name": "Ana Lima"}}),
        );
        round_trip_server(
            ServerFrame::error(
                None,
                ErrorFrame::new(ErrorCode::MalformedFrame, "a frame must be a JSON object"),
            ),
            json!({"type": "error", "code": "malformed_frame",
                   "message": "a frame must be a JSON object"}),
        );
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
        let all = [
            Request::Hello {
                protocol: 1,
                client: String::new(),
            },
            Request::Login {
                login: String::new(),
                password: String::new(),
            },
        ];
        let kinds: Vec<_> = all.iter().map(Request::kind).collect();
        assert_eq!(kinds, REQUEST_KINDS);
        for r in all {
            assert_eq!(serde_json::to_value(&r).unwrap()["type"], r.kind());
        }
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
    use super::*;

    const DOC: &str = include_str!("../../../docs/protocol.md");

    #[test]
    fn the_protocol_page_describes_every_frame_type_and_error_code() {
        let replies = [
            Reply::Welcome {
                protocol: 1,
                hub: String::new(),
            },
            Reply::LoggedIn {
                agent: AgentProfile {
                    id: 0,
                    login: String::new(),
                    display_name: String::new(),
                },
            },
            Reply::Error(ErrorFrame::new(ErrorCode::Internal, "")),
        ];
        let kinds = REQUEST_KINDS
            .iter()
            .copied()
            .chain(replies.iter().map(Reply::kind));
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
