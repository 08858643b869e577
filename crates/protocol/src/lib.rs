//! Wire types shared by the Huddle hub and its clients.
//!
//! Every frame is one JSON object in a WebSocket text message on [`WS_PATH`]. A client frame
//! carries a request number `req` chosen by the client; the hub's answer to it carries the
//! same number as `re`, so answers can be matched to requests. The protocol version is agreed
//! by the first exchange, [`request::Hello`] answered by [`answer::Welcome`].
//!
//! Each kind of request names the answer it gets ([`request::Ask`]). A hub frame that
//! carries `re` answers that request (or refuses it with an `error`); one without is
//! [`Pushed`]: an event, presence, or an error the hub could not tie to a request.
//!
//! `docs/protocol.md` describes every frame with an example; a test keeps the two in step.

pub mod answer;
mod error;
mod frames;
mod interaction;
mod model;
pub mod request;

pub use error::{ErrorCode, ErrorFrame};
pub use frames::{
    decode_client_frame, encode_refusal, AnswerBody, ClientFrame, Encoded, Event, Pushed, Request,
    ServerFrame, REQUEST_KINDS,
};
pub use interaction::{
    CaseDatum, ContactInfo, ContactRef, HistoryEntry, InteractionDetails, InteractionState,
    InteractionSummary, Media, VoiceConsultation, VoiceConsultationState,
};
pub use model::{
    AgentPresence, AgentProfile, ConsultContext, DirectoryEntry, DirectoryFilter, EndReason,
    EntryKind, FirstMessage, HubLimits, Message, Presence, SessionEnd, SessionInfo, SessionState,
    SessionTranscript, UnixMillis, SNAPSHOT_MESSAGES, TRANSCRIPT_PAGE,
};

/// Libraries that log what crosses the wire (frames, headers, statements) at their most
/// detailed levels. Huddle's programs never let them log below `info`, whatever level is
/// asked for, so that no log holds a password, a token or a message.
pub const WIRE_LOGGERS: [&str; 10] = [
    "tungstenite",
    "tokio_tungstenite",
    "hyper",
    "hyper_util",
    "h2",
    "rustls",
    "tokio_rustls",
    "axum",
    "tower",
    "sqlx",
];

/// The protocol version this build speaks.
pub const PROTOCOL_VERSION: u32 = 1;

/// The path of the hub's WebSocket endpoint.
pub const WS_PATH: &str = "/v1/ws";
