-- The hub's own facts. `history` names the history that agents' event numbers belong to:
-- a client holding numbers of another history (a restored backup's, whose copy was given a
-- history of its own) is told to take a snapshot rather than trusted.
CREATE TABLE hub_meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
) STRICT, WITHOUT ROWID;
INSERT INTO hub_meta (key, value) VALUES ('history', lower(hex(randomblob(16))));
