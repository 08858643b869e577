//! Voice consultations: a consultation IM about a voice interaction turned into a call
//! between its two agents, with the customer on hold. The writer applies the agents'
//! requests here in two steps around the switch: the request is checked and stored as
//! waiting for the switch; once that is committed the switch is asked, outside any
//! transaction; what it did is then stored, with the events both agents are owed, and
//! answers the request. A refusal of the switch changes nothing, and a customer left on
//! hold by a failure is on record.

use argon2::password_hash::rand_core::{OsRng, RngCore};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use huddle_protocol::{
    Event, InteractionState, Media, SessionState, VoiceConsultation, VoiceConsultationState,
};

use crate::config::Config;
use crate::services::committed::Committed;
use crate::services::error::{Kind, Missing, Refusal};
use crate::services::interactions::{self, Interaction};
use crate::services::registry::Outgoing;
use crate::services::sessions::{self, valid_id};
use crate::services::telephony::{CallResult, CallState, Consulted, Telephony, TelephonyError};
use crate::store::sql::{statement, Conn, Store};
use futures_util::future::BoxFuture;

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
    /// The call operation this consultation waits for from the switch, if any.
    switching: Option<String>,
}

/// `switching`: the customer is being put on hold and the colleague dialled.
const PLACING: &str = "placing";
/// `switching`: the consult call is being connected.
const CONNECTING: &str = "connecting";
/// `switching`: the consult call is being released and the customer taken off hold.
const ENDING: &str = "ending";

