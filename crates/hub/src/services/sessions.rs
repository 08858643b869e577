//! IM sessions in the database: reading them, and the changes the writer makes, each with
//! the events it owes to the participants.

use huddle_protocol::{
    AgentProfile, ConsultContext, EndReason, Event, Message, Pushed, SessionEnd, SessionInfo,
    SessionState, SessionTranscript, SNAPSHOT_MESSAGES,
};

use crate::services::error::{Kind, Missing, Refusal};
use crate::services::registry::Outgoing;
use crate::store::sql::{statement, Conn, Dialect, Store};

/// Longest client-chosen id.
pub const MAX_ID_CHARS: usize = 64;

/// Whether a client-chosen id has the allowed form.
pub fn valid_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= MAX_ID_CHARS
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// A failure of the hub in a session change, logged here.
pub fn internal(e: impl std::fmt::Display) -> Refusal {
    tracing::error!(error = %e, "database failure in a session change");
    unstored()
}

/// The answer to a change the hub could not store (the failure is logged once, where it
/// happened).
pub fn unstored() -> Refusal {
    Refusal::unstored()
}

/// The refusal of a client-chosen id of the wrong form.
pub fn invalid_id(field: &str) -> Refusal {
    Refusal::new(
        Kind::InvalidId,
        format!("{field} must be 1 to 64 characters among A-Z, a-z, 0-9, '-' and '_'"),
    )
}

/// The refusal of a change the session's state does not allow.
pub fn wrong_state(state: SessionState) -> Refusal {
    let now = match state {
        SessionState::Inviting => "still an invitation",
        SessionState::Connected => "connected",
        SessionState::Ended => "ended",
    };
    Refusal::new(Kind::WrongState, format!("the session is {now}"))
}

/// The refusal of a session that does not exist, or that the agent is not part of: the two
/// look alike, so that nobody learns of others' sessions.
pub fn unknown_session() -> Refusal {
    Refusal::new(
        Kind::NotFound(Missing::Session),
        "you have no session with this id",
    )
}

/// Checks a message's text against the limits.
pub fn check_text(text: &str, max: usize) -> Result<(), Refusal> {
    if text.trim().is_empty() {
        return Err(Refusal::new(
            Kind::InvalidMessage,
            "a message needs some text",
        ));
    }
    if text.chars().count() > max {
        return Err(Refusal::new(
            Kind::MessageTooLong,
            format!("a message may have at most {max} characters"),
        ));
    }
    // Control characters would reach the other agent's screen and notifications unseen.
    if text
        .chars()
        .any(|c| c.is_control() && c != '\n' && c != '\t')
    {
        return Err(Refusal::new(
            Kind::InvalidMessage,
            "a message must not contain control characters (line breaks and tabs are fine)",
        ));
    }
    Ok(())
}

#[derive(sqlx::FromRow)]
struct SessionRow {
    id: String,
    state: String,
    end_reason: Option<String>,
    ended_by: Option<i64>,
    ended_at: Option<i64>,
    created_at: i64,
    invite_expires_at: i64,
    interaction_id: Option<String>,
    first_message_id: Option<String>,
    inviter_id: i64,
    inviter_login: String,
    inviter_name: String,
    target_id: i64,
    target_login: String,
    target_name: String,
}

/// The columns of a [`SessionRow`], as a literal so that queries stay literal SQL.
macro_rules! session_select {
    () => {
        "SELECT s.id, s.state, s.end_reason, s.ended_by, s.ended_at, s.created_at,
        s.invite_expires_at, s.interaction_id, s.first_message_id,
        i.id AS inviter_id, i.login AS inviter_login, i.display_name AS inviter_name,
        t.id AS target_id, t.login AS target_login, t.display_name AS target_name
    FROM im_sessions s JOIN agents i ON i.id = s.inviter JOIN agents t ON t.id = s.target"
    };
}

/// A session state as stored.
pub(crate) fn parse_state(s: &str) -> SessionState {
    match s {
        "inviting" => SessionState::Inviting,
        "connected" => SessionState::Connected,
        _ => SessionState::Ended,
    }
}

