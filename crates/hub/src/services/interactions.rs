//! Customer interactions in the database: loading and storing them, the event each change
//! owes the assigned agent, and what agents may read of them and of their contacts. The
//! integration's changes to them are in `integration`.

use huddle_protocol::{
    CaseDatum, ContactRef, Event, HistoryEntry, InteractionDetails, InteractionState,
    InteractionSummary, Media,
};
use serde::Serialize;

use crate::config::Config;
use crate::services::contacts;
use crate::services::error::{Kind, Missing, Refusal};
use crate::services::registry::Outgoing;
use crate::services::sessions::{self, valid_id};
use crate::store::sql::{statement, Conn};

/// How many history entries `interaction_details` carries.
pub const DETAILS_HISTORY: u32 = 50;
/// History entries a search returns when the client names no limit.
pub const DEFAULT_HISTORY_LIMIT: u32 = 50;
/// The most history entries a search returns.
pub const MAX_HISTORY_LIMIT: u32 = 200;

/// An interaction as stored, with its agent's login and its contact's name.
#[derive(Debug, Clone)]
pub struct Interaction {
    /// The integration's id.
    pub id: String,
    /// The assigned agent.
    pub agent_id: i64,
    /// The assigned agent's login.
    pub agent_login: String,
    /// Call, email or chat.
    pub media: Media,
    /// The contact's id.
    pub contact_id: String,
    /// The contact's full name.
    pub contact_name: String,
    /// What it is about.
    pub subject: String,
    /// Where it is.
    pub state: InteractionState,
    /// All its case data, hidden keys included.
    pub case_data: Vec<CaseDatum>,
    /// The delivery as first received, as canonical JSON.
    pub delivery: String,
    /// When it reached the hub.
    pub started_at: i64,
    /// When it last changed.
    pub updated_at: i64,
    /// When it ended.
    pub ended_at: Option<i64>,
}

#[derive(sqlx::FromRow)]
struct Row {
    id: String,
    agent_id: i64,
    agent_login: String,
    media: String,
    contact_id: String,
    first_name: String,
    last_name: String,
    subject: String,
    state: String,
    case_data: String,
    delivery: String,
    started_at: i64,
    updated_at: i64,
    ended_at: Option<i64>,
}

/// The columns of a [`Row`], as a literal so that queries stay literal SQL.
macro_rules! interaction_select {
    () => {
        "SELECT x.id, x.agent_id, a.login AS agent_login, x.media, x.contact_id,
                c.first_name, c.last_name, x.subject, x.state, x.case_data, x.delivery,
                x.started_at, x.updated_at, x.ended_at
           FROM interactions x JOIN agents a ON a.id = x.agent_id
           JOIN contacts c ON c.id = x.contact_id"
    };
}

fn decode(message: String) -> sqlx::Error {
    sqlx::Error::Decode(message.into())
}

fn parse_state(name: &str) -> sqlx::Result<InteractionState> {
    match name {
        "ringing" => Ok(InteractionState::Ringing),
        "active" => Ok(InteractionState::Active),
        "held" => Ok(InteractionState::Held),
        "ended" => Ok(InteractionState::Ended),
        other => Err(decode(format!(
            "unknown interaction state {other:?} in the database"
        ))),
    }
}

impl TryFrom<Row> for Interaction {
    type Error = sqlx::Error;

    fn try_from(r: Row) -> sqlx::Result<Self> {
        let case_data = serde_json::from_str(&r.case_data)
            .map_err(|e| decode(format!("stored case data is not readable: {e}")))?;
        Ok(Interaction {
            media: contacts::parse_media(&r.media)?,
            state: parse_state(&r.state)?,
            contact_name: full_name(&r.first_name, &r.last_name),
            case_data,
            id: r.id,
            agent_id: r.agent_id,
            agent_login: r.agent_login,
            contact_id: r.contact_id,
            subject: r.subject,
            delivery: r.delivery,
            started_at: r.started_at,
            updated_at: r.updated_at,
            ended_at: r.ended_at,
        })
    }
}

