//! Voice consultations: a consultation IM about a voice interaction turned into a call
//! between its two agents, with the customer on hold. The writer applies the agents'
//! requests here: the switch acts first (a refusal there changes nothing), then the hub
//! stores what it did, with the events both agents are owed.

use argon2::password_hash::rand_core::{OsRng, RngCore};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use huddle_protocol::{
    ErrorCode, ErrorFrame, Event, InteractionState, Media, Reply, SessionState, VoiceConsultation,
    VoiceConsultationState,
};
use sqlx::{SqliteConnection, SqlitePool};

use crate::config::Config;
use crate::interactions::{self, Interaction};
use crate::registry::Outgoing;
use crate::sessions::{self, refusal, valid_id};
use crate::telephony::{CallState, SimulatedSwitch, Telephony, TelephonyError};

/// A voice consultation as stored.
#[derive(Debug, Clone, sqlx::FromRow)]
struct Row {
    id: String,
    session_id: String,
    interaction_id: String,
    inviter: i64,
    target: i64,
    customer_call: String,
    consult_call: String,
    state: String,
    customer_held: bool,
}

/// The columns of a [`Row`], as a literal so that queries stay literal SQL.
macro_rules! consultation_select {
    () => {
        "SELECT id, session_id, interaction_id, inviter, target, customer_call, consult_call,
                state, customer_held
           FROM voice_consultations"
    };
}

fn parse_state(name: &str) -> VoiceConsultationState {
    match name {
        "ringing" => VoiceConsultationState::Ringing,
        "connected" => VoiceConsultationState::Connected,
        _ => VoiceConsultationState::Ended,
    }
}

fn state_name(state: VoiceConsultationState) -> &'static str {
    match state {
        VoiceConsultationState::Ringing => "ringing",
        VoiceConsultationState::Connected => "connected",
        VoiceConsultationState::Ended => "ended",
    }
}

impl Row {
    fn state(&self) -> VoiceConsultationState {
        parse_state(&self.state)
    }

    fn wire(&self) -> VoiceConsultation {
        VoiceConsultation {
            id: self.id.clone(),
            session_id: self.session_id.clone(),
            interaction_id: self.interaction_id.clone(),
            state: self.state(),
            customer_held: self.customer_held,
        }
    }
}

async fn load(db: &mut SqliteConnection, id: &str) -> sqlx::Result<Option<Row>> {
    sqlx::query_as(concat!(consultation_select!(), " WHERE id = ?"))
        .bind(id)
        .fetch_optional(db)
        .await
}

async fn open_for_session(
    db: &mut SqliteConnection,
    session_id: &str,
) -> sqlx::Result<Option<Row>> {
    sqlx::query_as(concat!(
        consultation_select!(),
        " WHERE session_id = ? AND state <> 'ended'"
    ))
    .bind(session_id)
    .fetch_optional(db)
    .await
}

/// The voice consultation about an interaction that has not ended, if any, as on the wire.
pub async fn open_for_interaction(
    db: &mut SqliteConnection,
    interaction_id: &str,
) -> sqlx::Result<Option<VoiceConsultation>> {
    Ok(open_row_for_interaction(db, interaction_id)
        .await?
        .map(|r| r.wire()))
}

async fn open_row_for_interaction(
    db: &mut SqliteConnection,
    interaction_id: &str,
) -> sqlx::Result<Option<Row>> {
    sqlx::query_as(concat!(
        consultation_select!(),
        " WHERE interaction_id = ? AND state <> 'ended'"
    ))
    .bind(interaction_id)
    .fetch_optional(db)
    .await
}

/// The voice consultations an agent takes part in that have not ended, oldest first.
pub async fn open_for_agent(
    db: &mut SqliteConnection,
    agent_id: i64,
) -> sqlx::Result<Vec<VoiceConsultation>> {
    let rows: Vec<Row> = sqlx::query_as(concat!(
        consultation_select!(),
        " WHERE (inviter = ?1 OR target = ?1) AND state <> 'ended' ORDER BY created_at"
    ))
    .bind(agent_id)
    .fetch_all(db)
    .await?;
    Ok(rows.iter().map(Row::wire).collect())
}

