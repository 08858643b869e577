//! The presence an agent chooses: kept in the store, so that it survives the agent's
//! reconnections and the hub's restarts, and told to whoever follows the agent.

use huddle_protocol::Presence;

use crate::services::error::{Kind, Refusal};
use crate::services::registry::Registry;
use crate::store::sql::{statement, Store};

/// Sets the presence an agent chose, and tells it to their devices and followers on this
/// node (`Cluster::choose` tells the other nodes too). Offline is
/// the hub's to say, not the agent's.
pub async fn choose(
    db: &Store,
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
    db.execute(statement!(
        "UPDATE agents SET presence = $1 WHERE id = $2",
        name(presence),
        agent_id,
    ))
    .await
    .map_err(Refusal::internal)?;
    registry.choose(agent_id, presence);
    registry.broadcast_presence(agent_id, presence);
    Ok(())
}

/// The presence the agent last chose.
pub async fn chosen(db: &Store, agent_id: i64) -> sqlx::Result<Presence> {
    let stored: String = db
        .value(statement!(
            "SELECT presence FROM agents WHERE id = $1",
            agent_id
        ))
        .await?;
    Ok(parse(&stored))
}

/// A presence as stored.
pub(crate) fn parse(s: &str) -> Presence {
    match s {
        "not_ready" => Presence::NotReady,
        "busy" => Presence::Busy,
        "away" => Presence::Away,
        _ => Presence::Ready,
    }
}

/// How a presence is stored.
pub(crate) fn name(p: Presence) -> &'static str {
    match p {
        Presence::Ready => "ready",
        Presence::NotReady => "not_ready",
        Presence::Busy => "busy",
        Presence::Away => "away",
        Presence::Offline => "offline",
    }
}
