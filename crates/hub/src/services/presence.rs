//! The presence an agent chooses: kept in the store, so that it survives the agent's
//! reconnections and the hub's restarts, and told to whoever follows the agent.

use huddle_protocol::Presence;
use sqlx::SqlitePool;

use crate::services::error::{Kind, Refusal};
use crate::services::registry::Registry;

/// Sets the presence an agent chose, and tells it to their devices and followers. Offline is
/// the hub's to say, not the agent's.
pub async fn choose(
    db: &SqlitePool,
    registry: &Registry,
    agent_id: i64,
    presence: Presence,
) -> Result<(), Refusal> {
    if presence == Presence::Offline {
        return Err(Refusal::new(
            Kind::InvalidPresence,
            "Offline is set by the hub when you disconnect",
        ));
    }
    sqlx::query("UPDATE agents SET presence = ? WHERE id = ?")
        .bind(name(presence))
        .bind(agent_id)
        .execute(db)
        .await
        .map_err(Refusal::internal)?;
    registry.choose(agent_id, presence);
    registry.broadcast_presence(agent_id, presence);
    Ok(())
}

/// The presence the agent last chose.
pub async fn chosen(db: &SqlitePool, agent_id: i64) -> sqlx::Result<Presence> {
    let stored: String = sqlx::query_scalar("SELECT presence FROM agents WHERE id = ?")
        .bind(agent_id)
        .fetch_one(db)
        .await?;
    Ok(parse(&stored))
}

fn parse(s: &str) -> Presence {
    match s {
        "not_ready" => Presence::NotReady,
        "busy" => Presence::Busy,
        "away" => Presence::Away,
        _ => Presence::Ready,
    }
}

fn name(p: Presence) -> &'static str {
    match p {
        Presence::Ready => "ready",
        Presence::NotReady => "not_ready",
        Presence::Busy => "busy",
        Presence::Away => "away",
        Presence::Offline => "offline",
    }
}