/// Gives the simulated switch back the calls of the consultations that had not ended when
/// the hub stopped (its calls live in memory). Returns how many.
pub async fn restore(db: &SqlitePool, switch: &SimulatedSwitch) -> sqlx::Result<usize> {
    let rows: Vec<Row> = sqlx::query_as(concat!(consultation_select!(), " WHERE state <> 'ended'"))
        .fetch_all(db)
        .await?;
    for row in &rows {
        let consult = match row.state() {
            VoiceConsultationState::Connected => CallState::Established,
            _ => CallState::Ringing,
        };
        switch.restore(&row.customer_call, &row.consult_call, consult);
    }
    Ok(rows.len())
}

async fn store_state(db: &mut SqliteConnection, row: &Row, now: i64) -> sqlx::Result<()> {
    let ended_at = (row.state() == VoiceConsultationState::Ended).then_some(now);
    sqlx::query(
        "UPDATE voice_consultations SET state = ?, customer_held = ?, ended_at = ? WHERE id = ?",
    )
    .bind(&row.state)
    .bind(row.customer_held)
    .bind(ended_at)
    .bind(&row.id)
    .execute(db)
    .await?;
    Ok(())
}

/// Numbers a `voice_consultation` event for both agents.
async fn announce(
    db: &mut SqliteConnection,
    row: &Row,
    now: i64,
) -> sqlx::Result<Vec<(i64, Outgoing)>> {
    let mut events = Vec::with_capacity(2);
    for who in [row.inviter, row.target] {
        let event = Event::VoiceConsultation {
            consultation: row.wire(),
        };
        events.push(sessions::append_event(&mut *db, who, event, now).await?);
    }
    Ok(events)
}

/// What a consultation change needs besides the database.
pub struct Ctx<'a> {
    /// For the interaction events (hidden case data).
    pub config: &'a Config,
    /// The switch.
    pub telephony: &'a dyn Telephony,
    /// The time of the change.
    pub now: i64,
}

/// The answer to a change and the events it owes.
pub type Changed = (Reply, Vec<(i64, Outgoing)>);

fn failed(e: sqlx::Error) -> ErrorFrame {
    tracing::error!(error = %e, "database failure in a voice consultation change");
    refusal(
        ErrorCode::Internal,
        "the hub could not store the change; try again",
    )
}

fn wrong_state(message: impl Into<String>) -> ErrorFrame {
    refusal(ErrorCode::WrongState, message)
}

/// A refusal from the switch, for the agent: refused transitions are the state's fault,
/// anything else the switch's.
fn switch_refused(e: TelephonyError) -> ErrorFrame {
    match e {
        TelephonyError::Refused { .. } => wrong_state(format!("the switch refused: {e}")),
        TelephonyError::UnknownCall(_) | TelephonyError::Failed(_) => {
            tracing::warn!(error = %e, "telephony failed");
            refusal(ErrorCode::TelephonyFailed, e.to_string())
        }
    }
}

fn new_id() -> String {
    let mut bytes = [0u8; 12];
    OsRng.fill_bytes(&mut bytes);
    format!("vc-{}", URL_SAFE_NO_PAD.encode(bytes))
}

