//! The Team Communicator's data: searching internal targets, favorites and recent targets.

use huddle_protocol::{DirectoryEntry, DirectoryFilter, EntryKind};

use crate::services::fold::fold;
use crate::services::registry::Registry;
use crate::store::now_millis;
use crate::store::sql::{statement, Dialect, Store};

/// Entries a search returns when the client names no limit.
pub const DEFAULT_LIMIT: u32 = 50;
/// The most entries a search returns.
pub const MAX_LIMIT: u32 = 200;
/// How far back "recent" looks.
const RECENT_WINDOW_MS: i64 = 30 * 24 * 3600 * 1000;
/// How many recent targets an agent has at most.
const RECENT_COUNT: usize = 20;

#[derive(sqlx::FromRow)]
struct Candidate {
    id: i64,
    login: String,
    display_name: String,
    favorite: bool,
    recent_at: Option<i64>,
}

/// How well an entry matches: lower is better.
fn rank(query: &str, name: &str, login: &str) -> Option<u8> {
    if query.is_empty() {
        return Some(1);
    }
    let (name, login) = (fold(name), fold(login));
    let prefix = name.starts_with(query)
        || login.starts_with(query)
        || name.split_whitespace().any(|w| w.starts_with(query));
    if prefix {
        Some(0)
    } else if name.contains(query) || login.contains(query) {
        Some(1)
    } else {
        None
    }
}

/// Searches the internal targets an agent may invite.
pub async fn search(
    db: &Store,
    registry: &Registry,
    agent_id: i64,
    query: &str,
    filter: DirectoryFilter,
    limit: Option<u32>,
) -> sqlx::Result<Vec<DirectoryEntry>> {
    let query = fold(query.trim());
    let limit = limit.unwrap_or(DEFAULT_LIMIT).min(MAX_LIMIT) as usize;
    let since = now_millis() - RECENT_WINDOW_MS;
    let mut candidates: Vec<Candidate> = db
        .all(statement!(
            "SELECT a.id, a.login, a.display_name,
                    EXISTS (SELECT 1 FROM favorites f WHERE f.agent_id = $1 AND f.target_id = a.id) AS favorite,
                    (SELECT max(s.created_at) FROM im_sessions s
                      WHERE s.created_at >= $2
                        AND ((s.inviter = $1 AND s.target = a.id) OR (s.target = $1 AND s.inviter = a.id))) AS recent_at
               FROM agents a
              WHERE a.id <> $1 AND a.disabled = 0 AND a.im_enabled = 1",
            agent_id,
            since,
        ))
        .await?;
    // Only the latest few count as recent.
    let mut recents: Vec<(i64, i64)> = candidates
        .iter()
        .filter_map(|c| c.recent_at.map(|at| (at, c.id)))
        .collect();
    recents.sort_unstable_by(|a, b| b.cmp(a));
    recents.truncate(RECENT_COUNT);
    for c in &mut candidates {
        if !recents.iter().any(|(_, id)| *id == c.id) {
            c.recent_at = None;
        }
    }
    let mut ranked: Vec<((u8, bool, bool, String), DirectoryEntry)> = candidates
        .into_iter()
        .filter(|c| match filter {
            DirectoryFilter::All => true,
            DirectoryFilter::Favorites => c.favorite,
            DirectoryFilter::Recent => c.recent_at.is_some(),
        })
        .filter_map(|c| {
            let r = rank(&query, &c.display_name, &c.login)?;
            let key = (r, !c.favorite, c.recent_at.is_none(), fold(&c.display_name));
            Some((
                key,
                DirectoryEntry {
                    kind: EntryKind::Agent,
                    id: c.id,
                    name: c.display_name,
                    login: c.login,
                    presence: Some(registry.presence(c.id)),
                    favorite: c.favorite,
                    recent_at: c.recent_at,
                },
            ))
        })
        .collect();
    if filter == DirectoryFilter::All {
        let groups: Vec<(i64, String)> = db
            .all(statement!("SELECT id, name FROM agent_groups"))
            .await?;
        for (id, name) in groups {
            if let Some(r) = rank(&query, &name, "") {
                ranked.push((
                    (r, true, true, fold(&name)),
                    DirectoryEntry {
                        kind: EntryKind::Group,
                        id,
                        name,
                        login: String::new(),
                        presence: None,
                        favorite: false,
                        recent_at: None,
                    },
                ));
            }
        }
    }
    ranked.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(ranked.into_iter().take(limit).map(|(_, e)| e).collect())
}

/// Those of `ids` that are agents, each once, in the order given.
pub async fn existing(db: &Store, ids: &[i64]) -> sqlx::Result<Vec<i64>> {
    let wanted = serde_json::to_string(ids).unwrap_or_else(|_| "[]".into());
    // The ids go as one JSON array, however many they are.
    let query = match db.dialect() {
        Dialect::Sqlite => statement!(
            "SELECT a.id FROM json_each($1) AS j JOIN agents AS a ON a.id = j.value
             GROUP BY a.id ORDER BY min(j.key)",
            wanted
        ),
        Dialect::Postgres => statement!(
            "SELECT a.id FROM json_array_elements_text(CAST($1 AS json)) WITH ORDINALITY AS j (value, n)
               JOIN agents AS a ON a.id = CAST(j.value AS BIGINT)
             GROUP BY a.id ORDER BY min(j.n)",
            wanted
        ),
    };
    let rows: Vec<(i64,)> = db.all(query).await?;
    Ok(rows.into_iter().map(|(id,)| id).collect())
}

/// Whether an agent can be invited (and so marked as a favorite).
pub async fn is_target(db: &Store, agent_id: i64) -> sqlx::Result<bool> {
    db.value(statement!(
        "SELECT EXISTS (SELECT 1 FROM agents WHERE id = $1 AND disabled = 0 AND im_enabled = 1)",
        agent_id
    ))
    .await
}

/// Marks or unmarks a favorite.
pub async fn set_favorite(
    db: &Store,
    agent_id: i64,
    target: i64,
    favorite: bool,
) -> sqlx::Result<()> {
    let change = if favorite {
        statement!(
            "INSERT INTO favorites (agent_id, target_id) VALUES ($1, $2) ON CONFLICT DO NOTHING",
            agent_id,
            target,
        )
    } else {
        statement!(
            "DELETE FROM favorites WHERE agent_id = $1 AND target_id = $2",
            agent_id,
            target,
        )
    };
    db.execute(change).await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::rank;

    #[test]
    fn prefixes_rank_before_inner_matches() {
        assert_eq!(rank("ma", "Chloé Martin", "chloe"), Some(0));
        assert_eq!(rank("chloe", "Chloé Martin", "cm"), Some(0));
        assert_eq!(rank("art", "Chloé Martin", "chloe"), Some(1));
        assert_eq!(rank("zz", "Chloé Martin", "chloe"), None);
        assert_eq!(rank("", "Anyone", "any"), Some(1));
    }
}
