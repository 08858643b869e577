//! The agent's local cache: sessions and transcripts survive restarts and show without the
//! hub, messages typed while offline wait in an outbox, and every cached text is searchable.
//!
//! One SQLite database per hub and agent (see [`cache_path`]), in WAL mode.

use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;

use huddle_protocol::{AgentProfile, Message, SessionInfo, SessionState, SessionTranscript};

use crate::private_files;
use serde::Serialize;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::SqlitePool;

/// Why the cache failed.
#[derive(Debug, thiserror::Error)]
pub enum CacheError {
    /// The database failed.
    #[error("the local cache failed: {0}")]
    Database(#[from] sqlx::Error),
    /// The schema could not be brought up to date.
    #[error("the local cache could not be upgraded: {0}")]
    Migration(#[from] sqlx::migrate::MigrateError),
    /// A stored session could not be read back.
    #[error("the local cache holds an unreadable session: {0}")]
    Corrupt(#[from] serde_json::Error),
    /// The cache's folder or file could not be created or kept private.
    #[error("cannot prepare the cache at {path}: {source}")]
    Folder {
        /// The folder or file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
}

/// Where a message stands on its way to the hub.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum Delivery {
    /// In the outbox, waiting for a connection.
    Pending,
    /// Committed by the hub.
    Sent,
    /// Refused by the hub; it will not be sent again.
    Failed,
}

impl Delivery {
    fn parse(s: &str) -> Self {
        match s {
            "pending" => Self::Pending,
            "failed" => Self::Failed,
            _ => Self::Sent,
        }
    }
}

/// A message as the cache holds it, and as the windows show it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct CachedMessage {
    /// The session.
    pub session_id: String,
    /// The client-chosen id.
    pub id: String,
    /// The hub's number, once sent.
    pub seq: Option<i64>,
    /// The sender's agent id.
    pub from: i64,
    /// The text.
    pub text: String,
    /// The hub's time once sent; the local time while pending.
    pub at: i64,
    /// Where it stands.
    pub delivery: Delivery,
    /// Why the hub refused it, if it did.
    pub failure: Option<String>,
}

/// A piece of a search result's snippet.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct SnippetPart {
    /// The text.
    pub text: String,
    /// Whether it matches the query.
    pub hit: bool,
}

/// A message found by a search.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SearchHit {
    /// The session it belongs to.
    pub session_id: String,
    /// The message.
    pub message_id: String,
    /// The hub's number of the message (`None` while it waits in the outbox).
    pub seq: Option<i64>,
    /// The sender's agent id.
    pub from: i64,
    /// When it was sent (the hub's time once sent).
    pub at: i64,
    /// A short extract around the match.
    pub snippet: Vec<SnippetPart>,
}

/// The database file for an agent on a hub, under `data_dir`.
pub fn cache_path(data_dir: &Path, hub_url: &str, login: &str) -> PathBuf {
    let safe = |s: &str| -> String {
        s.chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '.' || c == '-' {
                    c
                } else {
                    '_'
                }
            })
            .collect()
    };
    data_dir
        .join("cache")
        .join(safe(hub_url))
        .join(format!("{}.db", safe(login)))
}

const LAST_SEQ: &str = "last_seq";
const HISTORY: &str = "history";
const AGENT: &str = "agent";
// Private-use characters mark the matches in FTS5 snippets; typed text never holds them
// in practice, and they are split off before anything is shown.
const HIT_START: char = '\u{E000}';
const HIT_END: char = '\u{E001}';

/// The local cache of one agent on one hub.
#[derive(Clone)]
pub struct Cache {
    db: SqlitePool,
}

/// A part of a transcript, in order.
#[derive(Debug, Clone, PartialEq)]
pub struct TranscriptPage {
    /// The messages.
    pub messages: Vec<CachedMessage>,
    /// Whether messages before these exist.
    pub has_earlier: bool,
}

#[derive(sqlx::FromRow)]
struct MessageRow {
    session_id: String,
    id: String,
    seq: Option<i64>,
    sender: i64,
    text: String,
    at: i64,
    status: String,
    failure: Option<String>,
}

#[derive(sqlx::FromRow)]
struct SearchRow {
    session_id: String,
    id: String,
    seq: Option<i64>,
    sender: i64,
    at: i64,
    snippet: String,
}

impl From<MessageRow> for CachedMessage {
    fn from(r: MessageRow) -> Self {
        Self {
            session_id: r.session_id,
            id: r.id,
            seq: r.seq,
            from: r.sender,
            text: r.text,
            at: r.at,
            delivery: Delivery::parse(&r.status),
            failure: r.failure,
        }
    }
}

/// What the cache holds of the agent's events: where the hub's replay resumes.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Held {
    /// The number of the last event applied (0 for none).
    pub last_seq: i64,
    /// The history that number belongs to, as the hub named it (`None` for none).
    pub history: Option<String>,
}

