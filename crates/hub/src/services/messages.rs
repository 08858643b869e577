//! Messages into connected sessions, the hub's busiest change, written on the writer's own
//! connection through SQLite's API. Through sqlx, each of a message's statements went to the
//! connection's worker thread and back, a hand-over that bounded the hub to a few thousand
//! messages a second; here a run of messages takes one hand-over in all. The checks and
//! answers are those of every other change (see `writer`).

use huddle_protocol::{Event, Message, Pushed, SessionState};
use rusqlite::{params, Connection, OptionalExtension};

use crate::services::committed::Committed;
use crate::services::error::{Kind, Refusal};
use crate::services::registry::Outgoing;
use crate::services::sessions::{check_text, invalid_id, unknown_session, wrong_state};
use crate::services::sessions::{parse_state, valid_id};
use crate::services::sessions::{INSERT_EVENT, INSERT_MESSAGE, NEXT_EVENT_SEQ, NEXT_MESSAGE_SEQ};
use crate::store::sql::{statement, Conn};

/// A message an agent sends into a session.
pub struct NewMessage {
    /// The sender.
    pub agent_id: i64,
    /// The session.
    pub session_id: String,
    /// The id the sender's client chose.
    pub message_id: String,
    /// The text.
    pub text: String,
}

/// What a message produced: the answer, and the events to deliver once committed.
pub(crate) type Written = (Committed, Vec<(i64, Outgoing)>);

/// Checks and stores one message inside the writer's open transaction, on SQLite's own API
/// (`apply_on` is the same on PostgreSQL). A refused one is
/// refused before anything is written, and leaves no trace; a retry of a stored message gets
/// the same answer and changes nothing. The outer error says that storing failed half-way:
/// the transaction must then be abandoned as a whole (its changes are answered with an
/// error, and their clients send them again).
pub(crate) fn apply(
    conn: &Connection,
    max_chars: usize,
    now: i64,
    m: &NewMessage,
) -> rusqlite::Result<Result<Written, Refusal>> {
    if let Err(refused) = check_request(max_chars, m) {
        return Ok(Err(refused));
    }
    let session: Option<(i64, i64, String)> = conn
        .prepare_cached(SESSION)?
        .query_row(params![m.session_id], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?))
        })
        .optional()?;
    let participants = match participants(m, session) {
        Ok(participants) => participants,
        Err(refused) => return Ok(Err(refused)),
    };
    let existing = stored(conn, m)?;
    match judge(m, participants, existing) {
        Ok(Checked::New { participants }) => write(conn, now, m, participants).map(Ok),
        Ok(Checked::Stored(message)) => Ok(Ok((Committed::Sent(message), Vec::new()))),
        Err(refused) => Ok(Err(refused)),
    }
}

/// [`apply`] on PostgreSQL, through the store interface, in four round trips to the server
/// (each one is a wait for the writer): the session, locked, with a stored message of this
/// id; the session's next number with the message's row; both participants' next event
/// numbers; both events' rows.
pub(crate) async fn apply_on(
    db: &mut Conn<'_>,
    max_chars: usize,
    now: i64,
    m: &NewMessage,
) -> sqlx::Result<Result<Written, Refusal>> {
    if let Err(refused) = check_request(max_chars, m) {
        return Ok(Err(refused));
    }
    // The session's row is locked first: a message and the session's end (or a retry of the
    // same message) on two nodes take turns.
    type Row = (
        i64,
        i64,
        String,
        Option<i64>,
        Option<i64>,
        Option<String>,
        Option<i64>,
    );
    let row: Option<Row> = db
        .optional(statement!(
            "SELECT s.inviter, s.target, s.state, m.seq, m.sender, m.text, m.at
               FROM im_sessions s LEFT JOIN messages m ON m.session_id = s.id AND m.id = $2
              WHERE s.id = $1 FOR UPDATE OF s",
            &m.session_id,
            &m.message_id,
        ))
        .await?;
    let (session, existing) = match row {
        Some((inviter, target, state, Some(seq), Some(from), Some(text), Some(at))) => (
            Some((inviter, target, state)),
            Some(message(m, seq, from, text, at)),
        ),
        Some((inviter, target, state, ..)) => (Some((inviter, target, state)), None),
        None => (None, None),
    };
    let participants = match participants(m, session) {
        Ok(participants) => participants,
        Err(refused) => return Ok(Err(refused)),
    };
    let participants = match judge(m, participants, existing) {
        Ok(Checked::New { participants }) => participants,
        Ok(Checked::Stored(message)) => return Ok(Ok((Committed::Sent(message), Vec::new()))),
        Err(refused) => return Ok(Err(refused)),
    };
    let seq: i64 = db
        .value(statement!(
            "WITH next AS (
                 UPDATE im_sessions SET last_message_seq = last_message_seq + 1 WHERE id = $1
                 RETURNING last_message_seq)
             INSERT INTO messages (session_id, seq, id, sender, text, at)
             SELECT $1, last_message_seq, $2, $3, $4, $5 FROM next
             RETURNING seq",
            &m.session_id,
            &m.message_id,
            m.agent_id,
            &m.text,
            now,
        ))
        .await?;
    let message = message(m, seq, m.agent_id, m.text.clone(), now);
    let [first, second] = participants;
    let numbered: Vec<(i64, i64)> = db
        .all(statement!(
            "UPDATE agents SET last_seq = last_seq + 1 WHERE id IN ($1, $2)
             RETURNING id, last_seq",
            first,
            second,
        ))
        .await?;
    let mut events = Vec::with_capacity(2);
    for agent_id in participants {
        let seq = numbered
            .iter()
            .find(|(id, _)| *id == agent_id)
            .map(|(_, seq)| *seq)
            .ok_or_else(|| sqlx::Error::RowNotFound)?;
        let event = Event::Message {
            message: message.clone(),
        };
        let frame = Outgoing::new(Some(seq), &Pushed::Event { seq, event });
        events.push((agent_id, frame));
    }
    let [(a, fa), (b, fb)] = [&events[0], &events[1]];
    db.execute(statement!(
        "INSERT INTO events (agent_id, seq, at, body) VALUES ($1, $2, $3, $4), ($5, $6, $3, $7)",
        *a,
        fa.seq,
        now,
        &*fa.text,
        *b,
        fb.seq,
        &*fb.text,
    ))
    .await?;
    Ok(Ok((Committed::Sent(message), events)))
}

