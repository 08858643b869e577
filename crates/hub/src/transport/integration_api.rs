//! The integration API: how the contact center's systems (routing, CRM) give the hub its
//! contacts and deliver interactions to agents, over HTTP beside the WebSocket endpoint.
//!
//! Every request carries the configured bearer token. Bodies are JSON; every refusal is a
//! JSON error with a stable code, and changes nothing. Changes go through the hub's single
//! writer, which commits them (with the events they owe agents) before the answer is sent.

use std::collections::HashSet;
use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Path, Request, State};
use axum::http::{header, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, patch, post, put};
use axum::{Json, Router};
use huddle_protocol::{CaseDatum, ContactInfo, HistoryEntry, InteractionState, Media};
use serde::de::DeserializeOwned;
use serde::Deserialize;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::services::accounts::normalize_login;
use crate::services::error::Refusal;
use crate::services::integration::{Change, Delivery};
use crate::services::sessions::valid_id;
use crate::transport::refusals;
use crate::transport::shared::Shared;

/// The largest request body accepted.
pub const MAX_BODY_BYTES: usize = 1024 * 1024;
/// The most history entries one contact upload may carry.
pub const MAX_HISTORY_ENTRIES: usize = 2000;
/// The most case-data items an interaction may carry.
pub const MAX_CASE_DATA: usize = 100;

/// A refusal of the integration API: an HTTP status, a stable code and a message.
#[derive(Debug, Clone)]
pub struct ApiError {
    /// The HTTP status.
    pub status: StatusCode,
    /// What went wrong, for programs.
    pub code: String,
    /// What went wrong, for people.
    pub message: String,
}

impl ApiError {
    /// A refusal with this status, code and message.
    pub fn new(status: StatusCode, code: &str, message: impl Into<String>) -> Self {
        Self {
            status,
            code: code.to_string(),
            message: message.into(),
        }
    }

    /// A field that is not acceptable (422).
    pub fn invalid(message: impl Into<String>) -> Self {
        Refusal::invalid(message).into()
    }
}

impl From<Refusal> for ApiError {
    fn from(refused: Refusal) -> Self {
        let (status, code) = refusals::http_status(refused.kind);
        Self {
            status,
            code,
            message: refused.message,
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = Json(serde_json::json!({
            "error": {"code": self.code, "message": self.message}
        }));
        if self.status == StatusCode::UNAUTHORIZED {
            return (self.status, [(header::WWW_AUTHENTICATE, "Bearer")], body).into_response();
        }
        (self.status, body).into_response()
    }
}

/// The integration API's routes, behind the bearer token.
pub(crate) fn routes(shared: Arc<Shared>) -> Router<Arc<Shared>> {
    Router::new()
        .route("/integration/v1/contacts/{id}", put(put_contact))
        .route("/integration/v1/contacts/{id}/history", post(add_history))
        .route("/integration/v1/interactions", post(deliver))
        .route("/integration/v1/interactions/{id}", patch(update))
        .route("/integration/v1/interactions/{id}/end", post(end))
        .route("/integration/{*rest}", any(no_such_endpoint))
        .method_not_allowed_fallback(wrong_method)
        .route_layer(middleware::from_fn_with_state(shared, authorize))
}

async fn no_such_endpoint() -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        "not_found",
        "no such endpoint; see docs/integration.md",
    )
}

async fn wrong_method() -> ApiError {
    ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
        "this endpoint does not take this method; see docs/integration.md",
    )
}

/// Lets through only requests with the configured token; the API is off without one.
async fn authorize(State(shared): State<Arc<Shared>>, request: Request, next: Next) -> Response {
    let Some(token) = &shared.config.integration_token else {
        return ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "integration_disabled",
            "the integration API is off: set integration_token in the hub's configuration",
        )
        .into_response();
    };
    let presented = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, credentials)| credentials.trim());
    // Comparing digests takes the same time whatever the lengths and wherever they differ.
    let matches = presented.is_some_and(|p| {
        let (a, b) = (Sha256::digest(p.as_bytes()), Sha256::digest(token.expose()));
        bool::from(a.as_slice().ct_eq(b.as_slice()))
    });
    if !matches {
        tracing::info!(path = %request.uri().path(), "integration request refused: no valid token");
        return ApiError::new(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "send the integration token as `Authorization: Bearer <token>`",
        )
        .into_response();
    }
    next.run(request).await
}

/// Reads a JSON body of at most [`MAX_BODY_BYTES`].
async fn read_json<T: DeserializeOwned>(body: Body) -> Result<T, ApiError> {
    let bytes = axum::body::to_bytes(body, MAX_BODY_BYTES)
        .await
        .map_err(|_| {
            ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "too_large",
                format!("the request body must be at most {MAX_BODY_BYTES} bytes"),
            )
        })?;
    serde_json::from_slice(&bytes).map_err(|e| match e.classify() {
        serde_json::error::Category::Data => {
            ApiError::invalid(format!("the body is not valid: {e}"))
        }
        _ => ApiError::new(
            StatusCode::BAD_REQUEST,
            "malformed_json",
            format!("the body is not JSON: {e}"),
        ),
    })
}