/// The path of one of SQLite's files beside the database (`-wal`, `-shm`).
fn sidecar(path: &Path, suffix: &str) -> std::path::PathBuf {
    let mut name = path.as_os_str().to_os_string();
    name.push(suffix);
    name.into()
}

impl Cache {
    /// Opens (creating if needed) the cache at `path`.
    pub async fn open(path: &Path) -> Result<Self, CacheError> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            private_files::private_dir(dir).map_err(|source| CacheError::Folder {
                path: dir.to_path_buf(),
                source,
            })?;
        }
        Self::open_file(path, true).await
    }

    /// Opens the cache at `path` if there is one: a sign-in that fails leaves no cache
    /// behind for a login that may not exist.
    pub async fn open_existing(path: &Path) -> Result<Option<Self>, CacheError> {
        if !path.exists() {
            return Ok(None);
        }
        Self::open_file(path, false).await.map(Some)
    }

    async fn open_file(path: &Path, create: bool) -> Result<Self, CacheError> {
        // The agent's conversations: the user's alone. SQLite gives its log files the
        // database file's permissions; files an older version left are tightened too.
        let private = || -> std::io::Result<()> {
            if create {
                private_files::private_file(path)?;
            }
            for file in [
                path.to_path_buf(),
                sidecar(path, "-wal"),
                sidecar(path, "-shm"),
            ] {
                private_files::restrict_if_present(&file)?;
            }
            Ok(())
        };
        private().map_err(|source| CacheError::Folder {
            path: path.to_path_buf(),
            source,
        })?;
        let options = SqliteConnectOptions::from_str("sqlite:")?
            .filename(path)
            .create_if_missing(create)
            .journal_mode(SqliteJournalMode::Wal)
            // A typed message must survive a crash of the app as soon as it shows as pending.
            .synchronous(SqliteSynchronous::Full)
            .busy_timeout(Duration::from_secs(5));
        // One connection: the engine's tasks (events, outbox, the UI's reads) would otherwise
        // contend for SQLite's single writer, and a transaction that has to upgrade its lock
        // gets SQLITE_BUSY at once instead of waiting.
        let db = SqlitePoolOptions::new()
            .max_connections(1)
            .connect_with(options)
            .await?;
        sqlx::migrate!("./migrations").run(&db).await?;
        Ok(Self { db })
    }

    /// The number of the last hub event applied to the cache (0 for none).
    pub async fn last_seq(&self) -> Result<i64, CacheError> {
        let seq: Option<i64> = sqlx::query_scalar("SELECT value FROM meta WHERE key = ?")
            .bind(LAST_SEQ)
            .fetch_optional(&self.db)
            .await?;
        Ok(seq.unwrap_or(0))
    }

    /// What the cache holds of the agent's events.
    pub async fn held(&self) -> Result<Held, CacheError> {
        Ok(Held {
            last_seq: self.last_seq().await?,
            history: self.fact(HISTORY).await?,
        })
    }

    /// Records that the cache now holds the hub's events of `history` up to `last_seq`
    /// (after a snapshot).
    pub async fn set_held(&self, last_seq: i64, history: &str) -> Result<(), CacheError> {
        self.set_fact(HISTORY, history).await?;
        self.set_last_seq(last_seq).await
    }

    /// The agent this cache belongs to, as the hub last described them.
    pub async fn agent(&self) -> Result<Option<AgentProfile>, CacheError> {
        match self.fact(AGENT).await? {
            Some(json) => Ok(Some(serde_json::from_str(&json)?)),
            None => Ok(None),
        }
    }

    /// Records the agent this cache belongs to.
    pub async fn set_agent(&self, agent: &AgentProfile) -> Result<(), CacheError> {
        self.set_fact(AGENT, &serde_json::to_string(agent)?).await
    }

    async fn fact(&self, key: &str) -> Result<Option<String>, CacheError> {
        Ok(sqlx::query_scalar("SELECT value FROM facts WHERE key = ?")
            .bind(key)
            .fetch_optional(&self.db)
            .await?)
    }

    async fn set_fact(&self, key: &str, value: &str) -> Result<(), CacheError> {
        sqlx::query("INSERT INTO facts (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value")
            .bind(key)
            .bind(value)
            .execute(&self.db)
            .await?;
        Ok(())
    }

    /// The missed invitations the agent has put away.
    pub async fn missed_seen(&self) -> Result<Vec<String>, CacheError> {
        Ok(
            sqlx::query_scalar("SELECT id FROM sessions WHERE missed_seen = 1")
                .fetch_all(&self.db)
                .await?,
        )
    }

    /// Puts missed invitations away.
    pub async fn set_missed_seen(&self, session_ids: &[String]) -> Result<(), CacheError> {
        let ids = serde_json::to_string(session_ids)?;
        sqlx::query(
            "UPDATE sessions SET missed_seen = 1 WHERE id IN (SELECT value FROM json_each(?))",
        )
        .bind(ids)
        .execute(&self.db)
        .await?;
        Ok(())
    }

    /// Records the number of the last hub event applied.
    pub async fn set_last_seq(&self, seq: i64) -> Result<(), CacheError> {
        sqlx::query("INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value")
            .bind(LAST_SEQ)
            .bind(seq)
            .execute(&self.db)
            .await?;
        Ok(())
    }

    /// Stores a session as the hub last described it.
    pub async fn put_session(&self, session: &SessionInfo, now: i64) -> Result<(), CacheError> {
        let state = match session.state {
            SessionState::Inviting => "inviting",
            SessionState::Connected => "connected",
            SessionState::Ended => "ended",
        };
        sqlx::query(
            "INSERT INTO sessions (id, info, state, created_at, updated_at) VALUES (?, ?, ?, ?, ?)
             ON CONFLICT (id) DO UPDATE SET info = excluded.info, state = excluded.state,
                                            updated_at = excluded.updated_at",
        )
        .bind(&session.id)
        .bind(serde_json::to_string(session)?)
        .bind(state)
        .bind(session.created_at)
        .bind(now)
        .execute(&self.db)
        .await?;
        if let Some(first) = &session.first_message {
            self.put_message(first).await?;
        }
        Ok(())
    }

    /// Every cached session, newest first.
    pub async fn sessions(&self) -> Result<Vec<SessionInfo>, CacheError> {
        let rows: Vec<(String,)> =
            sqlx::query_as("SELECT info FROM sessions ORDER BY created_at DESC")
                .fetch_all(&self.db)
                .await?;
        rows.into_iter()
            .map(|(info,)| serde_json::from_str(&info).map_err(CacheError::from))
            .collect()
    }

    /// Stores a message committed by the hub. Returns whether it was new to the cache (a
    /// message of one's own that waited in the outbox is not new: it becomes sent).
    pub async fn put_message(&self, message: &Message) -> Result<bool, CacheError> {
        Ok(self.put_messages(std::slice::from_ref(message)).await? == 1)
    }

    /// Stores messages committed by the hub in one transaction; returns how many were new.
    pub async fn put_messages(&self, messages: &[Message]) -> Result<usize, CacheError> {
        let mut tx = self.db.begin().await?;
        let mut new = 0;
        for message in messages {
            // Another agent's message that took the id of one of ours still in the outbox
            // (ids are the senders' to choose): ours has not reached the hub, so it takes a
            // new id, and both are kept.
            sqlx::query(
                "UPDATE messages SET id = ? WHERE session_id = ? AND id = ? AND sender <> ?
                   AND status <> 'sent'",
            )
            .bind(uuid::Uuid::new_v4().to_string())
            .bind(&message.session_id)
            .bind(&message.id)
            .bind(message.from)
            .execute(&mut *tx)
            .await?;
            let inserted = sqlx::query(
                "INSERT OR IGNORE INTO messages (seq, at, session_id, id, sender, text, status)
                 VALUES (?, ?, ?, ?, ?, ?, 'sent')",
            )
            .bind(message.seq)
            .bind(message.at)
            .bind(&message.session_id)
            .bind(&message.id)
            .bind(message.from)
            .bind(&message.text)
            .execute(&mut *tx)
            .await?;
            if inserted.rows_affected() == 1 {
                new += 1;
                continue;
            }
            // Known already: a message of one's own that waited in the outbox (or was
            // refused, then sent from another device) is now acknowledged.
            sqlx::query(
                "UPDATE messages SET seq = ?, at = ?, status = 'sent', failure = NULL
                  WHERE session_id = ? AND id = ? AND sender = ? AND status <> 'sent'",
            )
            .bind(message.seq)
            .bind(message.at)
            .bind(&message.session_id)
            .bind(&message.id)
            .bind(message.from)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(new)
    }

    /// Puts a message typed by the agent into the outbox. Queuing the same id again changes
    /// nothing.
    pub async fn enqueue(
        &self,
        session_id: &str,
        message_id: &str,
        from: i64,
        text: &str,
        now: i64,
    ) -> Result<CachedMessage, CacheError> {
        sqlx::query(
            "INSERT INTO messages (session_id, id, seq, sender, text, at, status) VALUES (?, ?, NULL, ?, ?, ?, 'pending')
             ON CONFLICT (session_id, id) DO NOTHING",
        )
        .bind(session_id)
        .bind(message_id)
        .bind(from)
        .bind(text)
        .bind(now)
        .execute(&self.db)
        .await?;
        self.message(session_id, message_id)
            .await?
            .ok_or_else(|| CacheError::Database(sqlx::Error::RowNotFound))
    }

    /// One cached message.
    pub async fn message(
        &self,
        session_id: &str,
        message_id: &str,
    ) -> Result<Option<CachedMessage>, CacheError> {
        Ok(sqlx::query_as::<_, MessageRow>(
            "SELECT session_id, id, seq, sender, text, at, status, failure FROM messages WHERE session_id = ? AND id = ?",
        )
        .bind(session_id)
        .bind(message_id)
        .fetch_optional(&self.db)
        .await?
        .map(CachedMessage::from))
    }

    /// The outbox: messages waiting to be sent, in the order they were typed.
    pub async fn pending(&self) -> Result<Vec<CachedMessage>, CacheError> {
        Ok(sqlx::query_as::<_, MessageRow>(
            "SELECT session_id, id, seq, sender, text, at, status, failure FROM messages
              WHERE status = 'pending' ORDER BY rowid",
        )
        .fetch_all(&self.db)
        .await?
        .into_iter()
        .map(CachedMessage::from)
        .collect())
    }

    /// Marks an outbox message as refused by the hub, with the hub's reason.
    pub async fn mark_failed(
        &self,
        session_id: &str,
        message_id: &str,
        reason: &str,
    ) -> Result<(), CacheError> {
        sqlx::query("UPDATE messages SET status = 'failed', failure = ? WHERE session_id = ? AND id = ? AND status = 'pending'")
            .bind(reason)
            .bind(session_id)
            .bind(message_id)
            .execute(&self.db)
            .await?;
        Ok(())
    }

    /// A session's transcript: committed messages in the hub's order, then pending ones.
    pub async fn transcript(&self, session_id: &str) -> Result<Vec<CachedMessage>, CacheError> {
        Ok(sqlx::query_as::<_, MessageRow>(
            "SELECT session_id, id, seq, sender, text, at, status, failure FROM messages
              WHERE session_id = ? ORDER BY seq IS NULL, seq, rowid",
        )
        .bind(session_id)
        .fetch_all(&self.db)
        .await?
        .into_iter()
        .map(CachedMessage::from)
        .collect())
    }

    /// The end of a session's transcript: its last `limit` committed messages in the hub's
    /// order, then every pending one; and whether earlier messages exist. A long transcript
    /// is shown from its end and read back page by page ([`Self::transcript_before`]).
    pub async fn transcript_tail(
        &self,
        session_id: &str,
        limit: u32,
    ) -> Result<TranscriptPage, CacheError> {
        let mut committed = self.committed(session_id, i64::MAX, limit).await?;
        let pending = sqlx::query_as::<_, MessageRow>(
            "SELECT session_id, id, seq, sender, text, at, status, failure FROM messages
              WHERE session_id = ? AND seq IS NULL ORDER BY rowid",
        )
        .bind(session_id)
        .fetch_all(&self.db)
        .await?;
        committed
            .messages
            .extend(pending.into_iter().map(CachedMessage::from));
        Ok(committed)
    }

    /// Up to `limit` committed messages of a session that come before `before_seq`, in the
    /// hub's order, and whether even earlier ones exist.
    pub async fn transcript_before(
        &self,
        session_id: &str,
        before_seq: i64,
        limit: u32,
    ) -> Result<TranscriptPage, CacheError> {
        self.committed(session_id, before_seq, limit).await
    }

    /// The committed messages of a session numbered from `from_seq` up to (not including)
    /// `before_seq`, in the hub's order, and whether earlier ones exist: what a window that
    /// shows the end of a transcript lacks to show a message further back.
    pub async fn transcript_between(
        &self,
        session_id: &str,
        from_seq: i64,
        before_seq: i64,
    ) -> Result<TranscriptPage, CacheError> {
        let messages: Vec<CachedMessage> = sqlx::query_as::<_, MessageRow>(
            "SELECT session_id, id, seq, sender, text, at, status, failure FROM messages
              WHERE session_id = ? AND seq >= ? AND seq < ? ORDER BY seq",
        )
        .bind(session_id)
        .bind(from_seq)
        .bind(before_seq)
        .fetch_all(&self.db)
        .await?
        .into_iter()
        .map(CachedMessage::from)
        .collect();
        let has_earlier: bool = sqlx::query_scalar(
            "SELECT EXISTS (SELECT 1 FROM messages
                             WHERE session_id = ? AND seq IS NOT NULL AND seq < ?)",
        )
        .bind(session_id)
        .bind(from_seq)
        .fetch_one(&self.db)
        .await?;
        Ok(TranscriptPage {
            messages,
            has_earlier,
        })
    }

    async fn committed(
        &self,
        session_id: &str,
        before_seq: i64,
        limit: u32,
    ) -> Result<TranscriptPage, CacheError> {
        // One more than asked for tells whether there are earlier ones.
        let mut rows = sqlx::query_as::<_, MessageRow>(
            "SELECT session_id, id, seq, sender, text, at, status, failure FROM messages
              WHERE session_id = ? AND seq IS NOT NULL AND seq < ?
              ORDER BY seq DESC LIMIT ?",
        )
        .bind(session_id)
        .bind(before_seq)
        .bind(i64::from(limit) + 1)
        .fetch_all(&self.db)
        .await?;
        let has_earlier = rows.len() > limit as usize;
        rows.truncate(limit as usize);
        rows.reverse();
        Ok(TranscriptPage {
            messages: rows.into_iter().map(CachedMessage::from).collect(),
            has_earlier,
        })
    }

    /// Brings the cache in line with a snapshot from the hub, adding what it lacks without
    /// repeating what it has.
    pub async fn reconcile(
        &self,
        sessions: &[SessionTranscript],
        now: i64,
    ) -> Result<(), CacheError> {
        for t in sessions {
            self.put_session(&t.session, now).await?;
            self.put_messages(&t.messages).await?;
        }
        Ok(())
    }

    /// Whether the cache holds every message of the session numbered below `seq` (a
    /// session's messages are numbered from 1 without gaps).
    pub async fn holds_all_before(&self, session_id: &str, seq: i64) -> Result<bool, CacheError> {
        let held: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM messages WHERE session_id = ? AND seq > 0 AND seq < ?",
        )
        .bind(session_id)
        .bind(seq)
        .fetch_one(&self.db)
        .await?;
        Ok(held >= seq - 1)
    }

    /// Searches every cached text: each word of `query` must start a word of the message,
    /// ignoring case and accents. Newest first: FTS5 walks its index in that order and stops
    /// at `limit`, where ranking by relevance would score every match first.
    pub async fn search(&self, query: &str, limit: u32) -> Result<Vec<SearchHit>, CacheError> {
        self.search_where(None, query, limit).await
    }

    /// Searches one session's transcript as [`Self::search`] searches them all, newest first.
    pub async fn search_session(
        &self,
        session_id: &str,
        query: &str,
        limit: u32,
    ) -> Result<Vec<SearchHit>, CacheError> {
        self.search_where(Some(session_id), query, limit).await
    }

    async fn search_where(
        &self,
        session_id: Option<&str>,
        query: &str,
        limit: u32,
    ) -> Result<Vec<SearchHit>, CacheError> {
        let terms: Vec<String> = query
            .split_whitespace()
            .map(|w| format!("\"{}\"*", w.replace('"', "\"\"")))
            .collect();
        if terms.is_empty() {
            return Ok(Vec::new());
        }
        let rows: Vec<SearchRow> = sqlx::query_as(
            "SELECT m.session_id, m.id, m.seq, m.sender, m.at,
                    snippet(messages_fts, 0, ?, ?, '…', 12) AS snippet
               FROM messages_fts JOIN messages m ON m.rowid = messages_fts.rowid
              WHERE messages_fts MATCH ? AND (? IS NULL OR m.session_id = ?)
              ORDER BY messages_fts.rowid DESC LIMIT ?",
        )
        .bind(HIT_START.to_string())
        .bind(HIT_END.to_string())
        .bind(terms.join(" "))
        .bind(session_id)
        .bind(session_id)
        .bind(limit)
        .fetch_all(&self.db)
        .await?;
        Ok(rows
            .into_iter()
            .map(|r| SearchHit {
                session_id: r.session_id,
                message_id: r.id,
                seq: r.seq,
                from: r.sender,
                at: r.at,
                snippet: split_snippet(&r.snippet),
            })
            .collect())
    }

    /// Forgets sessions that ended before `before`, with their transcripts (the outbox is
    /// never pruned).
    pub async fn prune(&self, before: i64) -> Result<u64, CacheError> {
        let mut tx = self.db.begin().await?;
        sqlx::query(
            "DELETE FROM messages WHERE status <> 'pending' AND session_id IN
               (SELECT id FROM sessions WHERE state = 'ended' AND updated_at < ?)",
        )
        .bind(before)
        .execute(&mut *tx)
        .await?;
        let gone = sqlx::query(
            "DELETE FROM sessions WHERE state = 'ended' AND updated_at < ?
               AND NOT EXISTS (SELECT 1 FROM messages WHERE session_id = sessions.id)",
        )
        .bind(before)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        tx.commit().await?;
        Ok(gone)
    }

    /// Closes the database.
    pub async fn close(&self) {
        self.db.close().await;
    }
}

