//! The services' refusals as each side of the hub says them: an `error` frame with the
//! protocol's code to an agent's connection, an HTTP status and a stable code to the
//! integration API.

use axum::http::StatusCode;
use huddle_protocol::{ErrorCode, ErrorFrame};

use crate::services::error::{Kind, Missing, Refusal};

/// The refusal as an agent's connection answers it.
pub fn error_frame(refused: Refusal) -> ErrorFrame {
    let code = match refused.kind {
        Kind::InvalidField => ErrorCode::InvalidFrame,
        Kind::InvalidId => ErrorCode::InvalidId,
        Kind::InvalidMessage => ErrorCode::InvalidMessage,
        Kind::MessageTooLong => ErrorCode::MessageTooLong,
        Kind::InvalidPresence => ErrorCode::InvalidPresence,
        Kind::InvalidTarget => ErrorCode::InvalidTarget,
        Kind::TooManySessions => ErrorCode::TooManySessions,
        Kind::StartNotPermitted => ErrorCode::StartNotPermitted,
        Kind::InteractionNotPermitted => ErrorCode::InteractionNotPermitted,
        Kind::SwitchFailed => ErrorCode::TelephonyFailed,
        Kind::NotFound(what) | Kind::Dangling(what) => match what {
            // An agent who cannot be found is one who cannot receive IMs.
            Missing::Agent => ErrorCode::UnknownTarget,
            Missing::Session => ErrorCode::UnknownSession,
            Missing::Interaction => ErrorCode::UnknownInteraction,
            Missing::Consultation => ErrorCode::UnknownConsultation,
            // Agents never address contacts by id.
            Missing::Contact => ErrorCode::UnknownInteraction,
        },
        Kind::WrongState => ErrorCode::WrongState,
        Kind::IdConflict => ErrorCode::IdConflict,
        Kind::AgentDisabled => ErrorCode::AgentDisabled,
        Kind::Stopping | Kind::Internal => ErrorCode::Internal,
    };
    ErrorFrame::new(code, refused.message)
}

/// The HTTP status and stable code of a refusal of the integration API.
pub fn http_status(kind: Kind) -> (StatusCode, String) {
    let unprocessable = |code: &str| (StatusCode::UNPROCESSABLE_ENTITY, code.to_string());
    match kind {
        Kind::InvalidField => unprocessable("invalid_field"),
        Kind::InvalidId => unprocessable("invalid_id"),
        Kind::InvalidMessage | Kind::MessageTooLong | Kind::InvalidPresence => {
            unprocessable("invalid_field")
        }
        Kind::InvalidTarget => unprocessable("invalid_target"),
        Kind::AgentDisabled => unprocessable("agent_disabled"),
        Kind::NotFound(what) => (StatusCode::NOT_FOUND, format!("unknown_{}", what.name())),
        Kind::Dangling(what) => unprocessable(&format!("unknown_{}", what.name())),
        Kind::WrongState => (StatusCode::CONFLICT, "wrong_state".into()),
        Kind::IdConflict => (StatusCode::CONFLICT, "id_conflict".into()),
        Kind::TooManySessions => (StatusCode::CONFLICT, "too_many_sessions".into()),
        Kind::StartNotPermitted | Kind::InteractionNotPermitted => {
            (StatusCode::FORBIDDEN, "not_permitted".into())
        }
        Kind::SwitchFailed => (StatusCode::BAD_GATEWAY, "telephony_failed".into()),
        Kind::Stopping => (StatusCode::SERVICE_UNAVAILABLE, "stopping".into()),
        Kind::Internal => (StatusCode::INTERNAL_SERVER_ERROR, "internal".into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_integration_keeps_its_documented_codes() {
        let cases = [
            (Kind::InvalidField, 422, "invalid_field"),
            (
                Kind::NotFound(Missing::Interaction),
                404,
                "unknown_interaction",
            ),
            (Kind::NotFound(Missing::Contact), 404, "unknown_contact"),
            (Kind::Dangling(Missing::Contact), 422, "unknown_contact"),
            (Kind::Dangling(Missing::Agent), 422, "unknown_agent"),
            (Kind::WrongState, 409, "wrong_state"),
            (Kind::IdConflict, 409, "id_conflict"),
            (Kind::AgentDisabled, 422, "agent_disabled"),
            (Kind::Stopping, 503, "stopping"),
            (Kind::Internal, 500, "internal"),
        ];
        for (kind, status, code) in cases {
            assert_eq!(
                http_status(kind),
                (StatusCode::from_u16(status).unwrap(), code.into())
            );
        }
    }

    #[test]
    fn agents_get_the_protocols_codes() {
        let frame = |kind| error_frame(Refusal::new(kind, "m")).code;
        assert_eq!(
            frame(Kind::NotFound(Missing::Session)),
            ErrorCode::UnknownSession
        );
        assert_eq!(
            frame(Kind::NotFound(Missing::Agent)),
            ErrorCode::UnknownTarget
        );
        assert_eq!(frame(Kind::SwitchFailed), ErrorCode::TelephonyFailed);
        assert_eq!(frame(Kind::Internal), ErrorCode::Internal);
    }
}
