//! Connecting to the hub, the one way every connection is made: a first sign-in with a
//! password, a sign-in with a remembered token, and every reconnection. The client says what
//! its cache holds of the agent's events; the hub replays what it missed after its answer,
//! or says that the client must take a snapshot instead.

use std::time::{Duration, Instant};

use huddle_protocol::request::{self, Ask};
use huddle_protocol::{AgentProfile, ErrorCode, HubLimits, Presence};
use tokio::sync::mpsc;

use crate::address::hub_ws_urls;
use crate::cache::Held;
use crate::engine::Hub;
use crate::error::ClientError;
use crate::link::{Incoming, Link};

/// How many frames may wait between the link and the engine.
const INCOMING: usize = 1024;
/// How long a sign-in waits for a hub that is busy signing agents in (a shift change)
/// before saying so.
const BUSY_PATIENCE: Duration = Duration::from_secs(60);

/// How the agent proves who they are.
#[derive(Clone, Copy)]
pub(crate) enum Proof<'a> {
    /// A password.
    Password(&'a str),
    /// A session token from an earlier sign-in.
    Token(&'a str),
}

/// A connection that is signed in: the missed events (or nothing, when a resync is needed)
/// wait in `incoming`, followed by whatever the hub sends from now on.
pub(crate) struct Connection {
    pub link: Link,
    pub incoming: mpsc::Receiver<Incoming>,
    pub limits: HubLimits,
    pub agent: AgentProfile,
    /// The token to resume with from now on: a new one after a password.
    pub token: String,
    pub presence: Presence,
    /// The history the hub's event numbers belong to.
    pub history: String,
    /// The hub cannot replay from what the cache holds: take a snapshot.
    pub resync_required: bool,
    /// The agent's latest event number when the hub answered: the replay ends there.
    pub seq: i64,
}

/// Opens a link to the first of the hub's addresses that answers, starting with the one that
/// answered last: a hub whose node has gone is reached through another. Only a node that
/// cannot be reached is passed over; one that answers and refuses is the hub's answer.
async fn open(
    hub: &Hub,
    incoming: mpsc::Sender<Incoming>,
) -> Result<(Link, HubLimits), ClientError> {
    let urls = hub_ws_urls(&hub.address)?;
    let first = hub.answered_last() % urls.len();
    let mut unreachable = Vec::new();
    for n in (first..urls.len()).chain(0..first) {
        match Link::open(
            &urls[n],
            hub.ca_file.as_deref(),
            &hub.proxy,
            incoming.clone(),
        )
        .await
        {
            Ok(opened) => {
                hub.answered(n);
                return Ok(opened);
            }
            Err(ClientError::Unreachable { url, reason }) => unreachable.push((url, reason)),
            Err(refused) => return Err(refused),
        }
    }
    let (urls, reasons): (Vec<String>, Vec<String>) = unreachable.into_iter().unzip();
    Err(ClientError::Unreachable {
        url: urls.join(" or "),
        reason: reasons.join("; "),
    })
}

/// Connects to `hub` and signs in as `login` with `proof`, resuming from `held`.
pub(crate) async fn connect(
    hub: &Hub,
    login: &str,
    proof: Proof<'_>,
    held: &Held,
) -> Result<Connection, ClientError> {
    let (incoming_tx, incoming) = mpsc::channel(INCOMING);
    let (link, limits) = open(hub, incoming_tx).await?;
    // Numbers are only worth naming with the history they belong to.
    let history = held.history.clone();
    let last_seq = history.as_ref().map(|_| held.last_seq);
    let (agent, token, presence, history, resync_required, seq) = match proof {
        Proof::Password(password) => {
            let request = request::Login {
                login: login.to_string(),
                password: password.to_string(),
                last_seq,
                history,
            };
            let a = closed_unless_ok(&link, ask_until_not_busy(&link, request).await).await?;
            (
                a.agent,
                a.token,
                a.presence,
                a.history,
                a.resync_required,
                a.seq,
            )
        }
        Proof::Token(token) => {
            let request = request::Resume {
                token: token.to_string(),
                last_seq: last_seq.unwrap_or(0),
                history,
            };
            let a = closed_unless_ok(&link, ask_until_not_busy(&link, request).await).await?;
            (
                a.agent,
                token.to_string(),
                a.presence,
                a.history,
                a.resync_required,
                a.seq,
            )
        }
    };
    Ok(Connection {
        link,
        incoming,
        limits,
        agent,
        token,
        presence,
        history,
        resync_required,
        seq,
    })
}

/// A link that did not sign in is of no further use.
async fn closed_unless_ok<T>(
    link: &Link,
    answered: Result<T, ClientError>,
) -> Result<T, ClientError> {
    if answered.is_err() {
        link.close().await;
    }
    answered
}

/// Asks, and asks again a little later for as long as the hub says it is busy (it checks
/// passwords a few at a time), up to [`BUSY_PATIENCE`].
async fn ask_until_not_busy<R: Ask + Clone>(
    link: &Link,
    request: R,
) -> Result<R::Answer, ClientError> {
    let started = Instant::now();
    loop {
        match link.ask(request.clone()).await {
            Err(ClientError::Refused(e))
                if e.code == ErrorCode::Busy && started.elapsed() < BUSY_PATIENCE =>
            {
                // Spread out, so that a crowd does not come back at one instant.
                let wait = Duration::from_millis(500 + rand::random::<u64>() % 1500);
                tracing::debug!(
                    wait_ms = wait.as_millis() as u64,
                    "the hub is busy; asking again"
                );
                tokio::time::sleep(wait).await;
            }
            answered => return answered,
        }
    }
}
