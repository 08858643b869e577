//! The nodes of a hub serving one PostgreSQL database. Each node holds its own agents'
//! connections; what one node commits, the others learn through PostgreSQL itself:
//!
//! - After each commit, the node that committed notifies the others of the agents' event
//!   numbers it reached. A node with a device of one of those agents reads the events it
//!   lacks from the tables (`delivery`), so a missed notification loses nothing: the next
//!   one, or the reading after the listening connection comes back, finds the events.
//! - Presence: each node records the agents online on it (`node_agents`) and notifies the
//!   others when that changes or when an agent chooses a presence.
//! - Liveness: each node says it is alive every few seconds (`hub_nodes`). One node, the
//!   holder of an advisory lock, runs the timers (invitation time-outs, retention) and
//!   forgets the nodes that stopped saying so, whose agents then show offline.
//!
//! A hub on SQLite is one node, which holds the timers and tells nobody.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use huddle_protocol::Presence;
use tokio::sync::{watch, Notify};
use tokio::task::JoinHandle;

use crate::services::error::Refusal;
use crate::services::latency::{self, Histogram};
use crate::services::presence;
use crate::services::registry::Registry;
use crate::store::listen::{self, Listener};
use crate::store::now_millis;
use crate::store::sql::{statement, Dialect, Own, Store};

/// The advisory lock held by the node that runs the timers.
const TIMERS_LOCK: i64 = 0x4875_6464_6c65; // "Huddle"

/// How a node that may have missed notifications waits before listening again, after a
/// failure to.
const LISTEN_RETRY: Duration = Duration::from_secs(1);

/// This node among those serving the store.
pub struct Cluster {
    store: Store,
    registry: Arc<Registry>,
    /// This node's number (0 for the one node of a SQLite hub).
    node: i64,
    /// Whether this node runs the timers.
    timers: watch::Sender<bool>,
    /// Woken when an invitation was made, here or on another node.
    invited: Notify,
    /// How long a node may stay silent before the others take it for dead.
    timeout: Duration,
    /// The delays between another node's commit and this node hearing of it.
    lag: Histogram,
    /// The live nodes, as the timers' node last counted them (0 when another node holds the
    /// timers).
    live_nodes: AtomicI64,
    tasks: std::sync::Mutex<Vec<JoinHandle<()>>>,
}

/// What the nodes tell one another.
enum Notice {
    /// A node committed events for these agents, up to these numbers, at `at`.
    Events {
        node: i64,
        at: i64,
        reached: Vec<(i64, i64)>,
    },
    /// An agent is online on a node with this presence, or (`None`) no longer there.
    Presence {
        node: i64,
        agent: i64,
        presence: Option<Presence>,
    },
    /// A node is gone, with its agents.
    Gone { node: i64 },
    /// An invitation was made: the timers' node reads the next time-out again.
    Invited,
}

impl Notice {
    fn encode(&self) -> String {
        match self {
            Notice::Events { node, at, reached } => {
                let reached: Vec<String> =
                    reached.iter().map(|(a, s)| format!("{a}:{s}")).collect();
                format!("e|{node}|{at}|{}", reached.join(","))
            }
            Notice::Presence {
                node,
                agent,
                presence,
            } => {
                let name = presence.map_or("offline", presence::name);
                format!("p|{node}|{agent}|{name}")
            }
            Notice::Gone { node } => format!("g|{node}"),
            Notice::Invited => "i".to_string(),
        }
    }

    fn decode(text: &str) -> Option<Self> {
        let mut parts = text.split('|');
        let kind = parts.next()?;
        let mut number = || parts.next()?.parse::<i64>().ok();
        Some(match kind {
            "e" => {
                let (node, at) = (number()?, number()?);
                let reached = text
                    .rsplit('|')
                    .next()?
                    .split(',')
                    .filter_map(|pair| {
                        let (a, s) = pair.split_once(':')?;
                        Some((a.parse().ok()?, s.parse().ok()?))
                    })
                    .collect();
                Notice::Events { node, at, reached }
            }
            "p" => {
                let (node, agent) = (number()?, number()?);
                let name = text.rsplit('|').next()?;
                let presence = (name != "offline").then(|| presence::parse(name));
                Notice::Presence {
                    node,
                    agent,
                    presence,
                }
            }
            "g" => Notice::Gone { node: number()? },
            "i" => Notice::Invited,
            _ => return None,
        })
    }
}