fn full_name(first: &str, last: &str) -> String {
    format!("{first} {last}").trim().to_string()
}

/// The interaction as the integration sees it: every field, hidden case data included.
#[derive(Serialize)]
struct View<'a> {
    id: &'a str,
    agent: &'a str,
    media: Media,
    contact_id: &'a str,
    subject: &'a str,
    state: InteractionState,
    case_data: &'a [CaseDatum],
    started_at: i64,
    updated_at: i64,
    ended_at: Option<i64>,
}

impl Interaction {
    /// The interaction as agents see it: hidden case-data keys left out.
    pub fn summary(&self, config: &Config) -> InteractionSummary {
        InteractionSummary {
            id: self.id.clone(),
            media: self.media,
            state: self.state,
            contact: ContactRef {
                id: self.contact_id.clone(),
                name: self.contact_name.clone(),
            },
            subject: self.subject.clone(),
            case_data: self
                .case_data
                .iter()
                .filter(|d| !config.is_hidden_key(&d.key))
                .cloned()
                .collect(),
            started_at: self.started_at,
            ended_at: self.ended_at,
        }
    }

    pub fn view(&self) -> serde_json::Value {
        let view = View {
            id: &self.id,
            agent: &self.agent_login,
            media: self.media,
            contact_id: &self.contact_id,
            subject: &self.subject,
            state: self.state,
            case_data: &self.case_data,
            started_at: self.started_at,
            updated_at: self.updated_at,
            ended_at: self.ended_at,
        };
        serde_json::to_value(view).unwrap_or_default()
    }
}

/// One interaction, or `None`.
pub async fn load(db: &mut Conn<'_>, id: &str) -> sqlx::Result<Option<Interaction>> {
    let row: Option<Row> = db
        .optional(statement!(
            concat!(interaction_select!(), " WHERE x.id = $1"),
            id
        ))
        .await?;
    row.map(Interaction::try_from).transpose()
}

/// The interactions assigned to an agent that have not ended, oldest first.
pub async fn open_for(db: &mut Conn<'_>, agent_id: i64) -> sqlx::Result<Vec<Interaction>> {
    let rows: Vec<Row> = db
        .all(statement!(
            concat!(
                interaction_select!(),
                " WHERE x.agent_id = $1 AND x.state <> 'ended' ORDER BY x.started_at, x.id"
            ),
            agent_id
        ))
        .await?;
    rows.into_iter().map(Interaction::try_from).collect()
}

/// Moves an interaction to another state (and stamps its end when it ends).
pub async fn set_state(
    db: &mut Conn<'_>,
    id: &str,
    state: InteractionState,
    now: i64,
) -> sqlx::Result<()> {
    let ended_at = (state == InteractionState::Ended).then_some(now);
    db.execute(statement!(
        "UPDATE interactions SET state = $1, updated_at = $2, ended_at = coalesce(ended_at, $3)
          WHERE id = $4",
        state.as_str(),
        now,
        ended_at,
        id,
    ))
    .await?;
    Ok(())
}

pub async fn set_case_data(
    db: &mut Conn<'_>,
    id: &str,
    case_data: &[CaseDatum],
    now: i64,
) -> sqlx::Result<()> {
    let json = serde_json::to_string(case_data).map_err(|e| sqlx::Error::Encode(Box::new(e)))?;
    db.execute(statement!(
        "UPDATE interactions SET case_data = $1, updated_at = $2 WHERE id = $3",
        json,
        now,
        id,
    ))
    .await?;
    Ok(())
}

/// Numbers an `interaction` event for the assigned agent, with the interaction as stored.
pub async fn announce(
    db: &mut Conn<'_>,
    config: &Config,
    id: &str,
    now: i64,
) -> sqlx::Result<(Interaction, (i64, Outgoing))> {
    let interaction = load(db, id)
        .await?
        .ok_or_else(|| decode(format!("the interaction {id} vanished")))?;
    let event = Event::Interaction {
        interaction: interaction.summary(config),
    };
    let out = sessions::append_event(db, interaction.agent_id, event, now).await?;
    Ok((interaction, out))
}

