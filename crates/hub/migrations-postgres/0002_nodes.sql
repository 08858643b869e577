-- The nodes serving this database: each records itself when it starts and says it is alive
-- every few seconds; the node holding the timers forgets those that stopped saying so.
CREATE TABLE hub_nodes (
    id         BIGINT PRIMARY KEY GENERATED ALWAYS AS IDENTITY,
    started_at BIGINT NOT NULL,
    seen_at    BIGINT NOT NULL,
    version    TEXT   NOT NULL
);

-- Which agents have a device (or are within their grace period) on which node: an agent is
-- online while any live node lists them.
CREATE TABLE node_agents (
    node_id  BIGINT NOT NULL REFERENCES hub_nodes (id) ON DELETE CASCADE,
    agent_id BIGINT NOT NULL REFERENCES agents (id),
    PRIMARY KEY (node_id, agent_id)
);
CREATE INDEX node_agents_by_agent ON node_agents (agent_id);

-- The invitation clock reads the next invitation to time out.
CREATE INDEX im_sessions_inviting ON im_sessions (invite_expires_at) WHERE state = 'inviting';