/// The statements that tell the other nodes about a commit, to run inside its transaction
/// on PostgreSQL: the latest event number each agent reached (`events`, in any order), in
/// notifications that fit PostgreSQL's payload, and whether an invitation was made.
pub fn commit_notices(
    node: i64,
    events: &[(i64, i64)],
    invited: bool,
) -> Vec<crate::store::sql::Statement> {
    commit_payloads(node, events, invited)
        .into_iter()
        .map(listen::notify)
        .collect()
}

/// The payloads of [`commit_notices`].
fn commit_payloads(node: i64, events: &[(i64, i64)], invited: bool) -> Vec<String> {
    let mut latest: BTreeMap<i64, i64> = BTreeMap::new();
    for &(agent, seq) in events {
        let entry = latest.entry(agent).or_insert(seq);
        *entry = (*entry).max(seq);
    }
    let at = now_millis();
    let mut out = Vec::new();
    let mut reached = Vec::new();
    let mut size = 0;
    for (agent, seq) in latest {
        reached.push((agent, seq));
        // An agent's pair as the notice writes it: two numbers of at most 20 digits each.
        size += 42;
        if size >= listen::MAX_PAYLOAD {
            let reached = std::mem::take(&mut reached);
            out.push(Notice::Events { node, at, reached }.encode());
            size = 0;
        }
    }
    if !reached.is_empty() {
        out.push(Notice::Events { node, at, reached }.encode());
    }
    if invited {
        out.push(Notice::Invited.encode());
    }
    out
}

impl Cluster {
    /// Joins the nodes serving the store (on PostgreSQL: records this node, listens to the
    /// others, learns who is online on them, and takes part in choosing the timers' node).
    /// `timeout` is how long a silent node is still taken for alive.
    pub async fn join(
        store: Store,
        registry: Arc<Registry>,
        timeout: Duration,
    ) -> anyhow::Result<Arc<Self>> {
        let sqlite = store.dialect() == Dialect::Sqlite;
        let node = if sqlite {
            0
        } else {
            let now = now_millis();
            store
                .value(statement!(
                    "INSERT INTO hub_nodes (started_at, seen_at, version) VALUES ($1, $1, $2)
                     RETURNING id",
                    now,
                    crate::HUB_VERSION,
                ))
                .await?
        };
        let cluster = Arc::new(Self {
            store,
            registry,
            node,
            timers: watch::Sender::new(sqlite),
            invited: Notify::new(),
            timeout,
            lag: Histogram::default(),
            live_nodes: AtomicI64::new(1),
            tasks: std::sync::Mutex::new(Vec::new()),
        });
        if let Store::Postgres(pool) = &cluster.store {
            let listener = Listener::start(pool).await?;
            cluster.learn_presence().await?;
            let tasks = vec![
                tokio::spawn(cluster.clone().listen(listener)),
                tokio::spawn(cluster.clone().keep_alive()),
                tokio::spawn(cluster.clone().hold_timers()),
            ];
            cluster.lock_tasks().extend(tasks);
            tracing::info!(node, "joined the nodes serving this database");
        }
        Ok(cluster)
    }

    fn lock_tasks(&self) -> std::sync::MutexGuard<'_, Vec<JoinHandle<()>>> {
        self.tasks.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// This node's number.
    pub fn node(&self) -> i64 {
        self.node
    }

    /// Whether this node runs the timers, and its changes.
    pub fn timers(&self) -> watch::Receiver<bool> {
        self.timers.subscribe()
    }

    /// Resolves when an invitation was made, here or on another node.
    pub async fn invitation_made(&self) {
        self.invited.notified().await;
    }

    /// An invitation was made here (the others hear of it at the commit).
    pub fn invited(&self) {
        self.invited.notify_one();
    }

    /// The delays between another node's commit and this node hearing of it.
    pub fn lag(&self) -> latency::Reading {
        self.lag.read()
    }