// ---- What agents may read ----

fn failed(e: sqlx::Error) -> Refusal {
    tracing::error!(error = %e, "reading an interaction failed");
    Refusal::new(Kind::Internal, "the hub failed to answer; try again")
}

fn not_permitted() -> Refusal {
    Refusal::new(
        Kind::InteractionNotPermitted,
        "you may see this interaction only during an accepted consultation about it",
    )
}

/// The interaction, if the id is well formed and names one.
async fn existing(db: &mut Conn<'_>, id: &str) -> Result<Interaction, Refusal> {
    if !valid_id(id) {
        return Err(Refusal::new(
            Kind::InvalidId,
            "interaction_id must be 1 to 64 characters among A-Z, a-z, 0-9, '-' and '_'",
        ));
    }
    load(db, id).await.map_err(failed)?.ok_or_else(|| {
        Refusal::new(
            Kind::NotFound(Missing::Interaction),
            format!("no interaction has the id {id:?}"),
        )
    })
}

/// The interaction, if the agent may read it: it is assigned to them, or they are the target
/// of a consultation IM about it that is connected now, while the interaction has not ended.
pub async fn readable(db: &mut Conn<'_>, agent_id: i64, id: &str) -> Result<Interaction, Refusal> {
    let interaction = existing(db, id).await?;
    if interaction.agent_id == agent_id {
        return Ok(interaction);
    }
    let consulted: bool = db
        .value(statement!(
            "SELECT EXISTS (SELECT 1 FROM im_sessions
                             WHERE interaction_id = $1 AND target = $2 AND state = 'connected')",
            id,
            agent_id,
        ))
        .await
        .map_err(failed)?;
    // The customer's data is lent for the consultation about a live interaction: once the
    // interaction is over, so is the loan, whether or not the IM goes on.
    if consulted && interaction.state != InteractionState::Ended {
        Ok(interaction)
    } else {
        Err(not_permitted())
    }
}

/// What `interaction_details` answers.
pub async fn details(
    db: &mut Conn<'_>,
    config: &Config,
    agent_id: i64,
    id: &str,
) -> Result<InteractionDetails, Refusal> {
    let interaction = readable(db, agent_id, id).await?;
    let contact = contacts::load(db, &interaction.contact_id)
        .await
        .map_err(failed)?
        .ok_or_else(|| failed(decode("an interaction's contact vanished".into())))?;
    let history = contacts::search_history(db, &interaction.contact_id, "", DETAILS_HISTORY)
        .await
        .map_err(failed)?;
    Ok(InteractionDetails {
        interaction: interaction.summary(config),
        contact,
        history,
    })
}

/// What `contact_history` answers.
pub async fn history(
    db: &mut Conn<'_>,
    agent_id: i64,
    id: &str,
    query: &str,
    limit: Option<u32>,
) -> Result<Vec<HistoryEntry>, Refusal> {
    let interaction = readable(db, agent_id, id).await?;
    let limit = limit
        .unwrap_or(DEFAULT_HISTORY_LIMIT)
        .clamp(1, MAX_HISTORY_LIMIT);
    contacts::search_history(db, &interaction.contact_id, query, limit)
        .await
        .map_err(failed)
}

/// Checks the context of an invitation: a consultation is about an interaction of the
/// inviter's that has not ended.
pub async fn check_context(db: &mut Conn<'_>, inviter: i64, id: &str) -> Result<(), Refusal> {
    let interaction = existing(db, id).await?;
    if interaction.agent_id != inviter {
        return Err(Refusal::new(
            Kind::InteractionNotPermitted,
            "you can start a consultation only about an interaction assigned to you",
        ));
    }
    if interaction.state == InteractionState::Ended {
        return Err(Refusal::new(
            Kind::InteractionNotPermitted,
            "this interaction has ended; a consultation about it can no longer start",
        ));
    }
    Ok(())
}