/// Starts a voice consultation from a consultation IM.
pub async fn start(
    db: &mut SqliteConnection,
    ctx: &Ctx<'_>,
    agent_id: i64,
    session_id: &str,
) -> Result<Changed, ErrorFrame> {
    let unknown = || {
        refusal(
            ErrorCode::UnknownSession,
            "you have no session with this id",
        )
    };
    if !valid_id(session_id) {
        return Err(refusal(
            ErrorCode::InvalidId,
            "session_id must be 1 to 64 characters among A-Z, a-z, 0-9, '-' and '_'",
        ));
    }
    let session = sessions::load(&mut *db, session_id)
        .await
        .map_err(failed)?
        .ok_or_else(unknown)?;
    if session.inviter.id != agent_id && session.target.id != agent_id {
        return Err(unknown());
    }
    if session.inviter.id != agent_id {
        return Err(wrong_state(
            "only the agent who started the consultation IM can start a voice consultation",
        ));
    }
    let Some(context) = &session.context else {
        return Err(wrong_state(
            "this IM session is not a consultation about an interaction",
        ));
    };
    // A retry whose answer was lost: the voice consultation as it stands.
    if let Some(open) = open_for_session(&mut *db, session_id)
        .await
        .map_err(failed)?
    {
        return Ok((
            Reply::VoiceConsultation {
                consultation: open.wire(),
            },
            Vec::new(),
        ));
    }
    if session.state != SessionState::Connected {
        return Err(wrong_state(
            "the consultation IM must be connected (accepted and not ended)",
        ));
    }
    let interaction = interactions::load(&mut *db, &context.interaction_id)
        .await
        .map_err(failed)?
        .ok_or_else(|| {
            refusal(
                ErrorCode::UnknownInteraction,
                "the consultation's interaction is unknown",
            )
        })?;
    if interaction.agent_id != agent_id {
        return Err(refusal(
            ErrorCode::InteractionNotPermitted,
            "this interaction is not assigned to you",
        ));
    }
    if interaction.media != Media::Voice {
        return Err(wrong_state(format!(
            "this consultation is about an {} interaction; only calls have voice consultations",
            interaction.media.as_str()
        )));
    }
    if open_row_for_interaction(&mut *db, &interaction.id)
        .await
        .map_err(failed)?
        .is_some()
    {
        return Err(wrong_state(
            "another voice consultation about this interaction has not ended",
        ));
    }
    if interaction.state != InteractionState::Active {
        return Err(wrong_state(format!(
            "the customer's call is {}; it must be active",
            interaction.state.as_str()
        )));
    }
    // The simulated switch knows the customer's call by the interaction's id; an adapter to
    // a real switch maps it to the switch's call.
    let customer_call = interaction.id.clone();
    ctx.telephony
        .hold(&customer_call)
        .await
        .map_err(switch_refused)?;
    let consulted = match ctx
        .telephony
        .consult(&customer_call, &session.target.login)
        .await
    {
        Ok(consulted) => consulted,
        Err(e) => {
            // Undo the hold, so that a refusal leaves the call as it was.
            if let Err(undo) = ctx.telephony.retrieve(&customer_call).await {
                tracing::warn!(error = %undo, "cannot take the customer off hold after a failed consult");
            }
            return Err(switch_refused(e));
        }
    };
    let row = Row {
        id: new_id(),
        session_id: session_id.to_string(),
        interaction_id: interaction.id.clone(),
        inviter: session.inviter.id,
        target: session.target.id,
        customer_call,
        consult_call: consulted.consult,
        state: state_name(VoiceConsultationState::Ringing).to_string(),
        customer_held: true,
    };
    sqlx::query(
        "INSERT INTO voice_consultations (id, session_id, interaction_id, inviter, target,
             customer_call, consult_call, state, customer_held, created_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(&row.id)
    .bind(&row.session_id)
    .bind(&row.interaction_id)
    .bind(row.inviter)
    .bind(row.target)
    .bind(&row.customer_call)
    .bind(&row.consult_call)
    .bind(&row.state)
    .bind(row.customer_held)
    .bind(ctx.now)
    .execute(&mut *db)
    .await
    .map_err(failed)?;
    interactions::set_state(&mut *db, &interaction.id, InteractionState::Held, ctx.now)
        .await
        .map_err(failed)?;
    let (_, held) = interactions::announce(&mut *db, ctx.config, &interaction.id, ctx.now)
        .await
        .map_err(failed)?;
    let mut events = vec![held];
    events.extend(announce(db, &row, ctx.now).await.map_err(failed)?);
    tracing::info!(consultation = %row.id, interaction = %row.interaction_id, "voice consultation ringing");
    Ok((
        Reply::VoiceConsultation {
            consultation: row.wire(),
        },
        events,
    ))
}

/// The voice consultation, if the agent takes part in it; otherwise the same refusal as for
/// one that does not exist.
async fn participant(
    db: &mut SqliteConnection,
    agent_id: i64,
    id: &str,
) -> Result<Row, ErrorFrame> {
    let unknown = || {
        refusal(
            ErrorCode::UnknownConsultation,
            "you have no voice consultation with this id",
        )
    };
    if !valid_id(id) {
        return Err(unknown());
    }
    let row = load(db, id).await.map_err(failed)?.ok_or_else(unknown)?;
    if row.inviter != agent_id && row.target != agent_id {
        return Err(unknown());
    }
    Ok(row)
}

/// The consulted agent answers a ringing voice consultation.
pub async fn answer(
    db: &mut SqliteConnection,
    ctx: &Ctx<'_>,
    agent_id: i64,
    id: &str,
    accept: bool,
) -> Result<Changed, ErrorFrame> {
    let mut row = participant(&mut *db, agent_id, id).await?;
    if row.target != agent_id {
        return Err(wrong_state(
            "only the consulted agent answers a voice consultation",
        ));
    }
    if row.state() != VoiceConsultationState::Ringing {
        return Err(wrong_state(format!(
            "the voice consultation is {}",
            row.state
        )));
    }
    if !accept {
        let events = finish(db, ctx, &mut row).await?;
        tracing::info!(consultation = %row.id, "voice consultation declined");
        return Ok((Reply::Ok, events));
    }
    ctx.telephony
        .connect(&row.consult_call)
        .await
        .map_err(switch_refused)?;
    row.state = state_name(VoiceConsultationState::Connected).to_string();
    store_state(&mut *db, &row, ctx.now).await.map_err(failed)?;
    let events = announce(db, &row, ctx.now).await.map_err(failed)?;
    tracing::info!(consultation = %row.id, "voice consultation connected");
    Ok((Reply::Ok, events))
}

/// Either agent ends a voice consultation that has not ended.
pub async fn end(
    db: &mut SqliteConnection,
    ctx: &Ctx<'_>,
    agent_id: i64,
    id: &str,
) -> Result<Changed, ErrorFrame> {
    let mut row = participant(&mut *db, agent_id, id).await?;
    if row.state() == VoiceConsultationState::Ended {
        return Err(wrong_state("the voice consultation has already ended"));
    }
    let events = finish(db, ctx, &mut row).await?;
    tracing::info!(consultation = %row.id, "voice consultation ended");
    Ok((Reply::Ok, events))
}

/// Releases the consult call and takes the customer off hold; the consultation ends.
async fn finish(
    db: &mut SqliteConnection,
    ctx: &Ctx<'_>,
    row: &mut Row,
) -> Result<Vec<(i64, Outgoing)>, ErrorFrame> {
    ctx.telephony
        .release(&row.consult_call)
        .await
        .map_err(switch_refused)?;
    // The consult call is gone whatever happens next: if the customer cannot be retrieved,
    // the consultation still ends, and says that the customer is still on hold.
    let retrieved = match ctx.telephony.retrieve(&row.customer_call).await {
        Ok(_) => true,
        Err(e) => {
            tracing::warn!(error = %e, consultation = %row.id, "cannot take the customer off hold");
            false
        }
    };
    row.state = state_name(VoiceConsultationState::Ended).to_string();
    row.customer_held = !retrieved;
    store_state(&mut *db, row, ctx.now).await.map_err(failed)?;
    let mut events = Vec::with_capacity(3);
    if retrieved {
        let still_held = interactions::load(&mut *db, &row.interaction_id)
            .await
            .map_err(failed)?
            .is_some_and(|i| i.state == InteractionState::Held);
        if still_held {
            interactions::set_state(
                &mut *db,
                &row.interaction_id,
                InteractionState::Active,
                ctx.now,
            )
            .await
            .map_err(failed)?;
            let (_, back) =
                interactions::announce(&mut *db, ctx.config, &row.interaction_id, ctx.now)
                    .await
                    .map_err(failed)?;
            events.push(back);
        }
    }
    events.extend(announce(db, row, ctx.now).await.map_err(failed)?);
    Ok(events)
}

/// The interaction is ending (the integration says so): its voice consultation, if one is
/// open, ends too, and the switch forgets the calls. The switch's failures are logged, not
/// refused: the customer is gone whatever it says.
pub async fn end_with_interaction(
    db: &mut SqliteConnection,
    telephony: &dyn Telephony,
    interaction: &Interaction,
    now: i64,
) -> sqlx::Result<Vec<(i64, Outgoing)>> {
    let mut events = Vec::new();
    if let Some(mut row) = open_row_for_interaction(&mut *db, &interaction.id).await? {
        if let Err(e) = telephony.release(&row.consult_call).await {
            tracing::warn!(error = %e, consultation = %row.id, "cannot release the consult call");
        }
        row.state = state_name(VoiceConsultationState::Ended).to_string();
        row.customer_held = false;
        store_state(&mut *db, &row, now).await?;
        events.extend(announce(&mut *db, &row, now).await?);
    }
    let consulted: bool = sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM voice_consultations WHERE interaction_id = ?)",
    )
    .bind(&interaction.id)
    .fetch_one(&mut *db)
    .await?;
    // Only calls the switch was asked about are known to it.
    if consulted {
        if let Err(e) = telephony.release(&interaction.id).await {
            tracing::debug!(error = %e, "the customer's call was already released");
        }
    }
    Ok(events)
}
