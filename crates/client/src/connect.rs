//! Connecting to the hub, the one way every connection is made: a first sign-in with a
//! password, a sign-in with a remembered token, and every reconnection. The client says what
//! its cache holds of the agent's events; the hub replays what it missed after its answer,
//! or says that the client must take a snapshot instead.

use huddle_protocol::{AgentProfile, HubLimits, Presence, Reply, Request};
use tokio::sync::mpsc;

use crate::cache::Held;
use crate::engine::Hub;
use crate::error::ClientError;
use crate::link::{Incoming, Link};

/// How many frames may wait between the link and the engine.
const INCOMING: usize = 1024;

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
}

/// Connects to `hub` and signs in as `login` with `proof`, resuming from `held`.
pub(crate) async fn connect(
    hub: &Hub,
    login: &str,
    proof: Proof<'_>,
    held: &Held,
) -> Result<Connection, ClientError> {
    let (incoming_tx, incoming) = mpsc::channel(INCOMING);
    let (link, limits) = Link::open(&hub.address, hub.ca_file.as_deref(), incoming_tx).await?;
    // Numbers are only worth naming with the history they belong to.
    let history = held.history.clone();
    let last_seq = history.as_ref().map(|_| held.last_seq);
    let request = match proof {
        Proof::Password(password) => Request::Login {
            login: login.to_string(),
            password: password.to_string(),
            last_seq,
            history,
        },
        Proof::Token(token) => Request::Resume {
            token: token.to_string(),
            last_seq: last_seq.unwrap_or(0),
            history,
        },
    };
    let answered = link.request(request).await;
    let (agent, token, presence, history, resync_required) = match (answered, proof) {
        (
            Ok(Reply::LoggedIn {
                agent,
                token,
                presence,
                history,
                resync_required,
                ..
            }),
            _,
        ) => (agent, token, presence, history, resync_required),
        (
            Ok(Reply::Resumed {
                agent,
                presence,
                history,
                resync_required,
                ..
            }),
            Proof::Token(token),
        ) => (agent, token.to_string(), presence, history, resync_required),
        (Ok(other), _) => {
            link.close().await;
            return Err(ClientError::Protocol(format!(
                "expected a sign-in answer, got `{}`",
                other.kind()
            )));
        }
        (Err(e), _) => {
            link.close().await;
            return Err(e);
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
    })
}
