-- What consultations are about: contacts and their history, the customer interactions that
-- the contact center's routing delivers to agents, and voice consultations between agents.
-- Ids of contacts, history entries and interactions are chosen by the integration.

CREATE TABLE contacts (
    id         TEXT    PRIMARY KEY,
    first_name TEXT    NOT NULL,
    last_name  TEXT    NOT NULL,
    -- JSON arrays of strings, the main one first.
    phones     TEXT    NOT NULL DEFAULT '[]' CHECK (json_valid(phones) AND json_type(phones) = 'array'),
    emails     TEXT    NOT NULL DEFAULT '[]' CHECK (json_valid(emails) AND json_type(emails) = 'array'),
    updated_at INTEGER NOT NULL
) STRICT;

CREATE TABLE contact_history (
    -- An explicit integer key: the full-text index refers to rows by it, and an implicit
    -- rowid may change on VACUUM.
    entry      INTEGER PRIMARY KEY,
    contact_id TEXT    NOT NULL REFERENCES contacts (id) ON DELETE CASCADE,
    id         TEXT    NOT NULL,
    at         INTEGER NOT NULL,
    media      TEXT    NOT NULL CHECK (media IN ('voice', 'email', 'chat')),
    subject    TEXT    NOT NULL,
    outcome    TEXT    NOT NULL,
    notes      TEXT    NOT NULL,
    UNIQUE (contact_id, id)
) STRICT;
CREATE INDEX contact_history_by_time ON contact_history (contact_id, at);

-- Searching ignores case and accents ("remove_diacritics 2" also folds letters whose accent
-- is a separate code point).
CREATE VIRTUAL TABLE contact_history_fts USING fts5 (
    subject, outcome, notes,
    content = 'contact_history', content_rowid = 'entry',
    tokenize = 'unicode61 remove_diacritics 2'
);
CREATE TRIGGER contact_history_indexed AFTER INSERT ON contact_history BEGIN
    INSERT INTO contact_history_fts (rowid, subject, outcome, notes)
    VALUES (new.entry, new.subject, new.outcome, new.notes);
END;
CREATE TRIGGER contact_history_unindexed AFTER DELETE ON contact_history BEGIN
    INSERT INTO contact_history_fts (contact_history_fts, rowid, subject, outcome, notes)
    VALUES ('delete', old.entry, old.subject, old.outcome, old.notes);
END;
CREATE TRIGGER contact_history_reindexed AFTER UPDATE ON contact_history BEGIN
    INSERT INTO contact_history_fts (contact_history_fts, rowid, subject, outcome, notes)
    VALUES ('delete', old.entry, old.subject, old.outcome, old.notes);
    INSERT INTO contact_history_fts (rowid, subject, outcome, notes)
    VALUES (new.entry, new.subject, new.outcome, new.notes);
END;

CREATE TABLE interactions (
    id         TEXT    PRIMARY KEY,
    agent_id   INTEGER NOT NULL REFERENCES agents (id),
    media      TEXT    NOT NULL CHECK (media IN ('voice', 'email', 'chat')),
    contact_id TEXT    NOT NULL REFERENCES contacts (id),
    subject    TEXT    NOT NULL,
    state      TEXT    NOT NULL CHECK (state IN ('ringing', 'active', 'held', 'ended')),
    -- A JSON array of {key, label, value}, in the order the integration gave it; hidden keys
    -- are stored and filtered out on the way to agents.
    case_data  TEXT    NOT NULL CHECK (json_valid(case_data) AND json_type(case_data) = 'array'),
    -- The delivery as first received (canonical JSON), so that a retried delivery is told
    -- from a different one after later changes.
    delivery   TEXT    NOT NULL,
    started_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    ended_at   INTEGER
) STRICT;
CREATE INDEX interactions_open_by_agent ON interactions (agent_id, started_at) WHERE state <> 'ended';

-- Who may read an interaction depends on the consultation sessions about it.
CREATE INDEX im_sessions_by_interaction ON im_sessions (interaction_id) WHERE interaction_id IS NOT NULL;

CREATE TABLE voice_consultations (
    id             TEXT    PRIMARY KEY,
    session_id     TEXT    NOT NULL REFERENCES im_sessions (id),
    interaction_id TEXT    NOT NULL REFERENCES interactions (id),
    inviter        INTEGER NOT NULL REFERENCES agents (id),
    target         INTEGER NOT NULL REFERENCES agents (id),
    -- The switch's ids of the customer's call and of the call between the agents.
    customer_call  TEXT    NOT NULL,
    consult_call   TEXT    NOT NULL,
    state          TEXT    NOT NULL CHECK (state IN ('ringing', 'connected', 'ended')),
    customer_held  INTEGER NOT NULL CHECK (customer_held IN (0, 1)),
    created_at     INTEGER NOT NULL,
    ended_at       INTEGER
) STRICT;
-- The customer can be on hold for one consultation at a time.
CREATE UNIQUE INDEX voice_consultations_one_open ON voice_consultations (interaction_id) WHERE state <> 'ended';
CREATE INDEX voice_consultations_by_session ON voice_consultations (session_id);