fn state_name(s: SessionState) -> &'static str {
    match s {
        SessionState::Inviting => "inviting",
        SessionState::Connected => "connected",
        SessionState::Ended => "ended",
    }
}

fn reason_name(r: EndReason) -> &'static str {
    match r {
        EndReason::Rejected => "rejected",
        EndReason::Cancelled => "cancelled",
        EndReason::TimedOut => "timed_out",
        EndReason::Ended => "ended",
    }
}

fn parse_reason(r: &str) -> EndReason {
    match r {
        "rejected" => EndReason::Rejected,
        "cancelled" => EndReason::Cancelled,
        "timed_out" => EndReason::TimedOut,
        _ => EndReason::Ended,
    }
}

#[derive(sqlx::FromRow)]
struct MessageRow {
    session_id: String,
    seq: i64,
    id: String,
    sender: i64,
    text: String,
    at: i64,
}

impl From<MessageRow> for Message {
    fn from(m: MessageRow) -> Self {
        Message {
            id: m.id,
            session_id: m.session_id,
            seq: m.seq,
            from: m.sender,
            text: m.text,
            at: m.at,
        }
    }
}

/// Reads one session, or `None`.
pub async fn load(db: &mut Conn<'_>, id: &str) -> sqlx::Result<Option<SessionInfo>> {
    let row: Option<SessionRow> = db
        .optional(statement!(
            concat!(session_select!(), " WHERE s.id = $1"),
            id
        ))
        .await?;
    match row {
        Some(row) => Ok(Some(to_info(db, row).await?)),
        None => Ok(None),
    }
}

/// Reads one session, or `None`, to change it: on PostgreSQL the session's row stays
/// locked until the commit, so that two nodes changing one session at once (an accept and
/// the time-out, a message and the end) take turns and each sees what the other did. On
/// SQLite the writer holds the whole database already.
pub async fn load_to_change(db: &mut Conn<'_>, id: &str) -> sqlx::Result<Option<SessionInfo>> {
    let query = match db.dialect() {
        Dialect::Sqlite => statement!(concat!(session_select!(), " WHERE s.id = $1"), id),
        Dialect::Postgres => statement!(
            concat!(session_select!(), " WHERE s.id = $1 FOR UPDATE OF s"),
            id
        ),
    };
    match db.optional::<SessionRow>(query).await? {
        Some(row) => Ok(Some(to_info(db, row).await?)),
        None => Ok(None),
    }
}

async fn to_info(db: &mut Conn<'_>, row: SessionRow) -> sqlx::Result<SessionInfo> {
    let first_message = match &row.first_message_id {
        Some(mid) => db
            .optional::<MessageRow>(statement!(
                "SELECT session_id, seq, id, sender, text, at FROM messages
                  WHERE session_id = $1 AND id = $2",
                &row.id,
                mid,
            ))
            .await?
            .map(Message::from),
        None => None,
    };
    let state = parse_state(&row.state);
    let end = match (state, row.end_reason.as_deref(), row.ended_at) {
        (SessionState::Ended, Some(reason), Some(at)) => Some(SessionEnd {
            reason: parse_reason(reason),
            by: row.ended_by,
            at,
        }),
        _ => None,
    };
    Ok(SessionInfo {
        id: row.id,
        inviter: AgentProfile {
            id: row.inviter_id,
            login: row.inviter_login,
            display_name: row.inviter_name,
        },
        target: AgentProfile {
            id: row.target_id,
            login: row.target_login,
            display_name: row.target_name,
        },
        state,
        end,
        created_at: row.created_at,
        invite_expires_at: row.invite_expires_at,
        first_message,
        context: row
            .interaction_id
            .map(|interaction_id| ConsultContext { interaction_id }),
    })
}