    /// Whether this node runs the timers now.
    pub fn runs_timers(&self) -> bool {
        *self.timers.borrow()
    }

    /// The live nodes, when this node holds the timers (it counts them); `None` otherwise.
    pub fn live_nodes(&self) -> Option<i64> {
        self.runs_timers()
            .then(|| self.live_nodes.load(Ordering::Relaxed))
    }

    /// Whether other nodes serve the store and said they were alive within the time-out.
    pub async fn others_alive(&self) -> sqlx::Result<bool> {
        if self.store.dialect() != Dialect::Postgres {
            return Ok(false);
        }
        let cutoff = now_millis() - i64::try_from(self.timeout.as_millis()).unwrap_or(i64::MAX);
        let others: i64 = self
            .store
            .value(statement!(
                "SELECT count(*) FROM hub_nodes WHERE id <> $1 AND seen_at >= $2",
                self.node,
                cutoff
            ))
            .await?;
        Ok(others > 0)
    }

    /// The agent is now online on this node, with the presence it chose.
    pub async fn online(&self, agent: i64, chosen: Presence) {
        if self.store.dialect() != Dialect::Postgres {
            return;
        }
        let recorded = statement!(
            "INSERT INTO node_agents (node_id, agent_id) VALUES ($1, $2) ON CONFLICT DO NOTHING",
            self.node,
            agent,
        );
        if let Err(e) = self.store.execute(recorded).await {
            tracing::warn!(error = %e, agent, "cannot record an agent online on this node");
        }
        self.tell_presence(agent, Some(chosen)).await;
    }

    /// Sets the presence an agent chose, and tells it to their devices and followers on every
    /// node.
    pub async fn choose(&self, agent: i64, chosen: Presence) -> Result<(), Refusal> {
        presence::choose(&self.store, &self.registry, agent, chosen).await?;
        self.tell_presence(agent, Some(chosen)).await;
        Ok(())
    }

    /// The agent is no longer online on this node.
    pub async fn offline(&self, agent: i64) {
        if self.store.dialect() != Dialect::Postgres {
            return;
        }
        let forgotten = statement!(
            "DELETE FROM node_agents WHERE node_id = $1 AND agent_id = $2",
            self.node,
            agent,
        );
        if let Err(e) = self.store.execute(forgotten).await {
            tracing::warn!(error = %e, agent, "cannot record an agent gone from this node");
        }
        self.tell_presence(agent, None).await;
    }

    /// Leaves the nodes as the hub stops: its agents show offline at once on the others.
    pub async fn leave(&self) {
        for task in self.lock_tasks().drain(..) {
            task.abort();
        }
        if self.store.dialect() != Dialect::Postgres {
            return;
        }
        let gone = statement!("DELETE FROM hub_nodes WHERE id = $1", self.node);
        if let Err(e) = self.store.execute(gone).await {
            tracing::warn!(error = %e, "cannot record this node's leaving");
        }
        self.tell(Notice::Gone { node: self.node }).await;
    }

    /// Tells the other nodes that the agent is online here with this presence, or (`None`)
    /// no longer here. Nobody to tell on SQLite.
    async fn tell_presence(&self, agent: i64, presence: Option<Presence>) {
        if self.store.dialect() == Dialect::Postgres {
            let node = self.node;
            self.tell(Notice::Presence {
                node,
                agent,
                presence,
            })
            .await;
        }
    }

    async fn tell(&self, notice: Notice) {
        if let Err(e) = self.store.execute(listen::notify(notice.encode())).await {
            tracing::warn!(error = %e, "cannot notify the other nodes");
        }
    }

    /// Reads who is online on the other live nodes, and tells this node's devices of every
    /// presence that changed from what this node knew.
    async fn learn_presence(&self) -> sqlx::Result<()> {
        let rows: Vec<(i64, i64, String)> = self
            .store
            .all(statement!(
                "SELECT n.node_id, n.agent_id, a.presence FROM node_agents n
                   JOIN agents a ON a.id = n.agent_id WHERE n.node_id <> $1",
                self.node
            ))
            .await?;
        let online = rows
            .into_iter()
            .map(|(node, agent, chosen)| (node, agent, presence::parse(&chosen)))
            .collect();
        for (agent, presence) in self.registry.replace_remote(online) {
            self.registry.broadcast_presence(agent, presence);
        }
        Ok(())
    }

