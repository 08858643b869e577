//! What a committed change answers the agent who asked for it.

use huddle_protocol::{Message, SessionInfo, VoiceConsultation};

/// The answer to a change, once committed; the transport writes it as the answer its
/// request's kind gets.
#[derive(Debug)]
pub enum Committed {
    /// The session as it now stands (an invitation).
    Session(Box<SessionInfo>),
    /// The message as stored.
    Sent(Message),
    /// The voice consultation as it now stands.
    VoiceConsultation(VoiceConsultation),
    /// Nothing more to say.
    Done,
}
