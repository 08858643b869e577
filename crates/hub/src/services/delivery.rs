//! Reads from the store the events an agent's devices on this node lack: those another node
//! committed (it notified their numbers), or those whose notification was missed. The
//! registry asks (see `registry`), and delivers what is read in order.

use std::sync::Arc;

use crate::services::registry::{Behind, Outgoing, Registry};
use crate::store::sql::{statement, Store};

/// How many events one read takes.
const READ_AT_ONCE: i64 = 500;

/// Reads missing events whenever the registry asks, until the store closes.
pub fn start(store: Store, registry: Arc<Registry>, mut behind: Behind) {
    tokio::spawn(async move {
        while let Some(agent) = behind.recv().await {
            if store.is_closed() {
                return;
            }
            tokio::spawn(catch_up(store.clone(), registry.clone(), agent));
        }
    });
}

/// Reads and delivers an agent's missing events until none are missing.
async fn catch_up(store: Store, registry: Arc<Registry>, agent: i64) {
    while let Some((after, upto)) = registry.missing(agent) {
        match read(&store, agent, after, upto).await {
            Ok(frames) if !frames.is_empty() => registry.deliver_read(agent, &frames),
            Ok(_) => {
                tracing::warn!(agent, after, upto, "events notified but not found");
                return registry.stop_reading(agent);
            }
            Err(e) => {
                tracing::warn!(error = %e, agent, "cannot read an agent's events");
                return registry.stop_reading(agent);
            }
        }
    }
}

async fn read(store: &Store, agent: i64, after: i64, upto: i64) -> sqlx::Result<Vec<Outgoing>> {
    let rows: Vec<(i64, String)> = store
        .all(statement!(
            "SELECT seq, body FROM events WHERE agent_id = $1 AND seq > $2 AND seq <= $3
              ORDER BY seq LIMIT $4",
            agent,
            after,
            upto,
            READ_AT_ONCE,
        ))
        .await?;
    Ok(rows
        .into_iter()
        .map(|(seq, body)| Outgoing {
            seq: Some(seq),
            text: body.into(),
        })
        .collect())
}
