//! The one error of the services: why a request was refused or could not be carried out,
//! as a kind for programs and a message for people. Transport turns the kind into the
//! protocol's error code or the integration API's HTTP status; services know neither.

/// What a refusal is about, for the thing that is missing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Missing {
    /// An agent, by login.
    Agent,
    /// A customer contact.
    Contact,
    /// A customer interaction.
    Interaction,
    /// An IM session the agent takes part in.
    Session,
    /// A voice consultation the agent takes part in.
    Consultation,
}

impl Missing {
    /// Its name in stable codes (`unknown_agent`, …).
    pub fn name(self) -> &'static str {
        match self {
            Missing::Agent => "agent",
            Missing::Contact => "contact",
            Missing::Interaction => "interaction",
            Missing::Session => "session",
            Missing::Consultation => "consultation",
        }
    }
}

/// Why a service did not do what it was asked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A field of the request is not acceptable.
    InvalidField,
    /// A client-chosen id is not of the allowed form.
    InvalidId,
    /// A message's text is empty or holds what a message may not.
    InvalidMessage,
    /// A message's text is over the limit.
    MessageTooLong,
    /// A presence the agent may not choose (Offline).
    InvalidPresence,
    /// The agent cannot be invited (for example, oneself).
    InvalidTarget,
    /// The agent has as many open sessions as the hub allows.
    TooManySessions,
    /// The agent may receive IMs but not start them.
    StartNotPermitted,
    /// The agent may not see or consult about this interaction.
    InteractionNotPermitted,
    /// The telephony switch failed to carry out a call operation.
    SwitchFailed,
    /// What the request addresses does not exist.
    NotFound(Missing),
    /// The request refers, in what it carries, to something that does not exist.
    Dangling(Missing),
    /// The thing's state does not allow the change.
    WrongState,
    /// An id is already used for something else.
    IdConflict,
    /// The agent it names cannot sign in (disabled, or denied internal IM).
    AgentDisabled,
    /// The hub is stopping.
    Stopping,
    /// The hub failed, not the asker (logged where it happened).
    Internal,
}

/// A refusal: its kind and a message a person can read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct Refusal {
    /// What went wrong, for programs.
    pub kind: Kind,
    /// What went wrong, for people.
    pub message: String,
}

impl Refusal {
    /// A refusal of this kind.
    pub fn new(kind: Kind, message: impl Into<String>) -> Self {
        Self {
            kind,
            message: message.into(),
        }
    }

    /// A field that is not acceptable.
    pub fn invalid(message: impl Into<String>) -> Self {
        Self::new(Kind::InvalidField, message)
    }

    /// A failure of the hub, logged here.
    pub fn internal(e: impl std::fmt::Display) -> Self {
        tracing::error!(error = %e, "request failed");
        Self::unstored()
    }

    /// The change could not be stored (the failure is logged once, where it happened).
    pub fn unstored() -> Self {
        Self::new(
            Kind::Internal,
            "the hub could not store the change; try again",
        )
    }

    /// The hub is stopping.
    pub fn stopping() -> Self {
        Self::new(Kind::Stopping, "the hub is stopping; try again")
    }

    /// A login that names no agent.
    pub fn unknown_agent(login: &str) -> Self {
        Self::new(
            Kind::Dangling(Missing::Agent),
            format!("no agent has the login {login:?}"),
        )
    }
}