    /// Acts on the other nodes' notifications; after the listening connection was lost,
    /// reads what it may have missed.
    async fn listen(self: Arc<Self>, mut listener: Listener) {
        loop {
            match listener.next().await {
                Ok(Some(payload)) => match Notice::decode(&payload) {
                    Some(notice) => self.heard(notice),
                    // A node of another version may say more than this one reads: what it
                    // said is in the tables all the same.
                    None => {
                        tracing::warn!(%payload, "a notification this node cannot read");
                        self.catch_up().await;
                    }
                },
                Ok(None) => {
                    tracing::warn!("lost the notifications connection; reading what was missed");
                    self.catch_up().await;
                }
                Err(e) => {
                    if self.store.is_closed() {
                        return;
                    }
                    tracing::warn!(error = %e, "cannot listen to the other nodes");
                    tokio::time::sleep(LISTEN_RETRY).await;
                    self.catch_up().await;
                }
            }
        }
    }

    fn heard(&self, notice: Notice) {
        match notice {
            Notice::Events { node, .. } | Notice::Presence { node, .. } if node == self.node => {}
            Notice::Events { at, reached, .. } => {
                // Clocks of different machines may differ a little: a commit "later" than
                // now counts as no delay.
                let lag = u64::try_from(now_millis() - at).unwrap_or(0);
                self.lag.observe(Duration::from_millis(lag));
                for (agent, seq) in reached {
                    self.registry.committed_elsewhere(agent, seq);
                }
            }
            Notice::Presence {
                node,
                agent,
                presence,
            } => {
                let changed = match presence {
                    Some(chosen) => self.registry.online_on(node, agent, chosen),
                    None => self.registry.offline_on(node, agent),
                };
                if let Some(presence) = changed {
                    self.registry.broadcast_presence(agent, presence);
                }
            }
            Notice::Gone { node } => {
                for (agent, presence) in self.registry.node_gone(node) {
                    self.registry.broadcast_presence(agent, presence);
                }
            }
            Notice::Invited => self.invited.notify_one(),
        }
    }

    /// What a node that may have missed notifications does: reads every connected agent's
    /// latest event number and who is online elsewhere, and wakes the timers.
    async fn catch_up(&self) {
        for agent in self.registry.connected_agents() {
            match crate::services::sessions::last_seq(&self.store, agent).await {
                Ok(seq) => self.registry.committed_elsewhere(agent, seq),
                Err(e) => tracing::warn!(error = %e, agent, "cannot read an agent's events"),
            }
        }
        if let Err(e) = self.learn_presence().await {
            tracing::warn!(error = %e, "cannot read who is online on the other nodes");
        }
        self.invited.notify_one();
    }

    fn beat(&self) -> Duration {
        (self.timeout / 5).max(Duration::from_millis(200))
    }

    /// Says this node is alive; a node the others took for dead (it was silent too long)
    /// records itself and its agents again.
    async fn keep_alive(self: Arc<Self>) {
        let mut every = tokio::time::interval(self.beat());
        loop {
            every.tick().await;
            let seen = statement!(
                "UPDATE hub_nodes SET seen_at = $1 WHERE id = $2",
                now_millis(),
                self.node
            );
            match self.store.execute(seen).await {
                Ok(0) => self.come_back().await,
                Ok(_) => {}
                Err(e) if self.store.is_closed() => {
                    tracing::debug!(error = %e, "the node stops saying it is alive");
                    return;
                }
                Err(e) => tracing::warn!(error = %e, "cannot say this node is alive"),
            }
        }
    }

    async fn come_back(&self) {
        tracing::warn!(
            node = self.node,
            "the other nodes took this node for dead; recording it again"
        );
        let now = now_millis();
        let recorded = statement!(
            "INSERT INTO hub_nodes (id, started_at, seen_at, version)
             OVERRIDING SYSTEM VALUE VALUES ($1, $2, $2, $3)",
            self.node,
            now,
            crate::HUB_VERSION,
        );
        if let Err(e) = self.store.execute(recorded).await {
            return tracing::warn!(error = %e, "cannot record this node again");
        }
        for agent in self.registry.online_here() {
            let chosen = presence::chosen(&self.store, agent)
                .await
                .unwrap_or(Presence::Ready);
            self.online(agent, chosen).await;
        }
    }

