//! What the hub does by itself, on a clock: acting on accounts an administrator changed,
//! and forgetting what is past its retention (events, expired tokens, old account changes).

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;

use crate::services::accounts;
use crate::services::registry::{Registry, ACCOUNT_CHANGED};
use crate::services::tokens;
use crate::store::sql::{statement, Store};

/// How often the hub looks for accounts an administrator changed.
const ACCOUNT_WATCH_EVERY: Duration = Duration::from_millis(500);

/// Acts on accounts an administrator changed (from the command line, another process):
/// the agent's devices are closed, so that they sign in again under the account as it now
/// is, or not at all once their sessions were revoked.
pub async fn watch_accounts(db: Store, registry: Arc<Registry>) -> sqlx::Result<()> {
    let mut seen = accounts::last_change(&db).await?;
    tokio::spawn(async move {
        let mut every = tokio::time::interval(ACCOUNT_WATCH_EVERY);
        loop {
            every.tick().await;
            match accounts::changes_after(&db, seen).await {
                Ok((agents, last)) => {
                    for (agent_id, change) in agents {
                        tracing::info!(agent_id, "account changed: closing its connections");
                        registry.kick_agent(agent_id, change, ACCOUNT_CHANGED);
                    }
                    seen = last;
                }
                Err(e) if db.is_closed() => {
                    tracing::debug!(error = %e, "the account watch stops with the hub");
                    return;
                }
                Err(e) => tracing::warn!(error = %e, "cannot read the account changes"),
            }
        }
    });
    Ok(())
}

/// How many old events one statement forgets: each statement holds the database's write
/// lock, which the writer waits for, for about a millisecond.
const FORGET_AT_ONCE: i64 = 500;

/// Forgets the events older than `cutoff` a few at a time, so that the writer never waits
/// behind a deletion of millions of rows.
async fn forget_events_before(db: &Store, cutoff: i64) -> sqlx::Result<u64> {
    let mut forgotten = 0;
    loop {
        let deleted = db
            .execute(statement!(
                "DELETE FROM events WHERE (agent_id, seq) IN
                     (SELECT agent_id, seq FROM events WHERE at < $1 LIMIT $2)",
                cutoff,
                FORGET_AT_ONCE,
            ))
            .await?;
        forgotten += deleted;
        if deleted < FORGET_AT_ONCE as u64 {
            return Ok(forgotten);
        }
        tokio::task::yield_now().await;
    }
}

/// Forgets expired tokens and events past their retention, at start and then hourly, on the
/// node that runs the timers (`timers`; any node that takes them over starts at once).
pub fn start(db: Store, retention_days: u32, mut timers: watch::Receiver<bool>) {
    tokio::spawn(async move {
        let mut every = tokio::time::interval(Duration::from_secs(3600));
        loop {
            tokio::select! {
                _ = every.tick() => {}
                changed = timers.changed() => if changed.is_err() { return },
            }
            if !*timers.borrow_and_update() {
                continue;
            }
            let cutoff = crate::store::now_millis() - i64::from(retention_days) * 24 * 3600 * 1000;
            let events = forget_events_before(&db, cutoff).await;
            // The account watch reads the changes within a second; a day is plenty.
            let day_ago = crate::store::now_millis() - 24 * 3600 * 1000;
            let changes = statement!("DELETE FROM account_changes WHERE at < $1", day_ago);
            if let Err(e) = db.execute(changes).await {
                tracing::warn!(error = %e, "cannot forget old account changes");
            }
            let tokens = tokens::prune(&db).await;
            match (events, tokens) {
                (Ok(e), Ok(t)) => tracing::debug!(events = e, tokens = t, "housekeeping done"),
                (Err(e), _) | (_, Err(e)) => tracing::warn!(error = %e, "housekeeping failed"),
            }
        }
    });
}