/// The columns of a [`Row`], as a literal so that queries stay literal SQL.
macro_rules! consultation_select {
    () => {
        "SELECT id, session_id, interaction_id, inviter, target, customer_call, consult_call,
                state, (customer_held <> 0) AS customer_held, switching
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
    /// Still being placed: nobody has been told of it yet.
    fn placing(&self) -> bool {
        self.switching.as_deref() == Some(PLACING)
    }

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

async fn load(db: &mut Conn<'_>, id: &str) -> sqlx::Result<Option<Row>> {
    db.optional(statement!(
        concat!(consultation_select!(), " WHERE id = $1"),
        id
    ))
    .await
}

async fn open_for_session(db: &mut Conn<'_>, session_id: &str) -> sqlx::Result<Option<Row>> {
    db.optional(statement!(
        concat!(
            consultation_select!(),
            " WHERE session_id = $1 AND state <> 'ended'"
        ),
        session_id
    ))
    .await
}

async fn open_row_for_interaction(
    db: &mut Conn<'_>,
    interaction_id: &str,
) -> sqlx::Result<Option<Row>> {
    db.optional(statement!(
        concat!(
            consultation_select!(),
            " WHERE interaction_id = $1 AND state <> 'ended'"
        ),
        interaction_id
    ))
    .await
}

/// The voice consultations an agent takes part in that have not ended, oldest first.
pub async fn open_for_agent(
    db: &mut Conn<'_>,
    agent_id: i64,
) -> sqlx::Result<Vec<VoiceConsultation>> {
    let rows: Vec<Row> = db
        .all(statement!(
            concat!(
                consultation_select!(),
                " WHERE (inviter = $1 OR target = $1) AND state <> 'ended'
                    AND switching IS DISTINCT FROM 'placing' ORDER BY created_at"
            ),
            agent_id
        ))
        .await?;
    Ok(rows.iter().map(Row::wire).collect())
}

/// Settles consultations that a stopped hub left half-way through a call operation: one
/// being placed is ended (whether the switch held the customer is not known, so the record
/// says the customer may still be on hold); any other keeps its state, and the agents may
/// ask again. Returns how many were settled.
pub async fn recover(db: &Store, now: i64) -> sqlx::Result<u64> {
    let placing: Vec<(String, String)> = db
        .all(statement!(
            "UPDATE voice_consultations SET state = 'ended', switching = NULL, ended_at = $1
              WHERE switching = 'placing' RETURNING id, interaction_id",
            now
        ))
        .await?;
    for (id, interaction) in &placing {
        tracing::warn!(consultation = %id, %interaction,
            "a consult call was being placed when the hub stopped; the customer may still be on hold");
    }
    let rest = db
        .execute(statement!(
            "UPDATE voice_consultations SET switching = NULL WHERE switching IS NOT NULL"
        ))
        .await?;
    Ok(placing.len() as u64 + rest)
}

/// Gives the switch back the calls of the consultations that had not ended when the hub
/// stopped (the simulated switch keeps its calls in memory). Returns how many.
pub async fn restore(db: &Store, switch: &dyn Telephony) -> sqlx::Result<usize> {
    let rows: Vec<Row> = db
        .all(statement!(concat!(
            consultation_select!(),
            " WHERE state <> 'ended'"
        )))
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

async fn store_state(db: &mut Conn<'_>, row: &Row, now: i64) -> sqlx::Result<()> {
    let ended_at = (row.state() == VoiceConsultationState::Ended).then_some(now);
    db.execute(statement!(
        "UPDATE voice_consultations
            SET state = $1, customer_held = $2, consult_call = $3, switching = $4, ended_at = $5
          WHERE id = $6",
        &row.state,
        row.customer_held,
        &row.consult_call,
        row.switching.clone(),
        ended_at,
        &row.id,
    ))
    .await?;
    Ok(())
}

/// Numbers a `voice_consultation` event for both agents.
async fn announce(db: &mut Conn<'_>, row: &Row, now: i64) -> sqlx::Result<Vec<(i64, Outgoing)>> {
    let mut events = Vec::with_capacity(2);
    for who in [row.inviter, row.target] {
        let event = Event::VoiceConsultation {
            consultation: row.wire(),
        };
        events.push(sessions::append_event(db, who, event, now).await?);
    }
    Ok(events)
}

/// What a consultation change needs besides the database.
pub struct Ctx<'a> {
    /// For the interaction events (hidden case data).
    pub config: &'a Config,
    /// The time of the change.
    pub now: i64,
}

/// The answer to a change, the events it owes, and what the switch must do once it is
/// committed.
pub struct Changed {
    /// The answer (or, when `then` asks the switch for something, the answer if the switch
    /// had nothing to do): a refusal may come with events, when the switch's outcome changed
    /// what is stored.
    pub reply: Result<Committed, Refusal>,
    /// Events to deliver once committed.
    pub events: Vec<(i64, Outgoing)>,
    /// Call operations to make after the commit, outside the transaction.
    pub then: Option<SwitchWork>,
}

impl Changed {
    fn now(reply: Committed, events: Vec<(i64, Outgoing)>) -> Self {
        Self {
            reply: Ok(reply),
            events,
            then: None,
        }
    }

    fn refused(refusal: Refusal, events: Vec<(i64, Outgoing)>) -> Self {
        Self {
            reply: Err(refusal),
            events,
            then: None,
        }
    }

    fn then(work: SwitchWork) -> Self {
        Self {
            reply: Ok(Committed::Done),
            events: Vec::new(),
            then: Some(work),
        }
    }
}

/// Call operations asked of the switch after a commit, so that a slow or failing switch
/// never holds the database's write lock. A consultation waiting for one is marked in the
/// database (`switching`); the outcome comes back through the writer as
/// [`record`] and answers the agent.
#[derive(Debug)]
pub enum SwitchWork {
    /// Put the customer on hold and ring the colleague.
    Place {
        /// The consultation, stored as being placed.
        id: String,
        /// The customer's call.
        customer_call: String,
        /// The colleague's login (the simulated switch's extensions).
        target_login: String,
    },
    /// Connect the ringing consult call (the colleague answered).
    Connect {
        /// The consultation.
        id: String,
        /// Its consult call.
        consult_call: String,
    },
    /// Hang up the consult call and take the customer off hold.
    Finish {
        /// The consultation.
        id: String,
        /// Its consult call.
        consult_call: String,
        /// The customer's call.
        customer_call: String,
    },
    /// Hang up calls nobody needs any more (their interaction ended); failures are logged.
    Release(Vec<String>),
}

/// What the switch did with [`SwitchWork`].
#[derive(Debug, Clone)]
pub enum Switched {
    /// The colleague's phone rings, or the placing failed; `bool`: the customer is still
    /// on hold after the failure (taking them off hold failed too).
    Placed(Result<Consulted, (TelephonyError, bool)>),
    /// The consult call was connected, or not.
    Connected(Result<(), TelephonyError>),
    /// The consult call was released (or not: then nothing changed) and the customer taken
    /// off hold (`retrieved`) or not.
    Finished {
        /// Whether the consult call was released.
        released: Result<(), TelephonyError>,
        /// Whether the customer is off hold.
        retrieved: bool,
    },
}

/// How long the switch may take over one call operation before it counts as failed.
const SWITCH_DEADLINE: std::time::Duration = std::time::Duration::from_secs(10);

/// One call operation, failed when the switch does not answer in time.
async fn ask<T>(operation: BoxFuture<'_, CallResult<T>>) -> CallResult<T> {
    tokio::time::timeout(SWITCH_DEADLINE, operation)
        .await
        .unwrap_or_else(|_| {
            Err(TelephonyError::Failed(format!(
                "no answer within {} s",
                SWITCH_DEADLINE.as_secs()
            )))
        })
}

impl SwitchWork {
    /// Asks the switch. Returns the consultation and what happened, to be recorded, or
    /// `None` for work whose outcome nobody waits for.
    pub async fn run(self, telephony: &dyn Telephony) -> Option<(String, Switched)> {
        match self {
            Self::Place {
                id,
                customer_call,
                target_login,
            } => {
                if let Err(e) = ask(telephony.hold(&customer_call)).await {
                    return Some((id, Switched::Placed(Err((e, false)))));
                }
                let placed = match ask(telephony.consult(&customer_call, &target_login)).await {
                    Ok(consulted) => Ok(consulted),
                    Err(e) => {
                        // Undo the hold, so that a refusal leaves the call as it was.
                        let still_held = match ask(telephony.retrieve(&customer_call)).await {
                            Ok(_) => false,
                            Err(undo) => {
                                tracing::warn!(error = %undo, consultation = %id,
                                    "cannot take the customer off hold after a failed consult");
                                true
                            }
                        };
                        Err((e, still_held))
                    }
                };
                Some((id, Switched::Placed(placed)))
            }
            Self::Connect { id, consult_call } => {
                let connected = ask(telephony.connect(&consult_call)).await.map(|_| ());
                Some((id, Switched::Connected(connected)))
            }
            Self::Finish {
                id,
                consult_call,
                customer_call,
            } => {
                if let Err(e) = ask(telephony.release(&consult_call)).await {
                    return Some((
                        id,
                        Switched::Finished {
                            released: Err(e),
                            retrieved: false,
                        },
                    ));
                }
                // The consult call is gone whatever happens next: if the customer cannot be
                // retrieved, the consultation still ends, and says that the customer is
                // still on hold.
                let retrieved = match ask(telephony.retrieve(&customer_call)).await {
                    Ok(_) => true,
                    Err(e) => {
                        tracing::warn!(error = %e, consultation = %id, "cannot take the customer off hold");
                        false
                    }
                };
                Some((
                    id,
                    Switched::Finished {
                        released: Ok(()),
                        retrieved,
                    },
                ))
            }
            Self::Release(calls) => {
                for call in calls {
                    if let Err(e) = ask(telephony.release(&call)).await {
                        tracing::debug!(error = %e, %call, "the call was already released");
                    }
                }
                None
            }
        }
    }
}

fn failed(e: sqlx::Error) -> Refusal {
    tracing::error!(error = %e, "database failure in a voice consultation change");
    Refusal::new(
        Kind::Internal,
        "the hub could not store the change; try again",
    )
}

fn wrong_state(message: impl Into<String>) -> Refusal {
    Refusal::new(Kind::WrongState, message)
}

/// Another call operation on this consultation has not come back from the switch yet.
fn switch_busy() -> Refusal {
    wrong_state("the switch is still working on this voice consultation; try again in a moment")
}

/// A refusal from the switch, for the agent: refused transitions are the state's fault,
/// anything else the switch's.
fn switch_refused(e: TelephonyError) -> Refusal {
    match e {
        TelephonyError::Refused { .. } => wrong_state(format!("the switch refused: {e}")),
        TelephonyError::UnknownCall(_) | TelephonyError::Failed(_) => {
            tracing::warn!(error = %e, "telephony failed");
            Refusal::new(Kind::SwitchFailed, e.to_string())
        }
    }
}

fn new_id() -> String {
    let mut bytes = [0u8; 12];
    OsRng.fill_bytes(&mut bytes);
    format!("vc-{}", URL_SAFE_NO_PAD.encode(bytes))
}

/// Starts a voice consultation from a consultation IM: stores it as being placed, and asks
/// the switch, after the commit, to hold the customer and ring the colleague.
pub async fn start(
    db: &mut Conn<'_>,
    ctx: &Ctx<'_>,
    agent_id: i64,
    session_id: &str,
) -> Result<Changed, Refusal> {
    let unknown = || {
        Refusal::new(
            Kind::NotFound(Missing::Session),
            "you have no session with this id",
        )
    };
    if !valid_id(session_id) {
        return Err(Refusal::new(
            Kind::InvalidId,
            "session_id must be 1 to 64 characters among A-Z, a-z, 0-9, '-' and '_'",
        ));
    }
    let session = sessions::load_to_change(db, session_id)
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
    if let Some(open) = open_for_session(db, session_id).await.map_err(failed)? {
        if open.switching.is_some() {
            return Err(switch_busy());
        }
        let reply = Committed::VoiceConsultation(open.wire());
        return Ok(Changed::now(reply, Vec::new()));
    }
    if session.state != SessionState::Connected {
        return Err(wrong_state(
            "the consultation IM must be connected (accepted and not ended)",
        ));
    }
    let interaction = interactions::load(db, &context.interaction_id)
        .await
        .map_err(failed)?
        .ok_or_else(|| {
            Refusal::new(
                Kind::NotFound(Missing::Interaction),
                "the consultation's interaction is unknown",
            )
        })?;
    if interaction.agent_id != agent_id {
        return Err(Refusal::new(
            Kind::InteractionNotPermitted,
            "this interaction is not assigned to you",
        ));
    }
    if interaction.media != Media::Voice {
        return Err(wrong_state(format!(
            "this consultation is about an {} interaction; only calls have voice consultations",
            interaction.media.as_str()
        )));
    }
    if open_row_for_interaction(db, &interaction.id)
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
    let row = Row {
        id: new_id(),
        session_id: session_id.to_string(),
        interaction_id: interaction.id.clone(),
        inviter: session.inviter.id,
        target: session.target.id,
        customer_call: interaction.id.clone(),
        // Known once the switch has dialled.
        consult_call: String::new(),
        state: state_name(VoiceConsultationState::Ringing).to_string(),
        // Until the switch answers, the customer may be on hold.
        customer_held: true,
        switching: Some(PLACING.to_string()),
    };
    db.execute(statement!(
        "INSERT INTO voice_consultations (id, session_id, interaction_id, inviter, target,
             customer_call, consult_call, state, customer_held, switching, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
        &row.id,
        &row.session_id,
        &row.interaction_id,
        row.inviter,
        row.target,
        &row.customer_call,
        &row.consult_call,
        &row.state,
        row.customer_held,
        row.switching.clone(),
        ctx.now,
    ))
    .await
    .map_err(failed)?;
    Ok(Changed::then(SwitchWork::Place {
        id: row.id,
        customer_call: row.customer_call,
        target_login: session.target.login.clone(),
    }))
}

/// The voice consultation, if the agent takes part in it; otherwise the same refusal as for
/// one that does not exist. One being placed is not shown to anyone yet.
async fn participant(db: &mut Conn<'_>, agent_id: i64, id: &str) -> Result<Row, Refusal> {
    let unknown = || {
        Refusal::new(
            Kind::NotFound(Missing::Consultation),
            "you have no voice consultation with this id",
        )
    };
    if !valid_id(id) {
        return Err(unknown());
    }
    let row = load(db, id).await.map_err(failed)?.ok_or_else(unknown)?;
    if row.inviter != agent_id && row.target != agent_id || row.placing() {
        return Err(unknown());
    }
    Ok(row)
}

/// Marks the consultation as waiting for the switch.
async fn mark_switching(
    db: &mut Conn<'_>,
    row: &mut Row,
    what: &str,
    now: i64,
) -> Result<(), Refusal> {
    row.switching = Some(what.to_string());
    store_state(db, row, now).await.map_err(failed)
}

/// The consulted agent answers a ringing voice consultation.
pub async fn answer(
    db: &mut Conn<'_>,
    ctx: &Ctx<'_>,
    agent_id: i64,
    id: &str,
    accept: bool,
) -> Result<Changed, Refusal> {
    let mut row = participant(db, agent_id, id).await?;
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
    if row.switching.is_some() {
        return Err(switch_busy());
    }
    if !accept {
        return finish(db, ctx, row).await;
    }
    mark_switching(db, &mut row, CONNECTING, ctx.now).await?;
    Ok(Changed::then(SwitchWork::Connect {
        id: row.id,
        consult_call: row.consult_call,
    }))
}

/// Either agent ends a voice consultation that has not ended.
pub async fn end(
    db: &mut Conn<'_>,
    ctx: &Ctx<'_>,
    agent_id: i64,
    id: &str,
) -> Result<Changed, Refusal> {
    let row = participant(db, agent_id, id).await?;
    if row.state() == VoiceConsultationState::Ended {
        return Err(wrong_state("the voice consultation has already ended"));
    }
    if row.switching.is_some() {
        return Err(switch_busy());
    }
    finish(db, ctx, row).await
}

/// Asks the switch to release the consult call and take the customer off hold.
async fn finish(db: &mut Conn<'_>, ctx: &Ctx<'_>, mut row: Row) -> Result<Changed, Refusal> {
    mark_switching(db, &mut row, ENDING, ctx.now).await?;
    Ok(Changed::then(SwitchWork::Finish {
        id: row.id,
        consult_call: row.consult_call,
        customer_call: row.customer_call,
    }))
}

/// Records what the switch did for a consultation, with the events both agents are owed,
/// and answers the request that asked for it.
pub async fn record(
    db: &mut Conn<'_>,
    ctx: &Ctx<'_>,
    id: &str,
    switched: Switched,
) -> Result<Changed, Refusal> {
    let mut row = load(db, id).await.map_err(failed)?.ok_or_else(|| {
        Refusal::new(
            Kind::NotFound(Missing::Consultation),
            "you have no voice consultation with this id",
        )
    })?;
    // The interaction ended meanwhile, and the consultation with it.
    let ended_meanwhile = || wrong_state("the interaction ended while the switch was working");
    if row.state() == VoiceConsultationState::Ended {
        return match switched {
            // The new consult call is hung up after this commit; the agent is told why.
            Switched::Placed(Ok(consulted)) => Ok(Changed {
                reply: Err(ended_meanwhile()),
                events: Vec::new(),
                then: Some(SwitchWork::Release(vec![consulted.consult])),
            }),
            Switched::Finished { .. } => Ok(Changed::now(Committed::Done, Vec::new())),
            Switched::Placed(Err(_)) | Switched::Connected(_) => Err(ended_meanwhile()),
        };
    }
    row.switching = None;
    match switched {
        Switched::Placed(Ok(consulted)) => {
            row.consult_call = consulted.consult;
            store_state(db, &row, ctx.now).await.map_err(failed)?;
            let held = move_interaction(db, ctx, &row, InteractionState::Held).await?;
            let mut events = vec![held];
            events.extend(announce(db, &row, ctx.now).await.map_err(failed)?);
            tracing::info!(consultation = %row.id, interaction = %row.interaction_id, "voice consultation ringing");
            let reply = Committed::VoiceConsultation(row.wire());
            Ok(Changed::now(reply, events))
        }
        Switched::Placed(Err((e, still_held))) => {
            // The failure is recorded: when the customer could not be taken off hold, both
            // the consultation and the interaction say so.
            row.state = state_name(VoiceConsultationState::Ended).to_string();
            row.customer_held = still_held;
            store_state(db, &row, ctx.now).await.map_err(failed)?;
            let mut events = Vec::new();
            if still_held {
                let held = move_interaction(db, ctx, &row, InteractionState::Held).await?;
                events.push(held);
                events.extend(announce(db, &row, ctx.now).await.map_err(failed)?);
            }
            Ok(Changed::refused(switch_refused(e), events))
        }
        Switched::Connected(Err(e)) => {
            store_state(db, &row, ctx.now).await.map_err(failed)?;
            Ok(Changed::refused(switch_refused(e), Vec::new()))
        }
        Switched::Connected(Ok(())) => {
            row.state = state_name(VoiceConsultationState::Connected).to_string();
            store_state(db, &row, ctx.now).await.map_err(failed)?;
            let events = announce(db, &row, ctx.now).await.map_err(failed)?;
            tracing::info!(consultation = %row.id, "voice consultation connected");
            Ok(Changed::now(Committed::Done, events))
        }
        Switched::Finished {
            released: Err(e), ..
        } => {
            store_state(db, &row, ctx.now).await.map_err(failed)?;
            Ok(Changed::refused(switch_refused(e), Vec::new()))
        }
        Switched::Finished {
            released: Ok(()),
            retrieved,
        } => {
            row.state = state_name(VoiceConsultationState::Ended).to_string();
            row.customer_held = !retrieved;
            store_state(db, &row, ctx.now).await.map_err(failed)?;
            let mut events = Vec::with_capacity(3);
            if retrieved {
                let still_held = interactions::load(db, &row.interaction_id)
                    .await
                    .map_err(failed)?
                    .is_some_and(|i| i.state == InteractionState::Held);
                if still_held {
                    let back = move_interaction(db, ctx, &row, InteractionState::Active).await?;
                    events.push(back);
                }
            }
            events.extend(announce(db, &row, ctx.now).await.map_err(failed)?);
            tracing::info!(consultation = %row.id, "voice consultation ended");
            Ok(Changed::now(Committed::Done, events))
        }
    }
}

/// Moves the consultation's interaction to `state`, with the event its agent is owed.
async fn move_interaction(
    db: &mut Conn<'_>,
    ctx: &Ctx<'_>,
    row: &Row,
    state: InteractionState,
) -> Result<(i64, Outgoing), Refusal> {
    interactions::set_state(db, &row.interaction_id, state, ctx.now)
        .await
        .map_err(failed)?;
    let (_, event) = interactions::announce(db, ctx.config, &row.interaction_id, ctx.now)
        .await
        .map_err(failed)?;
    Ok(event)
}

/// Whether a consultation about this interaction holds the customer's call (being placed
/// or not ended).
pub async fn holds_customer(db: &mut Conn<'_>, interaction_id: &str) -> sqlx::Result<bool> {
    Ok(open_row_for_interaction(db, interaction_id)
        .await?
        .is_some())
}

/// The interaction is ending (the integration says so): its voice consultation, if one is
/// open, ends too. Returns the events, and the calls the switch should forget once this is
/// committed (its failures are logged, not refused: the customer is gone whatever it says).
pub async fn end_with_interaction(
    db: &mut Conn<'_>,
    interaction: &Interaction,
    now: i64,
) -> sqlx::Result<(Vec<(i64, Outgoing)>, Vec<String>)> {
    let mut events = Vec::new();
    let mut release = Vec::new();
    if let Some(mut row) = open_row_for_interaction(db, &interaction.id).await? {
        let announced = !row.placing();
        if !row.consult_call.is_empty() {
            release.push(row.consult_call.clone());
        }
        row.state = state_name(VoiceConsultationState::Ended).to_string();
        row.customer_held = false;
        row.switching = None;
        store_state(db, &row, now).await?;
        if announced {
            events.extend(announce(db, &row, now).await?);
        }
    }
    let consulted: bool = db
        .value(statement!(
            "SELECT EXISTS (SELECT 1 FROM voice_consultations WHERE interaction_id = $1)",
            &interaction.id
        ))
        .await?;
    // Only calls the switch was asked about are known to it.
    if consulted {
        release.push(interaction.id.clone());
    }
    Ok((events, release))
}
