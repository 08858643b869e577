//! Invitation time-outs, on the node that runs the timers: it reads the next invitation to
//! time out and ends it then, through its writer. Reading the time from the store (instead
//! of keeping one timer per invitation) lets any node take over the timers, and a hub that
//! restarts finds the invitations still pending.

use std::sync::Arc;
use std::time::Duration;

use crate::services::cluster::Cluster;
use crate::services::error::Kind;
use crate::services::writer::{Change, Writer};
use crate::store::now_millis;
use crate::store::sql::{statement, Store};

/// How many invitations one read takes.
const READ_AT_ONCE: i64 = 100;

/// How long the clock waits when no invitation is pending, before reading again anyway.
const IDLE: Duration = Duration::from_secs(30);

/// Starts the clock.
pub fn start(store: Store, writer: Writer, cluster: Arc<Cluster>) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut timers = cluster.timers();
        loop {
            if !*timers.borrow_and_update() {
                if timers.changed().await.is_err() {
                    return;
                }
                continue;
            }
            let next = match expire_due(&store, &writer).await {
                Ok(next) => next,
                Err(e) if store.is_closed() => {
                    return tracing::debug!(error = %e, "the invitation clock stops with the hub")
                }
                Err(e) => {
                    tracing::warn!(error = %e, "cannot read the pending invitations");
                    Some(now_millis() + 1000)
                }
            };
            let wait = next.map_or(IDLE, |at| {
                Duration::from_millis(u64::try_from(at - now_millis()).unwrap_or(0))
            });
            tokio::select! {
                () = tokio::time::sleep(wait) => {}
                () = cluster.invitation_made() => {}
                changed = timers.changed() => if changed.is_err() { return },
            }
        }
    })
}

/// Ends the invitations whose time is up; returns when the next one is due.
async fn expire_due(store: &Store, writer: &Writer) -> sqlx::Result<Option<i64>> {
    loop {
        let pending: Vec<(String, i64)> = store
            .all(statement!(
                "SELECT id, invite_expires_at FROM im_sessions WHERE state = 'inviting'
                  ORDER BY invite_expires_at LIMIT $1",
                READ_AT_ONCE
            ))
            .await?;
        let now = now_millis();
        let full = pending.len() as i64 == READ_AT_ONCE;
        for (session_id, at) in pending {
            if at > now {
                return Ok(Some(at));
            }
            match writer.change(Change::Expire { session_id }).await {
                // The store fails: try again in a moment.
                Err(refused) if refused.kind == Kind::Internal => return Ok(Some(now + 1000)),
                // One answered meanwhile is refused as in the wrong state: nothing to do.
                Err(refused) => {
                    tracing::debug!(reason = %refused.message, "an invitation did not time out")
                }
                Ok(_) => {}
            }
        }
        if !full {
            return Ok(None);
        }
    }
}
