-- What the cache knows of the agent and of the hub's history, so that the app can start
-- before the hub answers, and resume only from numbers of the hub's own history.
CREATE TABLE facts (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
) STRICT;

-- Missed invitations the agent has looked at and put away.
ALTER TABLE sessions ADD COLUMN missed_seen INTEGER NOT NULL DEFAULT 0 CHECK (missed_seen IN (0, 1));
