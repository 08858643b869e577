//! Reads from the store the events an agent's devices on this node lack: those another node
//! committed (it notified their numbers), or those whose notification was missed. The
//! registry asks (see `registry`), and delivers what is read in order. One task reads for
//! every agent behind at the time, in one statement: under load, the agents of many
//! notifications are read together.

use std::collections::HashMap;
use std::sync::Arc;

use crate::services::registry::{Behind, Outgoing, Registry};
use crate::store::sql::{statement, Dialect, Statement, Store};

/// How many of one agent's events one read takes.
const READ_AT_ONCE: i64 = 500;

/// How many agents one read serves.
const AGENTS_AT_ONCE: usize = 512;

/// Reads missing events whenever the registry asks, until the store closes.
pub fn start(store: Store, registry: Arc<Registry>, mut behind: Behind) {
    tokio::spawn(async move {
        let mut agents = Vec::with_capacity(AGENTS_AT_ONCE);
        while behind.recv_many(&mut agents, AGENTS_AT_ONCE).await > 0 {
            if store.is_closed() {
                return;
            }
            catch_up(&store, &registry, std::mem::take(&mut agents)).await;
        }
    });
}

/// Reads and delivers these agents' missing events until none are missing.
async fn catch_up(store: &Store, registry: &Registry, mut agents: Vec<i64>) {
    loop {
        let wanted: Vec<(i64, i64, i64)> = agents
            .iter()
            .filter_map(|&agent| {
                let (after, upto) = registry.missing(agent)?;
                Some((agent, after, upto.min(after + READ_AT_ONCE)))
            })
            .collect();
        if wanted.is_empty() {
            return;
        }
        let mut read = match read(store, &wanted).await {
            Ok(read) => read,
            Err(e) => {
                tracing::warn!(error = %e, "cannot read agents' events");
                for (agent, ..) in wanted {
                    registry.stop_reading(agent);
                }
                return;
            }
        };
        agents.clear();
        for (agent, after, upto) in wanted {
            match read.remove(&agent) {
                Some(frames) => {
                    registry.deliver_read(agent, &frames);
                    agents.push(agent);
                }
                None => {
                    tracing::warn!(agent, after, upto, "events notified but not found");
                    registry.stop_reading(agent);
                }
            }
        }
    }
}

/// The events of each (agent, after, up to), by agent, in order.
async fn read(
    store: &Store,
    wanted: &[(i64, i64, i64)],
) -> sqlx::Result<HashMap<i64, Vec<Outgoing>>> {
    // One agent behind, as at a quiet moment: the plain statement costs the server less than
    // unpacking a list.
    let rows: Vec<(i64, i64, String)> = if let [(agent, after, upto)] = *wanted {
        store
            .all(statement!(
                "SELECT agent_id, seq, body FROM events
                  WHERE agent_id = $1 AND seq > $2 AND seq <= $3 ORDER BY seq",
                agent,
                after,
                upto,
            ))
            .await?
    } else {
        store.all(ranges_query(store.dialect(), wanted)).await?
    };
    let mut by_agent: HashMap<i64, Vec<Outgoing>> = HashMap::new();
    for (agent, seq, body) in rows {
        by_agent.entry(agent).or_default().push(Outgoing {
            seq: Some(seq),
            text: body.into(),
        });
    }
    Ok(by_agent)
}

/// The statement that reads each (agent, after, up to) of `wanted` at once.
fn ranges_query(dialect: Dialect, wanted: &[(i64, i64, i64)]) -> Statement {
    let ranges = serde_json::Value::from(
        wanted
            .iter()
            .map(|&(agent, after, upto)| serde_json::json!([agent, after, upto]))
            .collect::<Vec<_>>(),
    )
    .to_string();
    match dialect {
        Dialect::Sqlite => statement!(
            "SELECT e.agent_id, e.seq, e.body FROM json_each($1) w
               JOIN events e ON e.agent_id = w.value ->> 0
                            AND e.seq > w.value ->> 1 AND e.seq <= w.value ->> 2
              ORDER BY e.agent_id, e.seq",
            ranges
        ),
        Dialect::Postgres => statement!(
            "SELECT e.agent_id, e.seq, e.body FROM json_array_elements($1::json) w
               JOIN events e ON e.agent_id = (w ->> 0)::bigint
                            AND e.seq > (w ->> 1)::bigint AND e.seq <= (w ->> 2)::bigint
              ORDER BY e.agent_id, e.seq",
            ranges
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::services::accounts;

    async fn read_one(store: &Store, wanted: (i64, i64, i64)) -> Vec<String> {
        let mut read = read(store, &[wanted]).await.unwrap();
        read.remove(&wanted.0)
            .map(|frames| frames.iter().map(|f| f.text.to_string()).collect())
            .unwrap_or_default()
    }

    #[tokio::test]
    async fn each_agents_range_is_read_in_order_and_nothing_beside_it() {
        let both = crate::store::test_stores().await;
        for store in &both.stores {
            let mut ids = Vec::new();
            for login in ["ana", "ben", "cho"] {
                let account = accounts::add(store, login, login, "a-password-long-enough")
                    .await
                    .unwrap();
                ids.push(account.id);
                for seq in 1..=6 {
                    store
                        .execute(statement!(
                            "INSERT INTO events (agent_id, seq, at, body) VALUES ($1, $2, 0, $3)",
                            account.id,
                            seq,
                            format!("{login}-{seq}"),
                        ))
                        .await
                        .unwrap();
                }
            }
            let (ana, ben, cho) = (ids[0], ids[1], ids[2]);
            let read = read(store, &[(ana, 2, 4), (cho, 0, 2), (ben, 6, 9)])
                .await
                .unwrap();
            let alone = read_one(store, (ana, 4, 6)).await;
            assert_eq!(alone, ["ana-5", "ana-6"], "{:?}", store.dialect());
            assert!(read_one(store, (ben, 6, 9)).await.is_empty());
            let texts = |agent| -> Vec<String> {
                read.get(&agent)
                    .map(|frames| frames.iter().map(|f| f.text.to_string()).collect())
                    .unwrap_or_default()
            };
            assert_eq!(texts(ana), ["ana-3", "ana-4"], "{:?}", store.dialect());
            assert_eq!(texts(cho), ["cho-1", "cho-2"], "{:?}", store.dialect());
            assert!(texts(ben).is_empty(), "{:?}", store.dialect());
        }
    }
}
