//! The answers to a signed-in agent's requests that read, or change only the agent's own
//! settings: each is typed by its request's kind ([`Ask`]). Changes to sessions,
//! interactions and consultations go through the writer instead (see `connection`).

use huddle_protocol::request::{self, Ask};
use huddle_protocol::{answer, ErrorCode, ErrorFrame, TRANSCRIPT_PAGE};

use crate::services::committed::Committed;
use crate::services::{consultations, directory, interactions, sessions};
use crate::transport::refusals::error_frame;
use crate::transport::shared::Shared;

/// How far back a snapshot lists ended sessions.
const SNAPSHOT_ENDED_MS: i64 = 24 * 3600 * 1000;

/// What request `R` is answered: its answer, or an error frame.
pub(crate) type Answered<R> = Result<<R as Ask>::Answer, ErrorFrame>;

/// A request the hub failed to answer for its own reasons: logged, and told plainly.
pub(crate) fn failed(e: impl std::fmt::Display) -> ErrorFrame {
    tracing::error!(error = %e, "request failed");
    ErrorFrame::new(ErrorCode::Internal, "the hub failed to answer; try again")
}

/// The answer a committed change gets.
pub(crate) fn committed(answer: Committed) -> huddle_protocol::Encoded {
    use huddle_protocol::Encoded;
    match answer {
        Committed::Session(session) => Encoded::new(&answer::Session { session }),
        Committed::Sent(message) => Encoded::new(&answer::Sent { message }),
        Committed::VoiceConsultation(consultation) => {
            Encoded::new(&answer::VoiceConsultation { consultation })
        }
        Committed::Done => Encoded::new(&answer::Done {}),
    }
}

pub(crate) async fn set_presence(
    shared: &Shared,
    agent_id: i64,
    asked: request::SetPresence,
) -> Answered<request::SetPresence> {
    shared
        .cluster
        .choose(agent_id, asked.presence)
        .await
        .map_err(error_frame)?;
    Ok(answer::Done {})
}

pub(crate) async fn search(
    shared: &Shared,
    agent_id: i64,
    asked: request::Search,
) -> Answered<request::Search> {
    let entries = directory::search(
        &shared.store,
        &shared.registry,
        agent_id,
        &asked.query,
        asked.filter,
        asked.limit,
    )
    .await
    .map_err(failed)?;
    Ok(answer::Directory { entries })
}

pub(crate) async fn follow(
    shared: &Shared,
    agent_id: i64,
    device: u64,
    asked: request::Follow,
) -> Answered<request::Follow> {
    let max = shared.config.limits.max_followed;
    if asked.agents.len() > max as usize {
        return Err(ErrorFrame::new(
            ErrorCode::LimitExceeded,
            format!(
                "a connection may follow at most {max} agents; this asks for {}",
                asked.agents.len()
            ),
        ));
    }
    let known = directory::existing(&shared.store, &asked.agents)
        .await
        .map_err(failed)?;
    shared.registry.follow(agent_id, device, known);
    Ok(answer::Done {})
}

pub(crate) async fn set_favorite(
    shared: &Shared,
    agent_id: i64,
    asked: request::SetFavorite,
) -> Answered<request::SetFavorite> {
    let target = asked.agent_id;
    if !directory::is_target(&shared.store, target)
        .await
        .map_err(failed)?
    {
        return Err(ErrorFrame::new(
            ErrorCode::UnknownTarget,
            "no agent with this id can receive IMs",
        ));
    }
    directory::set_favorite(&shared.store, agent_id, target, asked.favorite)
        .await
        .map_err(failed)?;
    Ok(answer::Done {})
}

pub(crate) async fn snapshot(shared: &Shared, agent_id: i64) -> Answered<request::Snapshot> {
    let since = crate::store::now_millis() - SNAPSHOT_ENDED_MS;
    // The number is read before the sessions: an event that lands in between is both in the
    // snapshot and after `seq`, which a client tolerates; the other order could lose it.
    let seq = sessions::last_seq(&shared.store, agent_id)
        .await
        .map_err(failed)?;
    let read = async {
        let mut pooled = shared.store.acquire().await?;
        let mut db = pooled.conn();
        let sessions = sessions::snapshot(&mut db, agent_id, since).await?;
        let interactions = interactions::open_for(&mut db, agent_id).await?;
        let voice = consultations::open_for_agent(&mut db, agent_id).await?;
        Ok::<_, sqlx::Error>((sessions, interactions, voice))
    };
    let (sessions, interactions, voice_consultations) = read.await.map_err(failed)?;
    Ok(answer::Snapshot {
        seq,
        presence: shared.registry.presence(agent_id),
        sessions,
        interactions: interactions
            .iter()
            .map(|i| i.summary(&shared.config))
            .collect(),
        voice_consultations,
    })
}

pub(crate) async fn interactions(
    shared: &Shared,
    agent_id: i64,
) -> Answered<request::Interactions> {
    let read = async {
        let mut pooled = shared.store.acquire().await?;
        let mut db = pooled.conn();
        interactions::open_for(&mut db, agent_id).await
    };
    let open = read.await.map_err(failed)?;
    Ok(answer::Interactions {
        interactions: open.iter().map(|i| i.summary(&shared.config)).collect(),
    })
}

pub(crate) async fn transcript(
    shared: &Shared,
    agent_id: i64,
    asked: request::Transcript,
) -> Answered<request::Transcript> {
    let limit = asked
        .limit
        .unwrap_or(TRANSCRIPT_PAGE)
        .clamp(1, TRANSCRIPT_PAGE) as usize;
    let page = async {
        let mut pooled = shared.store.acquire().await?;
        let mut db = pooled.conn();
        let session = match sessions::load(&mut db, &asked.session_id).await? {
            Some(s) if s.inviter.id == agent_id || s.target.id == agent_id => s,
            _ => return Ok(None),
        };
        sessions::page(&mut db, &session.id, asked.before_seq, limit)
            .await
            .map(Some)
    };
    match page.await.map_err(failed)? {
        Some((messages, earlier)) => Ok(answer::Transcript {
            session_id: asked.session_id,
            messages,
            earlier,
        }),
        None => Err(ErrorFrame::new(
            ErrorCode::UnknownSession,
            "you have no session with this id",
        )),
    }
}

pub(crate) async fn interaction_details(
    shared: &Shared,
    agent_id: i64,
    asked: request::InteractionDetails,
) -> Answered<request::InteractionDetails> {
    let mut pooled = shared.store.acquire().await.map_err(failed)?;
    let mut db = pooled.conn();
    let details = interactions::details(&mut db, &shared.config, agent_id, &asked.interaction_id)
        .await
        .map_err(error_frame)?;
    Ok(answer::InteractionDetails {
        details: Box::new(details),
    })
}

pub(crate) async fn contact_history(
    shared: &Shared,
    agent_id: i64,
    asked: request::ContactHistory,
) -> Answered<request::ContactHistory> {
    let mut pooled = shared.store.acquire().await.map_err(failed)?;
    let mut db = pooled.conn();
    let entries = interactions::history(
        &mut db,
        agent_id,
        &asked.interaction_id,
        &asked.query,
        asked.limit,
    )
    .await
    .map_err(error_frame)?;
    Ok(answer::ContactHistory { entries })
}
