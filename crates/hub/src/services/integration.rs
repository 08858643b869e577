//! The contact center's changes to contacts and interactions, as the integration asks for
//! them once checked: each applied inside the writer's transaction with the events it owes
//! the assigned agent (and the voice consultations an ended interaction takes with it).

use huddle_protocol::{CaseDatum, ContactInfo, HistoryEntry, InteractionState, Media};
use serde::Serialize;

use crate::config::Config;
use crate::services::contacts;
use crate::services::error::{Kind, Missing, Refusal};
use crate::services::interactions::{announce, load, set_case_data, set_state};
use crate::services::registry::Outgoing;
use crate::store::sql::{statement, Conn};

/// A successful answer: whether something was created, and the JSON body.
#[derive(Debug, Clone)]
pub struct Done {
    /// Whether the change created something (rather than changing or repeating it).
    pub created: bool,
    /// The JSON body.
    pub body: serde_json::Value,
}

/// A checked delivery of an interaction; its JSON form tells a retry from another delivery.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Delivery {
    /// The interaction's id.
    pub id: String,
    /// The assigned agent's login, lowercase.
    pub agent: String,
    /// Call, email or chat.
    pub media: Media,
    /// The contact.
    pub contact_id: String,
    /// What it is about.
    pub subject: String,
    /// The state it starts in.
    pub state: InteractionState,
    /// Its case data, in order.
    pub case_data: Vec<CaseDatum>,
}

/// A checked change the integration asks for, applied by the writer.
#[derive(Debug, Clone)]
pub enum Change {
    /// Create or replace a contact, and replace its history when one is given.
    PutContact {
        /// The contact.
        contact: ContactInfo,
        /// The whole history, if given.
        history: Option<Vec<HistoryEntry>>,
    },
    /// Add one entry to a contact's history.
    AddHistory {
        /// The contact.
        contact_id: String,
        /// The entry.
        entry: HistoryEntry,
    },
    /// Deliver an interaction to an agent.
    Deliver(Delivery),
    /// Change an interaction's state and/or case data.
    Update {
        /// The interaction.
        id: String,
        /// The new state, if any.
        state: Option<InteractionState>,
        /// Case data merged by key, if any.
        case_data: Option<Vec<CaseDatum>>,
    },
    /// End an interaction.
    End {
        /// The interaction.
        id: String,
    },
}

/// What an applied change answers, and the events to deliver once it is committed.
pub struct Applied {
    /// The answer.
    pub done: Done,
    /// Events for agents.
    pub events: Vec<(i64, Outgoing)>,
    /// Calls the switch should hang up once this is committed.
    pub release: Vec<String>,
}

fn answer(created: bool, body: serde_json::Value) -> Applied {
    Applied {
        done: Done { created, body },
        events: Vec::new(),
        release: Vec::new(),
    }
}

fn unknown_interaction(id: &str) -> Refusal {
    Refusal::new(
        Kind::NotFound(Missing::Interaction),
        format!("no interaction has the id {id:?}"),
    )
}

fn wrong_state(message: impl Into<String>) -> Refusal {
    Refusal::new(Kind::WrongState, message)
}

/// Whether the integration may move an interaction from one state to another.
fn may_move(from: InteractionState, to: InteractionState) -> bool {
    use InteractionState::*;
    matches!(
        (from, to),
        (Ringing, Active) | (Active, Held) | (Held, Active) | (Ringing | Active | Held, Ended)
    )
}

/// Merges case data by key: a known key keeps its place and takes the new label and value,
/// a new key is appended. Returns whether anything changed.
fn merge(case_data: &mut Vec<CaseDatum>, changes: Vec<CaseDatum>) -> bool {
    let mut changed = false;
    for item in changes {
        match case_data
            .iter_mut()
            .find(|d| d.key.eq_ignore_ascii_case(&item.key))
        {
            Some(existing) if *existing == item => {}
            Some(existing) => {
                *existing = item;
                changed = true;
            }
            None => {
                case_data.push(item);
                changed = true;
            }
        }
    }
    changed
}