fn split_snippet(snippet: &str) -> Vec<SnippetPart> {
    let mut parts = Vec::new();
    let mut hit = false;
    let mut current = String::new();
    for c in snippet.chars() {
        if c == HIT_START || c == HIT_END {
            if !current.is_empty() {
                parts.push(SnippetPart {
                    text: std::mem::take(&mut current),
                    hit,
                });
            }
            hit = c == HIT_START;
        } else {
            current.push(c);
        }
    }
    if !current.is_empty() {
        parts.push(SnippetPart { text: current, hit });
    }
    parts
}

#[cfg(test)]
mod tests {
    use super::*;
    use huddle_protocol::AgentProfile;

    async fn cache() -> (tempfile::TempDir, Cache) {
        let dir = tempfile::tempdir().unwrap();
        let cache = Cache::open(&cache_path(dir.path(), "ws://hub:7878/v1/ws", "ana"))
            .await
            .unwrap();
        (dir, cache)
    }

    #[cfg(unix)]
    #[tokio::test]
    async fn the_cache_and_its_log_files_are_readable_by_their_user_only() {
        use std::os::unix::fs::PermissionsExt;
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        let dir = tempfile::tempdir().unwrap();
        let path = cache_path(dir.path(), "ws://hub:7878/v1/ws", "ana");
        let cache = Cache::open(&path).await.unwrap();
        cache
            .put_message(&message("s-1", "m-1", 1, "the customer's card number"))
            .await
            .unwrap();
        assert_eq!(mode(path.parent().unwrap()), 0o700);
        for file in [path.clone(), sidecar(&path, "-wal"), sidecar(&path, "-shm")] {
            assert_eq!(mode(&file), 0o600, "{}", file.display());
        }
        drop(cache);

        // A cache an older version left readable by all is tightened when opened.
        for file in [path.clone(), sidecar(&path, "-wal")] {
            let _ = std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o644));
        }
        Cache::open(&path).await.unwrap();
        assert_eq!(mode(&path), 0o600);
    }

    fn message(session: &str, id: &str, seq: i64, text: &str) -> Message {
        Message {
            id: id.into(),
            session_id: session.into(),
            seq,
            from: 8,
            text: text.into(),
            at: 1_000 + seq,
        }
    }

    fn session(id: &str, state: SessionState) -> SessionInfo {
        let agent = |id: i64, login: &str| AgentProfile {
            id,
            login: login.into(),
            display_name: login.into(),
        };
        SessionInfo {
            id: id.into(),
            inviter: agent(7, "ana"),
            target: agent(8, "ben"),
            state,
            end: None,
            created_at: 1,
            invite_expires_at: 2,
            first_message: None,
            context: None,
        }
    }

    #[test]
    fn the_path_depends_on_hub_and_login_and_is_a_plain_file_name() {
        let p = cache_path(Path::new("/data"), "ws://hub:7878/v1/ws", "ana");
        assert_eq!(p, Path::new("/data/cache/ws___hub_7878_v1_ws/ana.db"));
        assert_ne!(
            p,
            cache_path(Path::new("/data"), "ws://other:7878/v1/ws", "ana")
        );
    }

    #[tokio::test]
    async fn a_long_transcript_is_read_from_its_end_page_by_page() {
        let (_dir, cache) = cache().await;
        let messages: Vec<Message> = (1..=25)
            .map(|i| message("s-1", &format!("m-{i}"), i, &format!("text {i}")))
            .collect();
        cache.put_messages(&messages).await.unwrap();
        cache
            .put_message(&message("other", "o-1", 1, "elsewhere"))
            .await
            .unwrap();
        cache
            .enqueue("s-1", "p-1", 7, "still pending", 5_000)
            .await
            .unwrap();
        let seqs = |page: &TranscriptPage| -> Vec<Option<i64>> {
            page.messages.iter().map(|m| m.seq).collect()
        };

        let tail = cache.transcript_tail("s-1", 10).await.unwrap();
        let mut expected: Vec<Option<i64>> = (16..=25).map(Some).collect();
        expected.push(None);
        assert_eq!(seqs(&tail), expected, "the last ten, then the pending one");
        assert!(tail.has_earlier);

        let page = cache.transcript_before("s-1", 16, 10).await.unwrap();
        assert_eq!(seqs(&page), (6..=15).map(Some).collect::<Vec<_>>());
        assert!(page.has_earlier);
        let first = cache.transcript_before("s-1", 6, 10).await.unwrap();
        assert_eq!(seqs(&first), (1..=5).map(Some).collect::<Vec<_>>());
        assert!(!first.has_earlier);

        let exact = cache.transcript_before("s-1", 11, 10).await.unwrap();
        assert_eq!(exact.messages.len(), 10);
        assert!(!exact.has_earlier, "nothing before the first message");
    }

    #[tokio::test]
    async fn sessions_and_transcripts_survive_a_reopen() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.db");
        let cache = Cache::open(&path).await.unwrap();
        cache
            .put_session(&session("s-1", SessionState::Connected), 5)
            .await
            .unwrap();
        assert!(cache
            .put_message(&message("s-1", "m-2", 2, "second"))
            .await
            .unwrap());
        assert!(cache
            .put_message(&message("s-1", "m-1", 1, "first"))
            .await
            .unwrap());
        assert!(
            !cache
                .put_message(&message("s-1", "m-1", 1, "first"))
                .await
                .unwrap(),
            "not twice"
        );
        cache.set_last_seq(12).await.unwrap();
        cache.close().await;
        let cache = Cache::open(&path).await.unwrap();
        assert_eq!(
            cache.sessions().await.unwrap()[0].state,
            SessionState::Connected
        );
        let texts: Vec<_> = cache
            .transcript("s-1")
            .await
            .unwrap()
            .into_iter()
            .map(|m| m.text)
            .collect();
        assert_eq!(texts, ["first", "second"]);
        assert_eq!(cache.last_seq().await.unwrap(), 12);
    }

    #[tokio::test]
    async fn the_outbox_keeps_order_and_acknowledgements_settle_it() {
        let (_dir, cache) = cache().await;
        cache.enqueue("s-1", "o-1", 7, "one", 10).await.unwrap();
        cache.enqueue("s-1", "o-2", 7, "two", 11).await.unwrap();
        cache.enqueue("s-1", "o-1", 7, "one", 12).await.unwrap();
        let pending: Vec<_> = cache
            .pending()
            .await
            .unwrap()
            .into_iter()
            .map(|m| m.id)
            .collect();
        assert_eq!(pending, ["o-1", "o-2"]);
        let mut acked = message("s-1", "o-1", 1, "one");
        acked.from = 7;
        assert!(
            !cache.put_message(&acked).await.unwrap(),
            "an acknowledgement is not news"
        );
        cache
            .mark_failed("s-1", "o-2", "the session has ended")
            .await
            .unwrap();
        assert!(cache.pending().await.unwrap().is_empty());
        let t = cache.transcript("s-1").await.unwrap();
        assert_eq!((t[0].delivery, t[0].seq), (Delivery::Sent, Some(1)));
        assert_eq!(t[1].delivery, Delivery::Failed);
        assert_eq!(t[1].failure.as_deref(), Some("the session has ended"));
    }

    #[tokio::test]
    async fn search_ignores_case_and_accents_and_marks_the_hits() {
        let (_dir, cache) = cache().await;
        cache
            .put_message(&message(
                "s-1",
                "m-1",
                1,
                "The customer's Café order is late",
            ))
            .await
            .unwrap();
        cache
            .put_message(&message("s-2", "m-2", 1, "Nothing to see"))
            .await
            .unwrap();
        let hits = cache.search("cafe ORD", 10).await.unwrap();
        assert_eq!(hits.len(), 1);
        assert_eq!(
            (hits[0].session_id.as_str(), hits[0].message_id.as_str()),
            ("s-1", "m-1")
        );
        let marked: Vec<_> = hits[0]
            .snippet
            .iter()
            .filter(|p| p.hit)
            .map(|p| p.text.as_str())
            .collect();
        assert_eq!(marked, ["Café", "order"]);
        assert!(
            cache.search("\"unbalanced", 10).await.unwrap().is_empty(),
            "odd input is no error"
        );
        assert!(cache.search("   ", 10).await.unwrap().is_empty());
    }

    #[tokio::test]
    async fn a_search_of_one_session_finds_only_its_messages_with_where_they_are() {
        let (_dir, cache) = cache().await;
        for (session, id, seq) in [("s-1", "m-1", 1), ("s-2", "m-2", 1), ("s-1", "m-3", 2)] {
            cache
                .put_message(&message(session, id, seq, "refund for the order"))
                .await
                .unwrap();
        }
        let hits = cache.search_session("s-1", "refund", 10).await.unwrap();
        let found: Vec<_> = hits
            .iter()
            .map(|h| (h.message_id.as_str(), h.seq, h.from, h.at))
            .collect();
        assert_eq!(
            found,
            [("m-3", Some(2), 8, 1_002), ("m-1", Some(1), 8, 1_001)]
        );
        assert_eq!(cache.search("refund", 10).await.unwrap().len(), 3);
        assert!(cache
            .search_session("s-9", "refund", 10)
            .await
            .unwrap()
            .is_empty());
    }

    #[tokio::test]
    async fn a_transcript_between_two_numbers_says_whether_more_come_before() {
        let (_dir, cache) = cache().await;
        let all: Vec<Message> = (1..=10)
            .map(|i| message("s-1", &format!("m-{i}"), i, "text"))
            .collect();
        cache.put_messages(&all).await.unwrap();
        let page = cache.transcript_between("s-1", 3, 6).await.unwrap();
        let seqs: Vec<_> = page.messages.iter().filter_map(|m| m.seq).collect();
        assert_eq!((seqs, page.has_earlier), (vec![3, 4, 5], true));
        let page = cache.transcript_between("s-1", 1, 3).await.unwrap();
        assert_eq!((page.messages.len(), page.has_earlier), (2, false));
        let page = cache.transcript_between("s-1", 8, 3).await.unwrap();
        assert!(page.messages.is_empty(), "an empty range is no error");
    }

    #[tokio::test]
    async fn search_finds_one_message_among_100000() {
        let (_dir, cache) = cache().await;
        let haystack: Vec<Message> = (0..100_000i64)
            .map(|i| {
                message(
                    &format!("s-{}", i % 500),
                    &format!("m-{i}"),
                    i,
                    &format!("routine note number {i} about the queue"),
                )
            })
            .collect();
        for chunk in haystack.chunks(10_000) {
            assert_eq!(cache.put_messages(chunk).await.unwrap(), chunk.len());
        }
        cache
            .put_message(&message(
                "s-7",
                "needle",
                1,
                "refund approved by supervisor",
            ))
            .await
            .unwrap();
        let hits = cache.search("supervisor refund", 5).await.unwrap();
        assert_eq!(hits.len(), 1);
        assert_eq!(hits[0].message_id, "needle");
    }

    #[tokio::test]
    async fn reconciling_a_snapshot_adds_only_what_is_missing() {
        let (_dir, cache) = cache().await;
        cache
            .put_message(&message("s-1", "m-1", 1, "have it"))
            .await
            .unwrap();
        let snapshot = vec![SessionTranscript {
            session: session("s-1", SessionState::Ended),
            messages: vec![
                message("s-1", "m-1", 1, "have it"),
                message("s-1", "m-2", 2, "missed"),
            ],
            earlier: false,
        }];
        cache.reconcile(&snapshot, 9).await.unwrap();
        cache.reconcile(&snapshot, 9).await.unwrap();
        assert_eq!(cache.transcript("s-1").await.unwrap().len(), 2);
        assert_eq!(
            cache.sessions().await.unwrap()[0].state,
            SessionState::Ended
        );
    }

    #[tokio::test]
    async fn another_agents_message_with_the_id_of_one_waiting_keeps_both() {
        let (_dir, cache) = cache().await;
        cache
            .enqueue("s-1", "m-1", 7, "mine, not sent yet", 10)
            .await
            .unwrap();
        // Agent 8 chose the same id; the hub took theirs first.
        assert!(cache
            .put_message(&message("s-1", "m-1", 1, "theirs"))
            .await
            .unwrap());
        let transcript = cache.transcript("s-1").await.unwrap();
        assert_eq!(transcript.len(), 2, "{transcript:?}");
        assert_eq!(transcript[0].text, "theirs");
        assert_eq!(transcript[0].delivery, Delivery::Sent);
        assert_eq!(transcript[1].text, "mine, not sent yet");
        assert_eq!(transcript[1].delivery, Delivery::Pending);
        assert_ne!(transcript[1].id, "m-1");
        assert_eq!(cache.pending().await.unwrap().len(), 1);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn concurrent_writers_and_readers_never_see_a_locked_database() {
        let (_dir, cache) = cache().await;
        cache
            .put_session(&session("s", SessionState::Connected), 1)
            .await
            .unwrap();
        // What the engine's tasks do at once: apply events, queue and acknowledge the
        // outbox, and answer the UI's reads.
        let mut tasks = tokio::task::JoinSet::new();
        for worker in 0..4_i64 {
            let cache = cache.clone();
            tasks.spawn(async move {
                for n in 0..100_i64 {
                    let seq = worker * 1000 + n;
                    let id = format!("m-{seq}");
                    cache.enqueue("s", &id, 8, "typed", seq).await?;
                    cache.put_message(&message("s", &id, seq, "typed")).await?;
                    cache.set_last_seq(seq).await?;
                    cache.transcript("s").await?;
                    cache.search("typed", 5).await?;
                }
                Ok::<_, CacheError>(())
            });
        }
        while let Some(done) = tasks.join_next().await {
            done.unwrap().unwrap();
        }
        assert!(cache.pending().await.unwrap().is_empty());
    }

    #[tokio::test]
    async fn pruning_forgets_old_ended_sessions_but_never_the_outbox() {
        let (_dir, cache) = cache().await;
        cache
            .put_session(&session("old", SessionState::Ended), 100)
            .await
            .unwrap();
        cache
            .put_message(&message("old", "m-1", 1, "bye"))
            .await
            .unwrap();
        cache
            .put_session(&session("open", SessionState::Connected), 100)
            .await
            .unwrap();
        cache
            .enqueue("open", "o-1", 7, "still to send", 100)
            .await
            .unwrap();
        assert_eq!(cache.prune(200).await.unwrap(), 1);
        let ids: Vec<_> = cache
            .sessions()
            .await
            .unwrap()
            .into_iter()
            .map(|s| s.id)
            .collect();
        assert_eq!(ids, ["open"]);
        assert!(cache.transcript("old").await.unwrap().is_empty());
        assert_eq!(cache.pending().await.unwrap().len(), 1);
    }
}