    /// Takes the timers when no other node holds them, and holds them while its connection
    /// lasts; meanwhile forgets the nodes that went silent.
    async fn hold_timers(self: Arc<Self>) {
        let mut held: Option<Own> = None;
        loop {
            tokio::time::sleep(self.beat()).await;
            if self.store.is_closed() {
                return;
            }
            held = match held.take() {
                Some(mut conn) => match conn
                    .conn()
                    .value::<i64>(statement!("SELECT CAST(1 AS BIGINT)"))
                    .await
                {
                    Ok(_) => Some(conn),
                    Err(e) => {
                        tracing::warn!(error = %e, "lost the timers' lock");
                        self.timers.send_replace(false);
                        None
                    }
                },
                None => self.try_take_timers().await,
            };
            if held.is_some() {
                self.forget_silent_nodes().await;
            }
        }
    }

    async fn try_take_timers(&self) -> Option<Own> {
        let mut conn = match self.store.connect().await {
            Ok(conn) => conn,
            Err(e) => {
                tracing::warn!(error = %e, "cannot connect to take the timers");
                return None;
            }
        };
        let taken = conn
            .conn()
            .value::<bool>(statement!("SELECT pg_try_advisory_lock($1)", TIMERS_LOCK))
            .await;
        match taken {
            Ok(true) => {
                tracing::info!(node = self.node, "this node runs the timers");
                self.timers.send_replace(true);
                Some(conn)
            }
            Ok(false) => {
                let _ = conn.close().await;
                None
            }
            Err(e) => {
                tracing::warn!(error = %e, "cannot take the timers");
                None
            }
        }
    }

    /// Forgets the nodes silent for longer than the time-out, with their agents, and tells
    /// every node.
    async fn forget_silent_nodes(&self) {
        let cutoff = now_millis() - i64::try_from(self.timeout.as_millis()).unwrap_or(i64::MAX);
        let gone: sqlx::Result<Vec<(i64,)>> = self
            .store
            .all(statement!(
                "DELETE FROM hub_nodes WHERE seen_at < $1 AND id <> $2 RETURNING id",
                cutoff,
                self.node
            ))
            .await;
        match gone {
            Ok(gone) => {
                for (node,) in gone {
                    tracing::warn!(node, "a node went silent: its agents show offline");
                    self.tell(Notice::Gone { node }).await;
                }
            }
            Err(e) => tracing::warn!(error = %e, "cannot forget the silent nodes"),
        }
        match self
            .store
            .value::<i64>(statement!("SELECT count(*) FROM hub_nodes"))
            .await
        {
            Ok(n) => self.live_nodes.store(n, Ordering::Relaxed),
            Err(e) => tracing::debug!(error = %e, "cannot count the nodes"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_commits_notices_name_each_agent_once_with_its_latest_number_within_the_payload() {
        // Many agents, each numbered twice, in no order.
        let events: Vec<(i64, i64)> = (0..2_000)
            .flat_map(|a| [(10_000_000_000 + a, 7), (10_000_000_000 + a, 9_000_000_000)])
            .rev()
            .collect();
        let payloads = commit_payloads(3, &events, true);
        let mut seen = BTreeMap::new();
        let mut invited = 0;
        for payload in &payloads {
            assert!(payload.len() < 8_000, "{} bytes", payload.len());
            match Notice::decode(payload) {
                Some(Notice::Events { node, reached, .. }) => {
                    assert_eq!(node, 3);
                    for (agent, seq) in reached {
                        assert!(seen.insert(agent, seq).is_none(), "agent {agent} twice");
                    }
                }
                Some(Notice::Invited) => invited += 1,
                _ => panic!("an unexpected notice: {payload}"),
            }
        }
        assert_eq!(invited, 1);
        assert_eq!(seen.len(), 2_000);
        assert!(seen.values().all(|&seq| seq == 9_000_000_000));
    }
}