/// Applies one of the integration's changes inside the writer's transaction.
pub async fn apply(
    db: &mut Conn<'_>,
    config: &Config,
    now: i64,
    change: Change,
) -> Result<Applied, Refusal> {
    match change {
        Change::PutContact { contact, history } => {
            let created = contacts::upsert(db, &contact, now)
                .await
                .map_err(Refusal::internal)?;
            if let Some(history) = &history {
                contacts::replace_history(db, &contact.id, history)
                    .await
                    .map_err(Refusal::internal)?;
            }
            let entries = contacts::history_count(db, &contact.id)
                .await
                .map_err(Refusal::internal)?;
            tracing::info!(contact = %contact.id, created, history = entries, "contact stored");
            Ok(answer(
                created,
                serde_json::json!({"contact": contact, "history_entries": entries}),
            ))
        }
        Change::AddHistory { contact_id, entry } => {
            if !contacts::exists(db, &contact_id)
                .await
                .map_err(Refusal::internal)?
            {
                return Err(Refusal::new(
                    Kind::NotFound(Missing::Contact),
                    format!("no contact has the id {contact_id:?}"),
                ));
            }
            let existing = contacts::history_entry(db, &contact_id, &entry.id)
                .await
                .map_err(Refusal::internal)?;
            match existing {
                Some(stored) if stored == entry => {
                    Ok(answer(false, serde_json::json!({"entry": stored})))
                }
                Some(_) => Err(Refusal::new(
                    Kind::IdConflict,
                    format!(
                        "the contact's history already has an entry {:?} with other content",
                        entry.id
                    ),
                )),
                None => {
                    contacts::add_history(db, &contact_id, &entry)
                        .await
                        .map_err(Refusal::internal)?;
                    Ok(answer(true, serde_json::json!({"entry": entry})))
                }
            }
        }
        Change::Deliver(delivery) => deliver(db, config, now, delivery).await,
        Change::Update {
            id,
            state,
            case_data,
        } => update(db, config, now, &id, state, case_data).await,
        Change::End { id } => end(db, config, now, &id).await,
    }
}

async fn deliver(
    db: &mut Conn<'_>,
    config: &Config,
    now: i64,
    delivery: Delivery,
) -> Result<Applied, Refusal> {
    let canonical = serde_json::to_string(&delivery).map_err(Refusal::internal)?;
    if let Some(existing) = load(db, &delivery.id).await.map_err(Refusal::internal)? {
        // A retry of a delivery whose answer was lost: the interaction as it now stands.
        if existing.delivery == canonical {
            return Ok(answer(
                false,
                serde_json::json!({"interaction": existing.view()}),
            ));
        }
        return Err(Refusal::new(
            Kind::IdConflict,
            format!(
                "the interaction {:?} was already delivered with other content",
                delivery.id
            ),
        ));
    }
    let agent: Option<(i64, bool, bool)> = db
        .optional(statement!(
            "SELECT id, (disabled <> 0) AS disabled, (im_enabled <> 0) AS im_enabled
               FROM agents WHERE login = $1",
            &delivery.agent
        ))
        .await
        .map_err(Refusal::internal)?;
    let agent_id = match agent {
        None => return Err(Refusal::unknown_agent(&delivery.agent)),
        Some((id, false, true)) => id,
        Some(_) => {
            return Err(Refusal::new(
                Kind::AgentDisabled,
                format!(
                    "the agent {:?} cannot sign in to the hub (disabled, or denied internal IM)",
                    delivery.agent
                ),
            ))
        }
    };
    if !contacts::exists(db, &delivery.contact_id)
        .await
        .map_err(Refusal::internal)?
    {
        return Err(Refusal::new(
            Kind::Dangling(Missing::Contact),
            format!(
                "no contact has the id {:?}; store it first with PUT /integration/v1/contacts/{}",
                delivery.contact_id, delivery.contact_id
            ),
        ));
    }
    let case_data = serde_json::to_string(&delivery.case_data).map_err(Refusal::internal)?;
    db.execute(statement!(
        "INSERT INTO interactions (id, agent_id, media, contact_id, subject, state, case_data,
                                   delivery, started_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        &delivery.id,
        agent_id,
        delivery.media.as_str(),
        &delivery.contact_id,
        &delivery.subject,
        delivery.state.as_str(),
        case_data,
        &canonical,
        now,
        now,
    ))
    .await
    .map_err(Refusal::internal)?;
    let (interaction, event) = announce(db, config, &delivery.id, now)
        .await
        .map_err(Refusal::internal)?;
    tracing::info!(interaction = %interaction.id, agent = %interaction.agent_login,
        media = interaction.media.as_str(), "interaction delivered");
    Ok(Applied {
        done: Done {
            created: true,
            body: serde_json::json!({"interaction": interaction.view()}),
        },
        events: vec![event],
        release: Vec::new(),
    })
}

