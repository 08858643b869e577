-- Changes an administrator made to accounts, from any process (the command line while the
-- hub serves): the hub reads them within a second and closes or restricts the agent's live
-- connections. Numbered without reuse, so that "after N" never misses one.
CREATE TABLE account_changes (
    seq      INTEGER PRIMARY KEY AUTOINCREMENT,
    agent_id INTEGER NOT NULL,
    at       INTEGER NOT NULL
) STRICT;
