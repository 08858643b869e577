-- What internal IM needs: account permissions, presence, session tokens, favorites, groups,
-- IM sessions with their transcripts, and each agent's numbered events.

ALTER TABLE agents ADD COLUMN im_enabled   INTEGER NOT NULL DEFAULT 1 CHECK (im_enabled IN (0, 1));
ALTER TABLE agents ADD COLUMN can_start_im INTEGER NOT NULL DEFAULT 1 CHECK (can_start_im IN (0, 1));
-- The presence the agent last chose; Offline is never stored, it is derived from connections.
ALTER TABLE agents ADD COLUMN presence     TEXT    NOT NULL DEFAULT 'ready';
-- The number of the agent's latest event.
ALTER TABLE agents ADD COLUMN last_seq     INTEGER NOT NULL DEFAULT 0;

-- Session tokens, kept only as SHA-256 hashes.
CREATE TABLE tokens (
    hash       BLOB    PRIMARY KEY,
    agent_id   INTEGER NOT NULL REFERENCES agents (id) ON DELETE CASCADE,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
) STRICT;
CREATE INDEX tokens_by_agent ON tokens (agent_id);

CREATE TABLE favorites (
    agent_id  INTEGER NOT NULL REFERENCES agents (id) ON DELETE CASCADE,
    target_id INTEGER NOT NULL REFERENCES agents (id) ON DELETE CASCADE,
    PRIMARY KEY (agent_id, target_id)
) STRICT, WITHOUT ROWID;

CREATE TABLE agent_groups (
    id   INTEGER PRIMARY KEY,
    name TEXT    NOT NULL UNIQUE
) STRICT;

CREATE TABLE group_members (
    group_id INTEGER NOT NULL REFERENCES agent_groups (id) ON DELETE CASCADE,
    agent_id INTEGER NOT NULL REFERENCES agents (id) ON DELETE CASCADE,
    PRIMARY KEY (group_id, agent_id)
) STRICT, WITHOUT ROWID;

CREATE TABLE im_sessions (
    id                TEXT    PRIMARY KEY,
    inviter           INTEGER NOT NULL REFERENCES agents (id),
    target            INTEGER NOT NULL REFERENCES agents (id),
    state             TEXT    NOT NULL CHECK (state IN ('inviting', 'connected', 'ended')),
    end_reason        TEXT    CHECK (end_reason IN ('rejected', 'cancelled', 'timed_out', 'ended')),
    ended_by          INTEGER,
    ended_at          INTEGER,
    created_at        INTEGER NOT NULL,
    invite_expires_at INTEGER NOT NULL,
    interaction_id    TEXT,
    -- The message sent with the invitation, if any (it is the transcript's first).
    first_message_id  TEXT,
    last_message_seq  INTEGER NOT NULL DEFAULT 0
) STRICT;
CREATE INDEX im_sessions_by_inviter ON im_sessions (inviter, created_at);
CREATE INDEX im_sessions_by_target ON im_sessions (target, created_at);
CREATE INDEX im_sessions_open ON im_sessions (state) WHERE state <> 'ended';

CREATE TABLE messages (
    session_id TEXT    NOT NULL REFERENCES im_sessions (id),
    seq        INTEGER NOT NULL,
    id         TEXT    NOT NULL,
    sender     INTEGER NOT NULL REFERENCES agents (id),
    text       TEXT    NOT NULL,
    at         INTEGER NOT NULL,
    PRIMARY KEY (session_id, seq),
    UNIQUE (session_id, id)
) STRICT, WITHOUT ROWID;

-- Every event sent to an agent, kept for replay after a reconnect.
CREATE TABLE events (
    agent_id INTEGER NOT NULL REFERENCES agents (id) ON DELETE CASCADE,
    seq      INTEGER NOT NULL,
    at       INTEGER NOT NULL,
    body     TEXT    NOT NULL,
    PRIMARY KEY (agent_id, seq)
) STRICT, WITHOUT ROWID;
CREATE INDEX events_by_time ON events (at);