async fn update(
    db: &mut Conn<'_>,
    config: &Config,
    now: i64,
    id: &str,
    state: Option<InteractionState>,
    case_data: Option<Vec<CaseDatum>>,
) -> Result<Applied, Refusal> {
    let interaction = load(db, id)
        .await
        .map_err(Refusal::internal)?
        .ok_or_else(|| unknown_interaction(id))?;
    if interaction.state == InteractionState::Ended {
        return Err(wrong_state(format!(
            "the interaction {id:?} has ended; it can no longer change"
        )));
    }
    let new_state = state.filter(|s| *s != interaction.state);
    if let Some(to) = new_state {
        if !may_move(interaction.state, to) {
            return Err(wrong_state(format!(
                "an interaction cannot go from {} to {}",
                interaction.state.as_str(),
                to.as_str()
            )));
        }
        let consulting = crate::services::consultations::holds_customer(db, id)
            .await
            .map_err(Refusal::internal)?;
        if consulting && to != InteractionState::Ended {
            return Err(wrong_state(
                "a voice consultation holds the customer's call; it must end first",
            ));
        }
    }
    let mut merged = interaction.case_data.clone();
    let data_changed = case_data.is_some_and(|changes| merge(&mut merged, changes));
    if data_changed {
        set_case_data(db, id, &merged, now)
            .await
            .map_err(Refusal::internal)?;
    }
    if new_state == Some(InteractionState::Ended) {
        return end(db, config, now, id).await;
    }
    if let Some(to) = new_state {
        set_state(db, id, to, now)
            .await
            .map_err(Refusal::internal)?;
    }
    if new_state.is_none() && !data_changed {
        return Ok(answer(
            false,
            serde_json::json!({"interaction": interaction.view()}),
        ));
    }
    let (interaction, event) = announce(db, config, id, now)
        .await
        .map_err(Refusal::internal)?;
    tracing::info!(interaction = %id, state = interaction.state.as_str(), "interaction updated");
    Ok(Applied {
        done: Done {
            created: false,
            body: serde_json::json!({"interaction": interaction.view()}),
        },
        events: vec![event],
        release: Vec::new(),
    })
}

async fn end(db: &mut Conn<'_>, config: &Config, now: i64, id: &str) -> Result<Applied, Refusal> {
    let interaction = load(db, id)
        .await
        .map_err(Refusal::internal)?
        .ok_or_else(|| unknown_interaction(id))?;
    if interaction.state == InteractionState::Ended {
        return Ok(answer(
            false,
            serde_json::json!({"interaction": interaction.view()}),
        ));
    }
    let (mut events, release) =
        crate::services::consultations::end_with_interaction(db, &interaction, now)
            .await
            .map_err(Refusal::internal)?;
    set_state(db, id, InteractionState::Ended, now)
        .await
        .map_err(Refusal::internal)?;
    let (interaction, event) = announce(db, config, id, now)
        .await
        .map_err(Refusal::internal)?;
    events.push(event);
    tracing::info!(interaction = %id, "interaction ended");
    Ok(Applied {
        done: Done {
            created: false,
            body: serde_json::json!({"interaction": interaction.view()}),
        },
        events,
        release,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn datum(key: &str, value: &str) -> CaseDatum {
        CaseDatum {
            key: key.into(),
            label: key.to_uppercase(),
            value: value.into(),
        }
    }

    #[test]
    fn case_data_merges_by_key_keeping_the_order() {
        let mut data = vec![datum("a", "1"), datum("b", "2")];
        assert!(merge(&mut data, vec![datum("c", "3"), datum("a", "9")]));
        assert_eq!(data, [datum("a", "9"), datum("b", "2"), datum("c", "3")]);
        assert!(!merge(&mut data, vec![datum("b", "2")]), "nothing new");
    }

    #[test]
    fn the_integration_moves_interactions_along_their_life_only() {
        use InteractionState::*;
        let all = [Ringing, Active, Held, Ended];
        let legal = [
            (Ringing, Active),
            (Active, Held),
            (Held, Active),
            (Ringing, Ended),
            (Active, Ended),
            (Held, Ended),
        ];
        for from in all {
            for to in all {
                assert_eq!(
                    may_move(from, to),
                    legal.contains(&(from, to)),
                    "{from:?} -> {to:?}"
                );
            }
        }
    }
}
