-- The agent's local copy of sessions and transcripts, with the outbox of messages not yet
-- acknowledged by the hub. Nothing secret is stored here.

-- Small values: the number of the last event applied.
CREATE TABLE meta (
    key   TEXT    PRIMARY KEY,
    value INTEGER NOT NULL
) STRICT;

CREATE TABLE sessions (
    id         TEXT    PRIMARY KEY,
    -- The session as last heard from the hub (a SessionInfo in JSON).
    info       TEXT    NOT NULL,
    state      TEXT    NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
) STRICT;

CREATE TABLE messages (
    -- Order of arrival in this cache: the outbox sends pending messages in this order.
    rowid      INTEGER PRIMARY KEY,
    session_id TEXT    NOT NULL,
    id         TEXT    NOT NULL,
    -- The hub's number; NULL while the message waits in the outbox.
    seq        INTEGER,
    sender     INTEGER NOT NULL,
    text       TEXT    NOT NULL,
    -- The hub's time once sent, the local time while pending.
    at         INTEGER NOT NULL,
    status     TEXT    NOT NULL CHECK (status IN ('pending', 'sent', 'failed')),
    failure    TEXT,
    UNIQUE (session_id, id)
) STRICT;
CREATE INDEX messages_by_session ON messages (session_id, seq);
CREATE INDEX messages_pending ON messages (rowid) WHERE status = 'pending';

-- Full-text index over the texts, kept in step by triggers.
CREATE VIRTUAL TABLE messages_fts USING fts5 (
    text,
    content = 'messages',
    content_rowid = 'rowid',
    tokenize = 'unicode61 remove_diacritics 2'
);
CREATE TRIGGER messages_fts_insert AFTER INSERT ON messages BEGIN
    INSERT INTO messages_fts (rowid, text) VALUES (new.rowid, new.text);
END;
CREATE TRIGGER messages_fts_delete AFTER DELETE ON messages BEGIN
    INSERT INTO messages_fts (messages_fts, rowid, text) VALUES ('delete', old.rowid, old.text);
END;
CREATE TRIGGER messages_fts_update AFTER UPDATE OF text ON messages BEGIN
    INSERT INTO messages_fts (messages_fts, rowid, text) VALUES ('delete', old.rowid, old.text);
    INSERT INTO messages_fts (rowid, text) VALUES (new.rowid, new.text);
END;
