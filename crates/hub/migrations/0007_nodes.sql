-- The nodes serving one database, and which agents have a device on which node. Only a hub
-- on PostgreSQL runs as several nodes; the tables exist here too, so that both stores hold
-- the same tables.
CREATE TABLE hub_nodes (
    id         INTEGER PRIMARY KEY,
    started_at INTEGER NOT NULL,
    seen_at    INTEGER NOT NULL,
    version    TEXT    NOT NULL
);

CREATE TABLE node_agents (
    node_id  INTEGER NOT NULL REFERENCES hub_nodes (id) ON DELETE CASCADE,
    agent_id INTEGER NOT NULL REFERENCES agents (id),
    PRIMARY KEY (node_id, agent_id)
);

-- The invitation clock reads the next invitation to time out.
CREATE INDEX im_sessions_inviting ON im_sessions (invite_expires_at) WHERE state = 'inviting';