/// A page of a session's messages, oldest first: the latest `limit` numbered below
/// `before` (below none: the latest), and whether older ones exist.
pub async fn page(
    db: &mut Conn<'_>,
    session_id: &str,
    before: Option<i64>,
    limit: usize,
) -> sqlx::Result<(Vec<Message>, bool)> {
    let mut rows: Vec<MessageRow> = db
        .all(statement!(
            "SELECT session_id, seq, id, sender, text, at FROM messages
              WHERE session_id = $1 AND seq < $2 ORDER BY seq DESC LIMIT $3",
            session_id,
            before.unwrap_or(i64::MAX),
            i64::try_from(limit).unwrap_or(i64::MAX).saturating_add(1),
        ))
        .await?;
    let earlier = rows.len() > limit;
    rows.truncate(limit);
    rows.reverse();
    Ok((rows.into_iter().map(Message::from).collect(), earlier))
}

/// The most ended sessions a snapshot lists (the most recently ended).
const SNAPSHOT_ENDED_SESSIONS: i64 = 100;

/// The agent's open sessions and the latest of those ended since `ended_since`, each with
/// its latest messages: a snapshot's size is bounded whatever the agent's history.
pub async fn snapshot(
    db: &mut Conn<'_>,
    agent_id: i64,
    ended_since: i64,
) -> sqlx::Result<Vec<SessionTranscript>> {
    let rows: Vec<SessionRow> = db
        .all(statement!(
            concat!(
                session_select!(),
                " WHERE (s.inviter = $1 OR s.target = $1)
                   AND (s.state <> 'ended' OR s.id IN
                         (SELECT id FROM im_sessions
                           WHERE (inviter = $1 OR target = $1) AND state = 'ended' AND ended_at >= $2
                           ORDER BY ended_at DESC LIMIT $3))
                 ORDER BY s.created_at"
            ),
            agent_id,
            ended_since,
            SNAPSHOT_ENDED_SESSIONS,
        ))
        .await?;
    let mut out = Vec::with_capacity(rows.len());
    for row in rows {
        let session = to_info(db, row).await?;
        let (messages, earlier) = page(db, &session.id, None, SNAPSHOT_MESSAGES).await?;
        out.push(SessionTranscript {
            session,
            messages,
            earlier,
        });
    }
    Ok(out)
}

/// The agent's latest event number.
pub async fn last_seq(db: &Store, agent_id: i64) -> sqlx::Result<i64> {
    db.value(statement!(
        "SELECT last_seq FROM agents WHERE id = $1",
        agent_id
    ))
    .await
}

/// How many IM sessions are open (inviting or connected) on the whole hub.
pub async fn open_count_all(db: &Store) -> sqlx::Result<i64> {
    db.value(statement!(
        "SELECT count(*) FROM im_sessions WHERE state <> 'ended'"
    ))
    .await
}

/// Open sessions an agent is part of.
pub async fn open_count(db: &mut Conn<'_>, agent_id: i64) -> sqlx::Result<i64> {
    db.value(statement!(
        "SELECT count(*) FROM im_sessions WHERE state <> 'ended' AND (inviter = $1 OR target = $1)",
        agent_id
    ))
    .await
}

/// Inserts a new session in the inviting state.
pub async fn insert(
    db: &mut Conn<'_>,
    id: &str,
    inviter: i64,
    target: i64,
    now: i64,
    expires_at: i64,
    context: Option<&ConsultContext>,
) -> sqlx::Result<()> {
    db.execute(statement!(
        "INSERT INTO im_sessions (id, inviter, target, state, created_at, invite_expires_at, interaction_id)
         VALUES ($1, $2, $3, 'inviting', $4, $5, $6)",
        id,
        inviter,
        target,
        now,
        expires_at,
        context.map(|c| c.interaction_id.as_str()),
    ))
    .await?;
    Ok(())
}

/// Marks a message as the one that came with the invitation.
pub async fn set_first_message(
    db: &mut Conn<'_>,
    session_id: &str,
    message_id: &str,
) -> sqlx::Result<()> {
    db.execute(statement!(
        "UPDATE im_sessions SET first_message_id = $1 WHERE id = $2",
        message_id,
        session_id,
    ))
    .await?;
    Ok(())
}

