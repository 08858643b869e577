//! What the hub's connections and HTTP handlers share: the services, and transport's own
//! places, metrics and stop signal.

use std::sync::Arc;

use tokio::sync::{mpsc, watch};

use crate::config::Config;
use crate::services::cluster::Cluster;
use crate::services::hashing::Hashing;
use crate::services::registry::Registry;
use crate::services::throttle::{AgentBudgets, InviteWindow, LoginThrottle};
use crate::services::writer::Writer;
use crate::store::health::StoreHealth;
use crate::store::sql::Store;
use crate::transport::listener::Places;
use crate::transport::metrics::Metrics;

/// What every connection shares.
pub struct Shared {
    /// The store, through the interface both stores offer.
    pub store: Store,
    /// The name of the history that the agents' event numbers belong to.
    pub history: String,
    pub config: Config,
    pub registry: Arc<Registry>,
    /// This node among those serving the store.
    pub cluster: Arc<Cluster>,
    pub writer: Writer,
    /// Whether the writer can store changes.
    pub health: Arc<StoreHealth>,
    pub login_throttle: Arc<LoginThrottle>,
    /// Checks passwords, a few at a time.
    pub hashing: Hashing,
    pub invites: InviteWindow,
    /// Each agent's budgets of messages and costly reads, across their connections.
    pub budgets: AgentBudgets,
    pub metrics: Arc<Metrics>,
    /// The connections held, signed in or not.
    pub places: Arc<Places>,
    /// Turns true when the hub stops; connections then close with a reason.
    pub stopping: watch::Receiver<bool>,
    /// Dropped with the last `Shared`, which tells the stopping hub that every connection
    /// has finished.
    pub(in crate::transport) _alive: mpsc::Sender<()>,
}