/// A session's participants and state.
const SESSION: &str = "SELECT inviter, target, state FROM im_sessions WHERE id = $1";
/// A stored message, by its session and id.
const STORED: &str = "SELECT seq, sender, text, at FROM messages WHERE session_id = $1 AND id = $2";

/// What the checks found.
enum Checked {
    /// A new message, into the session of these two agents.
    New { participants: [i64; 2] },
    /// A retry of this stored message.
    Stored(Message),
}

/// What a message must be, before the store is asked anything. Checking first spares each
/// message a savepoint, whose journal of the pages it changes cost more than the writes
/// themselves.
fn check_request(max_chars: usize, m: &NewMessage) -> Result<(), Refusal> {
    if !valid_id(&m.message_id) {
        return Err(invalid_id("message_id"));
    }
    check_text(&m.text, max_chars)?;
    if !valid_id(&m.session_id) {
        return Err(invalid_id("session_id"));
    }
    Ok(())
}

/// The session's participants and state, if the sender is one of them.
fn participants(
    m: &NewMessage,
    session: Option<(i64, i64, String)>,
) -> Result<([i64; 2], SessionState), Refusal> {
    let Some((inviter, target, state)) = session else {
        return Err(unknown_session());
    };
    if m.agent_id != inviter && m.agent_id != target {
        return Err(unknown_session());
    }
    Ok(([inviter, target], parse_state(&state)))
}

/// A new message into a connected session, or a retry of one stored (whatever the session's
/// state now).
fn judge(
    m: &NewMessage,
    (participants, state): ([i64; 2], SessionState),
    existing: Option<Message>,
) -> Result<Checked, Refusal> {
    if let Some(existing) = existing {
        if existing.text == m.text && existing.from == m.agent_id {
            return Ok(Checked::Stored(existing));
        }
        return Err(Refusal::new(
            Kind::IdConflict,
            "this message id is already used for another message",
        ));
    }
    if state != SessionState::Connected {
        return Err(wrong_state(state));
    }
    Ok(Checked::New { participants })
}

fn message(m: &NewMessage, seq: i64, from: i64, text: String, at: i64) -> Message {
    Message {
        id: m.message_id.clone(),
        session_id: m.session_id.clone(),
        seq,
        from,
        text,
        at,
    }
}

fn stored(conn: &Connection, m: &NewMessage) -> rusqlite::Result<Option<Message>> {
    conn.prepare_cached(STORED)?
        .query_row(params![m.session_id, m.message_id], |r| {
            Ok(message(m, r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
        })
        .optional()
}

/// Appends the message with the session's next number, and numbers an event for each
/// participant, stored for replay.
fn write(
    conn: &Connection,
    now: i64,
    m: &NewMessage,
    participants: [i64; 2],
) -> rusqlite::Result<Written> {
    let seq: i64 = conn
        .prepare_cached(NEXT_MESSAGE_SEQ)?
        .query_row(params![m.session_id], |r| r.get(0))?;
    conn.prepare_cached(INSERT_MESSAGE)?.execute(params![
        m.session_id,
        seq,
        m.message_id,
        m.agent_id,
        m.text,
        now
    ])?;
    let message = message(m, seq, m.agent_id, m.text.clone(), now);
    let mut events = Vec::with_capacity(2);
    for agent_id in participants {
        let seq: i64 = conn
            .prepare_cached(NEXT_EVENT_SEQ)?
            .query_row(params![agent_id], |r| r.get(0))?;
        let frame = Outgoing::new(
            Some(seq),
            &Pushed::Event {
                seq,
                event: Event::Message {
                    message: message.clone(),
                },
            },
        );
        conn.prepare_cached(INSERT_EVENT)?
            .execute(params![agent_id, seq, now, &*frame.text])?;
        events.push((agent_id, frame));
    }
    Ok((Committed::Sent(message), events))
}