async fn apply(shared: &Shared, change: Change) -> Response {
    match shared.writer.integrate(change).await {
        Ok(done) => {
            let status = if done.created {
                StatusCode::CREATED
            } else {
                StatusCode::OK
            };
            (status, Json(done.body)).into_response()
        }
        Err(refused) => ApiError::from(refused).into_response(),
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ContactBody {
    first_name: String,
    last_name: String,
    #[serde(default)]
    phones: Vec<String>,
    #[serde(default)]
    emails: Vec<String>,
    #[serde(default)]
    history: Option<Vec<EntryBody>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct EntryBody {
    id: String,
    at: i64,
    media: Media,
    subject: String,
    #[serde(default)]
    outcome: String,
    #[serde(default)]
    notes: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DatumBody {
    key: String,
    label: String,
    value: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DeliveryBody {
    id: String,
    agent: String,
    media: Media,
    contact_id: String,
    #[serde(default)]
    subject: String,
    #[serde(default)]
    state: Option<InteractionState>,
    #[serde(default)]
    case_data: Vec<DatumBody>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct UpdateBody {
    #[serde(default)]
    state: Option<InteractionState>,
    #[serde(default)]
    case_data: Option<Vec<DatumBody>>,
}

async fn put_contact(
    State(shared): State<Arc<Shared>>,
    Path(id): Path<String>,
    body: Body,
) -> Response {
    let change = async {
        let body: ContactBody = read_json(body).await?;
        check_id("the contact id", &id)?;
        let contact = ContactInfo {
            first_name: text("first_name", body.first_name, 100, Lines::One)?,
            last_name: text("last_name", body.last_name, 100, Lines::One)?,
            phones: list("phones", body.phones, 10, 40)?,
            emails: list("emails", body.emails, 10, 254)?,
            id,
        };
        if contact.first_name.is_empty() && contact.last_name.is_empty() {
            return Err(ApiError::invalid("a contact needs a first or a last name"));
        }
        let history = match body.history {
            None => None,
            Some(entries) => {
                if entries.len() > MAX_HISTORY_ENTRIES {
                    return Err(ApiError::invalid(format!(
                        "history may have at most {MAX_HISTORY_ENTRIES} entries"
                    )));
                }
                let mut seen = HashSet::new();
                let mut checked = Vec::with_capacity(entries.len());
                for entry in entries {
                    let entry = history_entry(entry)?;
                    if !seen.insert(entry.id.clone()) {
                        return Err(ApiError::invalid(format!(
                            "the history entry id {:?} appears twice",
                            entry.id
                        )));
                    }
                    checked.push(entry);
                }
                Some(checked)
            }
        };
        Ok(Change::PutContact { contact, history })
    };
    match change.await {
        Ok(change) => apply(&shared, change).await,
        Err(refused) => refused.into_response(),
    }
}

async fn add_history(
    State(shared): State<Arc<Shared>>,
    Path(contact_id): Path<String>,
    body: Body,
) -> Response {
    let change = async {
        let entry: EntryBody = read_json(body).await?;
        check_id("the contact id", &contact_id)?;
        Ok::<_, ApiError>(Change::AddHistory {
            contact_id,
            entry: history_entry(entry)?,
        })
    };
    match change.await {
        Ok(change) => apply(&shared, change).await,
        Err(refused) => refused.into_response(),
    }
}

async fn deliver(State(shared): State<Arc<Shared>>, body: Body) -> Response {
    let change = async {
        let body: DeliveryBody = read_json(body).await?;
        check_id("id", &body.id)?;
        check_id("contact_id", &body.contact_id)?;
        let agent = normalize_login(&body.agent)
            .map_err(|_| ApiError::from(Refusal::unknown_agent(&body.agent)))?;
        let state = body.state.unwrap_or(match body.media {
            Media::Voice => InteractionState::Ringing,
            Media::Email | Media::Chat => InteractionState::Active,
        });
        if state == InteractionState::Ended {
            return Err(ApiError::invalid("a new interaction cannot start ended"));
        }
        Ok(Change::Deliver(Delivery {
            id: body.id,
            agent,
            media: body.media,
            contact_id: body.contact_id,
            subject: text("subject", body.subject, 200, Lines::One)?,
            state,
            case_data: case_data(body.case_data)?,
        }))
    };
    match change.await {
        Ok(change) => apply(&shared, change).await,
        Err(refused) => refused.into_response(),
    }
}

async fn update(State(shared): State<Arc<Shared>>, Path(id): Path<String>, body: Body) -> Response {
    let change = async {
        let body: UpdateBody = read_json(body).await?;
        check_id("the interaction id", &id)?;
        if body.state.is_none() && body.case_data.is_none() {
            return Err(ApiError::invalid(
                "say what changes: `state` and/or `case_data`",
            ));
        }
        Ok(Change::Update {
            id,
            state: body.state,
            case_data: body.case_data.map(case_data).transpose()?,
        })
    };
    match change.await {
        Ok(change) => apply(&shared, change).await,
        Err(refused) => refused.into_response(),
    }
}

async fn end(State(shared): State<Arc<Shared>>, Path(id): Path<String>) -> Response {
    if let Err(refused) = check_id("the interaction id", &id) {
        return refused.into_response();
    }
    apply(&shared, Change::End { id }).await
}

fn check_id(what: &str, id: &str) -> Result<(), ApiError> {
    if valid_id(id) {
        Ok(())
    } else {
        Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_id",
            format!("{what} must be 1 to 64 characters among A-Z, a-z, 0-9, '-' and '_'"),
        ))
    }
}

/// Whether a text may span lines.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Lines {
    One,
    Many,
}

/// Checks a text's length (in characters) and that it holds no control characters (but
/// line breaks and tabs where it may span lines); returns it trimmed.
fn text(field: &str, value: String, max: usize, lines: Lines) -> Result<String, ApiError> {
    let value = value.trim();
    let count = value.chars().count();
    if count > max {
        return Err(ApiError::invalid(format!(
            "{field} may have at most {max} characters (it has {count})"
        )));
    }
    let allowed = |c: char| lines == Lines::Many && matches!(c, '\n' | '\r' | '\t');
    if value.chars().any(|c| c.is_control() && !allowed(c)) {
        return Err(ApiError::invalid(format!(
            "{field} must not contain control characters"
        )));
    }
    Ok(value.to_string())
}

fn list(
    field: &str,
    items: Vec<String>,
    max_items: usize,
    max: usize,
) -> Result<Vec<String>, ApiError> {
    if items.len() > max_items {
        return Err(ApiError::invalid(format!(
            "{field} may have at most {max_items} items"
        )));
    }
    items
        .into_iter()
        .map(|item| {
            let item = text(field, item, max, Lines::One)?;
            if item.is_empty() {
                return Err(ApiError::invalid(format!(
                    "{field} must not hold empty items"
                )));
            }
            Ok(item)
        })
        .collect()
}

fn history_entry(entry: EntryBody) -> Result<HistoryEntry, ApiError> {
    check_id("a history entry's id", &entry.id)?;
    if entry.at <= 0 {
        return Err(ApiError::invalid(
            "a history entry's `at` is milliseconds since the Unix epoch",
        ));
    }
    let subject = text("a history entry's subject", entry.subject, 200, Lines::One)?;
    if subject.is_empty() {
        return Err(ApiError::invalid("a history entry needs a subject"));
    }
    Ok(HistoryEntry {
        id: entry.id,
        at: entry.at,
        media: entry.media,
        subject,
        outcome: text("a history entry's outcome", entry.outcome, 200, Lines::One)?,
        notes: text("a history entry's notes", entry.notes, 4000, Lines::Many)?,
    })
}

fn case_data(items: Vec<DatumBody>) -> Result<Vec<CaseDatum>, ApiError> {
    if items.len() > MAX_CASE_DATA {
        return Err(ApiError::invalid(format!(
            "case_data may have at most {MAX_CASE_DATA} items"
        )));
    }
    let mut keys = HashSet::new();
    items
        .into_iter()
        .map(|item| {
            let key = item.key.trim().to_string();
            let valid_key = !key.is_empty()
                && key.len() <= 64
                && key
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"_-.".contains(&b));
            if !valid_key {
                return Err(ApiError::invalid(format!(
                    "the case-data key {key:?} must be 1 to 64 characters among A-Z, a-z, 0-9, '_', '-' and '.'"
                )));
            }
            if !keys.insert(key.to_ascii_lowercase()) {
                return Err(ApiError::invalid(format!(
                    "the case-data key {key:?} appears twice"
                )));
            }
            let label = text("a case-data label", item.label, 100, Lines::One)?;
            if label.is_empty() {
                return Err(ApiError::invalid(format!(
                    "the case-data item {key:?} needs a label"
                )));
            }
            Ok(CaseDatum {
                label,
                value: text("a case-data value", item.value, 1000, Lines::Many)?,
                key,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn datum(key: &str, label: &str, value: &str) -> DatumBody {
        DatumBody {
            key: key.into(),
            label: label.into(),
            value: value.into(),
        }
    }

    #[test]
    fn case_data_keys_are_checked_and_unique() {
        let ok = case_data(vec![
            datum("order_id", "Order", "5521"),
            datum("seg", "Segment", "Gold"),
        ])
        .unwrap();
        assert_eq!(ok[0].key, "order_id");
        for bad in [
            vec![datum("", "Order", "1")],
            vec![datum("a b", "Order", "1")],
            vec![datum("k", "", "1")],
            vec![datum("k", "K", "1"), datum("K", "K again", "2")],
            vec![datum("k", "K\u{7}", "1")],
        ] {
            assert!(case_data(bad).is_err());
        }
    }

    #[test]
    fn texts_are_trimmed_and_limited() {
        assert_eq!(text("f", "  Ana ".into(), 10, Lines::One).unwrap(), "Ana");
        assert!(text("f", "a".repeat(11), 10, Lines::One).is_err());
        assert!(text("f", "two\nlines".into(), 10, Lines::One).is_err());
        assert!(text("f", "two\nlines".into(), 10, Lines::Many).is_ok());
    }
}