/// Moves a session to another state.
pub async fn set_state(
    db: &mut Conn<'_>,
    id: &str,
    state: SessionState,
    end: Option<&SessionEnd>,
) -> sqlx::Result<()> {
    db.execute(statement!(
        "UPDATE im_sessions SET state = $1, end_reason = $2, ended_by = $3, ended_at = $4
          WHERE id = $5",
        state_name(state),
        end.map(|e| reason_name(e.reason)),
        end.and_then(|e| e.by),
        end.map(|e| e.at),
        id,
    ))
    .await?;
    Ok(())
}

/// Appends a message to a session's transcript with the next number.
pub async fn append_message(
    db: &mut Conn<'_>,
    session_id: &str,
    message_id: &str,
    sender: i64,
    text: &str,
    now: i64,
) -> sqlx::Result<Message> {
    let seq: i64 = db.value(statement!(NEXT_MESSAGE_SEQ, session_id)).await?;
    db.execute(statement!(
        INSERT_MESSAGE,
        session_id,
        seq,
        message_id,
        sender,
        text,
        now
    ))
    .await?;
    Ok(Message {
        id: message_id.to_string(),
        session_id: session_id.to_string(),
        seq,
        from: sender,
        text: text.to_string(),
        at: now,
    })
}

/// Numbers an event for an agent and stores it for replay; returns the frame to deliver.
pub async fn append_event(
    db: &mut Conn<'_>,
    agent_id: i64,
    event: Event,
    now: i64,
) -> sqlx::Result<(i64, Outgoing)> {
    let seq: i64 = db.value(statement!(NEXT_EVENT_SEQ, agent_id)).await?;
    let frame = Outgoing::new(Some(seq), &Pushed::Event { seq, event });
    db.execute(statement!(INSERT_EVENT, agent_id, seq, now, &*frame.text))
        .await?;
    Ok((agent_id, frame))
}

/// Takes a session's next message number. Also the message path's (`messages`), on SQLite's
/// own API, which reads the numbered parameters in the same order.
pub(crate) const NEXT_MESSAGE_SEQ: &str =
    "UPDATE im_sessions SET last_message_seq = last_message_seq + 1 WHERE id = $1
     RETURNING last_message_seq";
/// Stores a message (see [`NEXT_MESSAGE_SEQ`]).
pub(crate) const INSERT_MESSAGE: &str =
    "INSERT INTO messages (session_id, seq, id, sender, text, at) VALUES ($1, $2, $3, $4, $5, $6)";
/// Takes an agent's next event number (see [`NEXT_MESSAGE_SEQ`]).
pub(crate) const NEXT_EVENT_SEQ: &str =
    "UPDATE agents SET last_seq = last_seq + 1 WHERE id = $1 RETURNING last_seq";
/// Stores a numbered event for replay (see [`NEXT_MESSAGE_SEQ`]).
pub(crate) const INSERT_EVENT: &str =
    "INSERT INTO events (agent_id, seq, at, body) VALUES ($1, $2, $3, $4)";

/// The events of an agent after `after`, in order, as stored frames; `None` when some of
/// them are no longer kept, or there are more than `max`.
pub async fn events_after(
    db: &Store,
    agent_id: i64,
    after: i64,
    max: u32,
) -> sqlx::Result<Option<Vec<Outgoing>>> {
    let mut pooled = db.acquire().await?;
    let mut db = pooled.conn();
    let last: i64 = db
        .value(statement!(
            "SELECT last_seq FROM agents WHERE id = $1",
            agent_id
        ))
        .await?;
    if after >= last {
        return Ok(Some(Vec::new()));
    }
    // More than `max` missed: a snapshot is cheaper for both sides than the replay.
    if last - after > i64::from(max) {
        return Ok(None);
    }
    let rows: Vec<(i64, String)> = db
        .all(statement!(
            "SELECT seq, body FROM events WHERE agent_id = $1 AND seq > $2 ORDER BY seq",
            agent_id,
            after,
        ))
        .await?;
    if rows.first().map(|r| r.0) != Some(after + 1) {
        return Ok(None);
    }
    Ok(Some(
        rows.into_iter()
            .map(|(seq, body)| Outgoing {
                seq: Some(seq),
                text: body.into(),
            })
            .collect(),
    ))
}
