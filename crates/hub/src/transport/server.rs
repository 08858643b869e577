//! The hub's HTTP side: the WebSocket endpoint, the integration API, /healthz, and running
//! it all.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use axum::extract::ws::WebSocketUpgrade;
use axum::extract::{Extension, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use tokio::sync::{mpsc, watch, Notify};
use tokio::task::JoinHandle;

use crate::config::Config;
use crate::services::cluster::Cluster;
use crate::services::hashing::Hashing;
use crate::services::registry::Registry;
use crate::services::telephony::{SimulatedSwitch, Telephony};
use crate::services::throttle::{AgentBudgets, InviteWindow, LoginThrottle};
use crate::services::writer::Writer;
use crate::services::{clock, consultations, delivery, housekeeping, sessions};
use crate::store::health::{self, StoreHealth};
use crate::transport::listener::{self, Deadlines, Place, Places};
use crate::transport::metrics::{Metrics, NodeReadings, Readings};
use crate::transport::shared::Shared;
use crate::transport::tls::TlsCertificate;
use crate::transport::{connection, integration_api};

/// Each connection's WebSocket read buffer.
pub const READ_BUFFER_BYTES: usize = 512;

/// How long a stopping hub waits for its connections to close.
const CONNECTIONS_CLOSE_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

/// A hub running inside this process.
pub struct RunningHub {
    /// The address it listens on (with the real port when the config asked for port 0).
    pub addr: SocketAddr,
    /// The listener's certificate, when it speaks TLS.
    tls: Option<Arc<TlsCertificate>>,
    stop: Arc<Notify>,
    task: JoinHandle<anyhow::Result<()>>,
}

/// Asks a running hub to stop; it may be used from another task.
#[derive(Clone)]
pub struct Stopper(Arc<Notify>);

impl Stopper {
    /// Stops accepting connections; the hub's [`RunningHub::wait`] then returns.
    pub fn stop(&self) {
        self.0.notify_one();
    }
}

impl RunningHub {
    /// The WebSocket URL clients connect to (`wss://` when the hub speaks TLS).
    pub fn ws_url(&self) -> String {
        let scheme = if self.tls.is_some() { "wss" } else { "ws" };
        format!("{scheme}://{}{}", self.addr, huddle_protocol::WS_PATH)
    }

    /// The listener's certificate when the hub speaks TLS; reload it after a renewal with
    /// [`TlsCertificate::reload`].
    pub fn certificate(&self) -> Option<Arc<TlsCertificate>> {
        self.tls.clone()
    }

    /// A handle that stops this hub.
    pub fn stopper(&self) -> Stopper {
        Stopper(self.stop.clone())
    }

    /// Stops accepting connections and waits for the server to finish.
    pub async fn stop(self) -> anyhow::Result<()> {
        self.stopper().stop();
        self.wait().await
    }

    /// Waits until the server ends: after a stop, or on an error.
    pub async fn wait(self) -> anyhow::Result<()> {
        self.task.await?
    }
}

/// Opens the database, binds the listen address and serves until stopped, with the built-in
/// simulated switch for voice consultations.
pub async fn start(config: Config) -> anyhow::Result<RunningHub> {
    start_with_switch(config, Arc::new(SimulatedSwitch::new())).await
}

/// [`start`] with another telephony switch.
pub async fn start_with_switch(
    config: Config,
    switch: Arc<dyn Telephony>,
) -> anyhow::Result<RunningHub> {
    config.check()?;
    let tls = match config.tls_files() {
        Some((certificate, key)) => Some(Arc::new(TlsCertificate::load(certificate, key)?)),
        None => None,
    };
    let store = crate::store::open_configured(&config).await?;
    let listener = tokio::net::TcpListener::bind(config.listen)
        .await
        .with_context(|| format!("cannot listen on {}", config.listen))?;
    let addr = listener.local_addr()?;
    let (stopping_tx, stopping) = watch::channel(false);
    let (alive, mut all_gone) = mpsc::channel::<()>(1);
    let (registry, behind) = Registry::new();
    let registry = Arc::new(registry);
    let timeout = Duration::from_secs(config.node_timeout_secs);
    let cluster = Cluster::join(store.clone(), registry.clone(), timeout).await?;
    delivery::start(store.clone(), registry.clone(), behind);
    // Consultations left waiting for the switch are a stopped hub's; another node's may be
    // under way.
    if !cluster.others_alive().await? {
        let settled = consultations::recover(&store, crate::store::now_millis()).await?;
        if settled > 0 {
            tracing::info!(
                settled,
                "voice consultations left waiting for the switch settled"
            );
        }
    }
    // The built-in switch keeps its calls in memory; those of unfinished consultations come
    // back from the database.
    let restored = consultations::restore(&store, switch.as_ref()).await?;
    if restored > 0 {
        tracing::info!(
            restored,
            "voice consultations restored on the simulated switch"
        );
    }
    if config.integration_token.is_none() {
        tracing::info!("no integration_token: the integration API is off");
    }
    let health = Arc::new(StoreHealth::default());
    let writer = Writer::start(
        store.clone(),
        registry.clone(),
        cluster.clone(),
        config.clone(),
        switch,
        health.clone(),
    );
    let stopped_writer = writer.clone();
    let store_to_close = store.clone();
    let left_cluster = cluster.clone();
    let invitation_clock = clock::start(store.clone(), writer.clone(), cluster.clone());
    housekeeping::start(store.clone(), config.event_retention_days, cluster.timers());
    housekeeping::watch_accounts(store.clone(), registry.clone()).await?;
    let history = crate::store::history(&store).await?;
    let limits = config.limits.clone();
    let counters = Arc::new(Metrics::default());
    // By default one core stays free of hashing, so that messages keep moving while a shift
    // change or a password guesser keeps the hashers busy.
    let hashers = match limits.password_hashers {
        0 => std::thread::available_parallelism()
            .map_or(1, usize::from)
            .saturating_sub(1)
            .max(1),
        n => n as usize,
    };
    let hashing = Hashing::start(hashers, limits.password_queue as usize)?;
    let places = Places::new(limits.max_connections, limits.max_connections_per_address);
    let shared = Arc::new(Shared {
        store,
        history,
        config,
        registry,
        cluster,
        writer,
        health,
        login_throttle: Arc::new(LoginThrottle::default()),
        hashing,
        invites: InviteWindow::default(),
        budgets: AgentBudgets::default(),
        metrics: counters.clone(),
        places: places.clone(),
        stopping,
        _alive: alive,
    });
    let app = Router::new()
        .route(huddle_protocol::WS_PATH, get(ws_upgrade))
        .route("/healthz", get(healthz))
        .route("/metrics", get(metrics))
        .merge(integration_api::routes(shared.clone()))
        .with_state(shared);
    let stop = Arc::new(Notify::new());
    let stopped = stop.clone();
    let shutdown = async move {
        stopped.notified().await;
        let _ = stopping_tx.send(true);
    };
    let tls_config = tls.clone().map(crate::transport::tls::server_config);
    let deadlines = Deadlines {
        handshake: Duration::from_secs(limits.tls_handshake_secs.max(1)),
        request_head: Duration::from_secs(limits.request_head_secs.max(1)),
    };
    let task = tokio::spawn(async move {
        listener::serve(
            listener, tls_config, app, places, deadlines, counters, shutdown,
        )
        .await;
        // Open WebSocket connections outlive the HTTP server: wait for them to say goodbye.
        if tokio::time::timeout(CONNECTIONS_CLOSE_TIMEOUT, all_gone.recv())
            .await
            .is_err()
        {
            tracing::warn!("some connections did not close in time");
        }
        invitation_clock.abort();
        left_cluster.leave().await;
        stopped_writer.stop().await;
        store_to_close.close().await;
        tracing::info!("hub stopped");
        Ok(())
    });
    tracing::info!(%addr, tls = tls.is_some(), "hub listening");
    Ok(RunningHub {
        addr,
        tls,
        stop,
        task,
    })
}

async fn ws_upgrade(
    State(shared): State<Arc<Shared>>,
    Extension(place): Extension<Arc<Place>>,
    upgrade: WebSocketUpgrade,
) -> Response {
    // Frames a little over the limit are still read whole so that the client gets a
    // `frame_too_large` answer; far larger ones end the connection.
    let hard_limit = shared
        .config
        .limits
        .max_frame_bytes
        .saturating_mul(4)
        .max(4096);
    upgrade
        .max_message_size(hard_limit)
        .max_frame_size(hard_limit)
        // The read buffer is zeroed to its full size: the default 128 KiB would cost every
        // connected agent that much. Frames are small; a larger one grows it for a moment.
        .read_buffer_size(READ_BUFFER_BYTES)
        .on_upgrade(move |socket| connection::run(shared, socket, place))
}

async fn healthz(State(shared): State<Arc<Shared>>) -> Response {
    if let Some(why) = shared.health.failure() {
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(serde_json::json!({"status": "cannot store changes", "error": why})),
        )
            .into_response();
    }
    match health::reachable(&shared.store).await {
        Ok(_) => {
            Json(serde_json::json!({"status": "ok", "version": crate::HUB_VERSION})).into_response()
        }
        Err(e) => {
            tracing::error!(error = %e, "health check: database unavailable");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                Json(serde_json::json!({"status": "database unavailable"})),
            )
                .into_response()
        }
    }
}

async fn metrics(State(shared): State<Arc<Shared>>) -> Response {
    match sessions::open_count_all(&shared.store).await {
        Ok(open_sessions) => {
            let now = Readings {
                held: shared.places.held(),
                limit: shared.config.limits.max_connections,
                devices: shared.registry.device_count(),
                open_sessions,
                store_failing: shared.health.failure().is_some(),
                free_bytes: health::store_free_bytes(&shared.store, &shared.config.database),
                node: NodeReadings {
                    timers: shared.cluster.runs_timers(),
                    live_nodes: shared.cluster.live_nodes(),
                    lag: shared.cluster.lag(),
                },
            };
            (
                [(
                    axum::http::header::CONTENT_TYPE,
                    "text/plain; version=0.0.4",
                )],
                shared.metrics.render(&now),
            )
                .into_response()
        }
        Err(e) => {
            tracing::error!(error = %e, "metrics: database unavailable");
            StatusCode::SERVICE_UNAVAILABLE.into_response()
        }
    }
}
