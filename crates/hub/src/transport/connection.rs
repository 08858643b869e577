//! One client's WebSocket connection: hello, login or resume, then the agent's requests,
//! answered one by one, with the agent's events and presence updates interleaved.

use std::future::Future;
use std::net::IpAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::ws::{close_code, CloseFrame, Message, WebSocket};
use futures_util::stream::{FuturesOrdered, StreamExt};
use huddle_protocol::answer::{self, Answer};
use huddle_protocol::request;
use huddle_protocol::{
    decode_client_frame, encode_refusal, AgentProfile, Encoded, ErrorCode, ErrorFrame, HubLimits,
    Presence, Request, PROTOCOL_VERSION,
};
use tokio::sync::mpsc;
use tokio::time::Instant;

use crate::services::accounts::{self, Account, LoginCheck};
use crate::services::messages::NewMessage;
use crate::services::registry::{Departure, Kick, Outgoing, DEVICE_QUEUE};
use crate::services::throttle::Spend;
use crate::services::writer::{Asked, Change};
use crate::services::{presence, sessions, tokens};
use crate::transport::asks;
use crate::transport::listener::Place;
use crate::transport::refusals::error_frame;
use crate::transport::shared::Shared;

/// How often the hub pings a connection (more often when the idle timeout is shorter).
const PING_EVERY: Duration = Duration::from_secs(20);
/// How long a dropped device's close frame may wait for room to be written.
const CLOSE_WAIT: Duration = Duration::from_secs(1);
/// How many answers to changes one connection may wait for at once.
const MAX_PENDING: usize = 256;
/// How long a connection is not read after a request refused for its pace, a refused
/// sign-in, or a frame that is not a request.
const REFUSED_PAUSE: Duration = Duration::from_millis(250);
/// The longest a connection is not read after a refusal.
const MAX_HOLD: Duration = Duration::from_secs(5);

/// Where a connection is in its life.
enum Phase {
    AwaitingHello,
    AwaitingLogin,
    LoggedIn(LoggedIn),
}

struct LoggedIn {
    account: Account,
    /// The token this connection logged in with (revoked by `logout`).
    token: String,
    device: u64,
}

/// What a client says it holds of the agent's events when it logs in.
struct Held {
    /// The last event it holds.
    last_seq: Option<i64>,
    /// The history that number belongs to.
    history: Option<String>,
}

/// Why a connection could not become a device of its agent.
enum NotStarted {
    /// The agent is signed in on as many devices as the hub allows.
    TooManyDevices(u32),
    Failed(sqlx::Error),
}

impl From<sqlx::Error> for NotStarted {
    fn from(e: sqlx::Error) -> Self {
        Self::Failed(e)
    }
}

impl NotStarted {
    fn refusal(self) -> Handled {
        match self {
            Self::TooManyDevices(max) => refuse(
                ErrorCode::LimitExceeded,
                format!(
                    "you are signed in on {max} devices already; sign out on one of them \
                     (a closed one is forgotten within a minute)"
                ),
            ),
            Self::Failed(e) => internal(e),
        }
    }
}

/// A device that has just logged in.
struct Started {
    agent: AgentProfile,
    /// The agent's latest event number.
    seq: i64,
    presence: Presence,
    /// The device must take a snapshot: the hub cannot replay from what it holds.
    resync_required: bool,
    /// The events it missed, to send after the answer.
    replay: Vec<Outgoing>,
}

/// One connection's state.
struct Conn {
    shared: Arc<Shared>,
    phase: Phase,
    queue_tx: mpsc::Sender<Outgoing>,
    /// Told when the connection must end at once: the registry dropped this device (its queue
    /// overflowed; the client resumes), or its agent's account changed.
    kick: Arc<Kick>,
    /// Where the connection comes from.
    address: IpAddr,
    /// The number of the last event written to this connection.
    delivered: i64,
    /// How long not to read this connection after the answer just given, when longer than
    /// after any refusal (a login throttled for its failures waits out the throttle).
    hold_reading: Option<Duration>,
    /// The number of the last account change stored when the latest sign-in began to read
    /// the agent's account.
    signing_in_since: i64,
}

/// What to do with the connection after a frame.
enum Next {
    Continue,
    Close,
}

/// Serves one WebSocket until it closes. `place` is the connection's place among those the hub
/// holds (see `listener`), given back when this returns.
pub(crate) async fn run(shared: Arc<Shared>, mut socket: WebSocket, place: Arc<Place>) {
    let (queue_tx, mut queue) = mpsc::channel::<Outgoing>(DEVICE_QUEUE);
    let limits = &shared.config.limits;
    let kick = Arc::new(Kick::default());
    let mut conn = Conn {
        shared: shared.clone(),
        phase: Phase::AwaitingHello,
        queue_tx,
        kick: kick.clone(),
        address: place.address(),
        delivered: 0,
        hold_reading: None,
        signing_in_since: 0,
    };
    let idle_timeout = Duration::from_secs(limits.idle_timeout_secs.max(1));
    let mut stopping = shared.stopping.clone();
    let ping_every = PING_EVERY.min(idle_timeout / 2);
    let mut ping = tokio::time::interval_at(Instant::now() + ping_every, ping_every);
    let mut last_heard = Instant::now();
    // A socket that never signs in is closed, whatever else it sends (pongs included).
    let sign_in = tokio::time::sleep(Duration::from_secs(limits.sign_in_secs.max(1)));
    tokio::pin!(sign_in);
    shared.metrics.connection_opened();
    // Changes are answered once committed; meanwhile further requests are read, so a
    // client may send without waiting (answers keep the order of the requests).
    let mut pending = FuturesOrdered::new();
    // After a request refused for coming too fast, or a frame that is not a request, the
    // connection is not read for a moment: a client that floods is held to the pace of its
    // budget by its own socket, at no cost to the hub, instead of being answered at its pace.
    let mut read_again = Instant::now();
    loop {
        let paused = Instant::now() < read_again;
        let message = tokio::select! {
            message = socket.recv(), if pending.len() < MAX_PENDING && !paused => message,
            () = tokio::time::sleep_until(read_again), if paused => continue,
            Some((req, reply)) = pending.next(), if !pending.is_empty() => {
                if send(&mut socket, &kick, req, &reply).await.is_err() {
                    break;
                }
                continue;
            }
            Some(out) = queue.recv() => {
                if conn.should_write(&out) && write(&mut socket, &kick, &out).await.is_err() {
                    break;
                }
                continue;
            }
            () = &mut sign_in, if !conn.signed_in() => {
                let bye = close(close_code::POLICY, "sign in sooner: the time to sign in is over");
                let _ = tokio::time::timeout(CLOSE_WAIT, socket.send(bye)).await;
                break;
            }
            (code, reason) = kick.received() => {
                // The client may not read even this, so it is not waited for long.
                let _ = tokio::time::timeout(CLOSE_WAIT, socket.send(close(code, reason))).await;
                break;
            }
            _ = ping.tick() => {
                if last_heard.elapsed() >= idle_timeout {
                    let _ = socket.send(close(close_code::AWAY, "no frame within the idle timeout")).await;
                    break;
                }
                if socket.send(Message::Ping(Default::default())).await.is_err() {
                    break;
                }
                continue;
            }
            _ = async { stopping.wait_for(|stop| *stop).await.is_ok() } => {
                let _ = socket.send(close(close_code::AWAY, "the hub is shutting down")).await;
                break;
            }
        };
        last_heard = Instant::now();
        let message = match message {
            None => break,
            Some(Ok(m)) => m,
            Some(Err(e)) => {
                tracing::debug!(error = %e, "connection read failed");
                // A frame refused for what it is gets a close frame that says why, so that
                // the client does not take it for a network failure and send it again.
                if let Some((code, reason)) = unreadable(e) {
                    let _ =
                        tokio::time::timeout(CLOSE_WAIT, socket.send(close(code, reason))).await;
                }
                break;
            }
        };
        let max = shared.config.limits.max_frame_bytes;
        let (answer, next) = match message {
            Message::Text(text) if text.len() > max => (
                (
                    None,
                    ErrorFrame::new(
                        ErrorCode::FrameTooLarge,
                        format!(
                            "frames may have at most {max} bytes; this one has {}",
                            text.len()
                        ),
                    ),
                ),
                Next::Continue,
            ),
            Message::Text(text) => match decode_client_frame(text.as_str()) {
                Ok(frame) => {
                    // Boxed: a request's future is large (logins, searches, snapshots), and
                    // in place it would make every connection's task that large while it
                    // waits, which is nearly always.
                    let handled = Box::pin(conn.handle(frame.request)).await;
                    let (answered, next, replay) = match handled {
                        Handled::Now(answered, next, replay) => (answered, next, replay),
                        Handled::Later(answer) => {
                            let req = frame.req;
                            pending.push_back(async move { (req, answer.await) });
                            continue;
                        }
                    };
                    if let Err(e) = &answered {
                        if matches!(
                            e.code,
                            ErrorCode::RateLimited
                                | ErrorCode::Busy
                                | ErrorCode::WrongPassword
                                | ErrorCode::TokenInvalid
                        ) {
                            let hold = conn.hold_reading.take().unwrap_or_default();
                            read_again = Instant::now() + hold.clamp(REFUSED_PAUSE, MAX_HOLD);
                        }
                    }
                    if send(&mut socket, &kick, frame.req, &answered)
                        .await
                        .is_err()
                    {
                        break;
                    }
                    // Missed events follow the `logged_in` or `resumed` answer, in order.
                    let mut failed = false;
                    for out in replay {
                        if conn.should_write(&out) && write(&mut socket, &kick, &out).await.is_err()
                        {
                            failed = true;
                            break;
                        }
                    }
                    if failed {
                        break;
                    }
                    if let Next::Close = next {
                        let _ = socket.send(Message::Close(None)).await;
                        break;
                    }
                    continue;
                }
                Err((req, error)) => ((req, error), Next::Continue),
            },
            Message::Binary(_) => (
                (
                    None,
                    ErrorFrame::new(
                        ErrorCode::BinaryFrame,
                        "frames must be JSON text, not binary",
                    ),
                ),
                Next::Continue,
            ),
            Message::Close(_) => break,
            Message::Ping(_) | Message::Pong(_) => continue,
        };
        // Only frames that are not requests get here.
        read_again = Instant::now() + REFUSED_PAUSE;
        let (re, error) = answer;
        if send_error(&mut socket, &kick, re, &error).await.is_err() {
            break;
        }
        if let Next::Close = next {
            break;
        }
    }
    conn.leave();
    shared.metrics.connection_closed();
}

/// The close code and reason for a frame the WebSocket library refused to read, when it was
/// the frame's fault (not the network's).
fn unreadable(e: axum::Error) -> Option<(u16, &'static str)> {
    match *e.into_inner().downcast::<tungstenite::Error>().ok()? {
        tungstenite::Error::Capacity(_) => Some((
            close_code::SIZE,
            "the frame is far larger than the hub accepts",
        )),
        tungstenite::Error::Utf8(_) => Some((close_code::INVALID, "a text frame must be UTF-8")),
        _ => None,
    }
}

fn close(code: u16, reason: &str) -> Message {
    Message::Close(Some(CloseFrame {
        code,
        reason: reason.into(),
    }))
}

/// Writes the answer to request `re` (see [`write_message`]).
async fn send(
    socket: &mut WebSocket,
    kick: &Kick,
    re: u64,
    answered: &Answered,
) -> Result<(), Gone> {
    let text = match answered {
        Ok(answer) => answer.frame(re),
        Err(e) => {
            tracing::debug!(code = %e.code, "request refused");
            encode_refusal(Some(re), e)
        }
    };
    write_message(socket, kick, Message::Text(text.into())).await
}

/// Writes the error about a frame that is not a request, or not one the hub could read
/// (see [`write_message`]).
async fn send_error(
    socket: &mut WebSocket,
    kick: &Kick,
    re: Option<u64>,
    error: &ErrorFrame,
) -> Result<(), Gone> {
    tracing::debug!(code = %error.code, "frame refused");
    let text = encode_refusal(re, error);
    write_message(socket, kick, Message::Text(text.into())).await
}

/// Writes a queued frame (see [`write_message`]).
async fn write(socket: &mut WebSocket, kick: &Kick, out: &Outgoing) -> Result<(), Gone> {
    write_message(socket, kick, Message::Text(out.text.as_ref().into())).await
}

/// The connection cannot go on: the client left, or the hub dropped it.
struct Gone;

/// Writes a message, unless the registry drops this device first: a client that stopped
/// reading leaves the write waiting for room, and must not keep its connection open and
/// silent while its events pile up elsewhere.
async fn write_message(socket: &mut WebSocket, kick: &Kick, message: Message) -> Result<(), Gone> {
    tokio::select! {
        sent = socket.send(message) => sent.map_err(|e| {
            tracing::debug!(error = %e, "connection write failed");
            Gone
        }),
        (_, reason) = kick.received() => {
            tracing::info!(%reason, "closed a connection in the middle of a write");
            Err(Gone)
        }
    }
}

/// A request's answer, of whichever kind it gets, or its refusal.
type Answered = Result<Encoded, ErrorFrame>;

/// How a request is answered.
enum Handled {
    /// Now: the answer, what to do next, and missed events to send after it.
    Now(Answered, Next, Vec<Outgoing>),
    /// When the writer has committed the change.
    Later(Pin<Box<dyn Future<Output = Answered> + Send>>),
}

fn refuse(code: ErrorCode, message: impl Into<String>) -> Handled {
    Handled::Now(
        Err(ErrorFrame::new(code, message)),
        Next::Continue,
        Vec::new(),
    )
}

fn answer<A: Answer>(answered: Result<A, ErrorFrame>) -> Handled {
    Handled::Now(
        answered.map(|a| Encoded::new(&a)),
        Next::Continue,
        Vec::new(),
    )
}

fn internal(e: impl std::fmt::Display) -> Handled {
    Handled::Now(Err(asks::failed(e)), Next::Continue, Vec::new())
}

impl Conn {
    fn signed_in(&self) -> bool {
        matches!(self.phase, Phase::LoggedIn(_))
    }

    /// Whether a queued frame still needs writing: an event this connection already wrote
    /// (live and in a replay) is written once.
    fn should_write(&mut self, out: &Outgoing) -> bool {
        match out.seq {
            Some(seq) if seq <= self.delivered => false,
            Some(seq) => {
                self.delivered = seq;
                true
            }
            None => true,
        }
    }

    async fn handle(&mut self, request: Request) -> Handled {
        match (&self.phase, request) {
            (Phase::AwaitingHello, Request::Hello(request::Hello { protocol, client })) => {
                if protocol != PROTOCOL_VERSION {
                    tracing::info!(%client, protocol, "refused a client of another protocol version");
                    let message = format!(
                        "this hub ({}) speaks protocol version {PROTOCOL_VERSION} and the app speaks {protocol}; {}",
                        crate::HUB_VERSION,
                        if protocol < PROTOCOL_VERSION {
                            "update the app"
                        } else {
                            "ask your administrator to update the hub"
                        }
                    );
                    return Handled::Now(
                        Err(ErrorFrame::new(ErrorCode::UnsupportedVersion, message)),
                        Next::Close,
                        Vec::new(),
                    );
                }
                self.phase = Phase::AwaitingLogin;
                let limits = &self.shared.config.limits;
                answer(Ok(answer::Welcome {
                    protocol: PROTOCOL_VERSION,
                    hub: crate::HUB_VERSION.to_string(),
                    limits: HubLimits {
                        max_message_chars: u32::try_from(limits.max_message_chars)
                            .unwrap_or(u32::MAX),
                        max_followed: limits.max_followed,
                    },
                }))
            }
            (Phase::AwaitingHello, _) => refuse(
                ErrorCode::HelloRequired,
                "the first frame must be `hello` with the protocol version",
            ),
            (_, Request::Hello(_)) => refuse(
                ErrorCode::InvalidFrame,
                "`hello` was already exchanged on this connection",
            ),
            (
                Phase::AwaitingLogin,
                Request::Login(request::Login {
                    login,
                    password,
                    last_seq,
                    history,
                }),
            ) => {
                let held = Held { last_seq, history };
                self.login(&login, &password, held).await
            }
            (
                Phase::AwaitingLogin,
                Request::Resume(request::Resume {
                    token,
                    last_seq,
                    history,
                }),
            ) => {
                let held = Held {
                    last_seq: Some(last_seq),
                    history,
                };
                self.resume(&token, held).await
            }
            (Phase::LoggedIn(_), Request::Login(_) | Request::Resume(_)) => refuse(
                ErrorCode::AlreadyLoggedIn,
                "this connection is already logged in",
            ),
            (Phase::AwaitingLogin, _) => refuse(ErrorCode::NotLoggedIn, "log in first"),
            (Phase::LoggedIn(_), request) => self.agent_request(request).await,
        }
    }

    async fn login(&mut self, login: &str, password: &str, held: Held) -> Handled {
        const NOT_RIGHT: &str = "the login or the password is not right";
        let shared = self.shared.clone();
        let Ok(key) = accounts::normalize_login(login) else {
            tracing::debug!("login refused: not a login");
            return refuse(ErrorCode::WrongPassword, NOT_RIGHT);
        };
        let attempt = match shared.login_throttle.begin(&key, self.address) {
            Ok(attempt) => attempt,
            Err(wait) => {
                // Once per attempt refused: at debug, or a guesser would fill the log.
                tracing::debug!(login = %key, "login slowed down after failures from one address");
                self.hold_reading = Some(wait);
                return refuse(
                    ErrorCode::RateLimited,
                    format!(
                        "too many failed sign-ins for this login from here; try again in {} s",
                        wait.as_secs().max(1)
                    ),
                );
            }
        };
        // Read before the account: a change stored after this number closes the device.
        self.signing_in_since = match accounts::last_change(&shared.store).await {
            Ok(change) => change,
            Err(e) => {
                attempt.unchecked();
                return internal(e);
            }
        };
        let check =
            match accounts::check_login(&shared.store, &shared.hashing, &key, password).await {
                Ok(Ok(check)) => check,
                Ok(Err(_busy)) => {
                    attempt.unchecked();
                    tracing::info!(login = %key, "login refused: every password hasher is taken");
                    return refuse(
                        ErrorCode::Busy,
                        "the hub is signing in many agents at once; try again in a moment",
                    );
                }
                Err(e) => {
                    attempt.unchecked();
                    return internal(e);
                }
            };
        let account = match check {
            LoginCheck::Ok(account) => {
                attempt.succeeded();
                account
            }
            LoginCheck::Refused => {
                attempt.failed();
                tracing::info!(login = %key, "login refused");
                return refuse(ErrorCode::WrongPassword, NOT_RIGHT);
            }
            LoginCheck::Disabled => {
                attempt.succeeded();
                tracing::info!(login = %key, "login refused: account disabled");
                return refuse(
                    ErrorCode::AgentDisabled,
                    "this account is disabled; ask your administrator",
                );
            }
            LoginCheck::ImNotPermitted => {
                attempt.succeeded();
                tracing::info!(login = %key, "login refused: internal IM not permitted");
                return refuse(
                    ErrorCode::ImNotPermitted,
                    "your account is not set up for internal IM; ask your administrator",
                );
            }
        };
        let issued =
            match tokens::issue(&shared.store, account.id, shared.config.token_ttl_days).await {
                Ok(issued) => issued,
                Err(e) => return internal(e),
            };
        let started = match self.start_device(account, issued.token.clone(), held).await {
            Ok(started) => started,
            Err(not) => {
                // The session just made is of no use.
                if let Err(e) = tokens::revoke(&shared.store, &issued.token).await {
                    tracing::warn!(error = %e, "cannot revoke an unused session token");
                }
                return not.refusal();
            }
        };
        tracing::info!(login = %started.agent.login, seq = started.seq, resync_required = started.resync_required, "agent logged in");
        Handled::Now(
            Ok(Encoded::new(&answer::LoggedIn {
                agent: started.agent,
                token: issued.token,
                expires_at: issued.expires_at,
                seq: started.seq,
                presence: started.presence,
                history: self.shared.history.clone(),
                resync_required: started.resync_required,
            })),
            Next::Continue,
            started.replay,
        )
    }

    async fn resume(&mut self, token: &str, held: Held) -> Handled {
        let shared = self.shared.clone();
        if held.last_seq.is_some_and(|seq| seq < 0) {
            return refuse(ErrorCode::InvalidFrame, "last_seq must not be negative");
        }
        // Read before the token and the account (see `login`).
        self.signing_in_since = match accounts::last_change(&shared.store).await {
            Ok(change) => change,
            Err(e) => return internal(e),
        };
        let (agent_id, expires_at) = match tokens::check(&shared.store, token).await {
            Ok(Some(found)) => found,
            Ok(None) => {
                return refuse(
                    ErrorCode::TokenInvalid,
                    "the session has expired or was ended; log in again",
                )
            }
            Err(e) => return internal(e),
        };
        let account = match accounts::by_id(&shared.store, agent_id).await {
            Ok(Some(a)) if a.disabled => {
                return refuse(
                    ErrorCode::AgentDisabled,
                    "this account is disabled; ask your administrator",
                )
            }
            Ok(Some(a)) if !a.im_enabled => {
                return refuse(
                    ErrorCode::ImNotPermitted,
                    "your account is not set up for internal IM",
                )
            }
            Ok(Some(a)) => a,
            Ok(None) => return refuse(ErrorCode::TokenInvalid, "the account no longer exists"),
            Err(e) => return internal(e),
        };
        let started = match self.start_device(account, token.to_string(), held).await {
            Ok(started) => started,
            Err(not) => return not.refusal(),
        };
        tracing::info!(login = %started.agent.login, seq = started.seq, resync_required = started.resync_required, "agent resumed");
        Handled::Now(
            Ok(Encoded::new(&answer::Resumed {
                agent: started.agent,
                expires_at,
                seq: started.seq,
                presence: started.presence,
                history: self.shared.history.clone(),
                resync_required: started.resync_required,
            })),
            Next::Continue,
            started.replay,
        )
    }

    /// Makes this connection a device of the agent, whichever way it proved who it is, and
    /// works out what it missed from what it says it holds. The hub trusts that only when it
    /// can: a number of another history, or beyond the hub's own, gets a resync instead (a
    /// device that believed it held events the hub has not sent would never hear them).
    async fn start_device(
        &mut self,
        account: Account,
        token: String,
        held: Held,
    ) -> Result<Started, NotStarted> {
        let (device, seq, presence) = self.enter(&account).await?;
        let from = match (held.last_seq, held.history) {
            (Some(last_seq), Some(history))
                if history == self.shared.history && (0..=seq).contains(&last_seq) =>
            {
                Some(last_seq)
            }
            _ => None,
        };
        // Registered first, read second: an event committed meanwhile is either in the
        // replay or in the queue, and `should_write` writes it once.
        let max = self.shared.config.limits.max_replay_events;
        let replay = match from {
            Some(last_seq) => sessions::events_after(&self.shared.store, account.id, last_seq, max)
                .await?
                .map(|replay| (last_seq, replay)),
            None => None,
        };
        let (resync_required, replay) = match replay {
            Some((last_seq, replay)) => {
                self.delivered = last_seq;
                (false, replay)
            }
            None => (true, Vec::new()),
        };
        let agent = account.profile();
        self.phase = Phase::LoggedIn(LoggedIn {
            device,
            account,
            token,
        });
        Ok(Started {
            agent,
            seq,
            presence,
            resync_required,
            replay,
        })
    }

    /// Registers this connection as a device of the agent; returns the device, the agent's
    /// latest event number and presence.
    async fn enter(&mut self, account: &Account) -> Result<(u64, i64, Presence), NotStarted> {
        let (device, changed) = {
            let chosen = presence::chosen(&self.shared.store, account.id).await?;
            let max = self.shared.config.limits.max_devices_per_agent;
            self.shared
                .registry
                .connect(
                    account.id,
                    chosen,
                    self.queue_tx.clone(),
                    self.kick.clone(),
                    max,
                    self.signing_in_since,
                )
                .ok_or(NotStarted::TooManyDevices(max))?
        };
        if let Some(presence) = changed {
            self.shared
                .registry
                .broadcast_presence(account.id, presence);
            self.shared.cluster.online(account.id, presence).await;
        }
        // Read after registering: later events arrive through the queue.
        let seq = sessions::last_seq(&self.shared.store, account.id).await?;
        self.shared.registry.seen(account.id, seq);
        self.delivered = seq;
        Ok((device, seq, self.shared.registry.presence(account.id)))
    }

    /// Unregisters the device; the agent goes offline after the grace period unless a
    /// device connects again meanwhile.
    fn leave(&mut self) {
        let Phase::LoggedIn(me) = std::mem::replace(&mut self.phase, Phase::AwaitingLogin) else {
            return;
        };
        tracing::info!(login = %me.account.login, "agent disconnected");
        if let Departure::LastDevice { epoch } =
            self.shared.registry.disconnect(me.account.id, me.device)
        {
            // The timer holds the registry and the cluster only: a stopping hub does not
            // wait for it.
            let (registry, cluster) = (self.shared.registry.clone(), self.shared.cluster.clone());
            let grace = Duration::from_secs(self.shared.config.offline_grace_secs);
            tokio::spawn(async move {
                tokio::time::sleep(grace).await;
                let agent = me.account.id;
                if let Some(presence) = registry.go_offline_if_still_gone(agent, epoch) {
                    if presence == Presence::Offline {
                        registry.broadcast_presence(agent, presence);
                    }
                    cluster.offline(agent).await;
                }
            });
        }
    }

    async fn agent_request(&mut self, request: Request) -> Handled {
        let shared = self.shared.clone();
        let Phase::LoggedIn(me) = &self.phase else {
            return refuse(ErrorCode::NotLoggedIn, "log in first");
        };
        let (account, token, device) = (me.account.clone(), me.token.clone(), me.device);
        let agent_id = account.id;
        let costly = matches!(
            request,
            Request::Search(_)
                | Request::Follow(_)
                | Request::Snapshot(_)
                | Request::Transcript(_)
                | Request::Interactions(_)
                | Request::InteractionDetails(_)
                | Request::ContactHistory(_)
        );
        let l = &shared.config.limits;
        if costly
            && !shared
                .budgets
                .take(agent_id, Spend::Read, l.reads_per_second, l.read_burst)
        {
            return refuse(
                ErrorCode::RateLimited,
                "too many searches and reads at once; wait a moment",
            );
        }
        let change: Asked = match request {
            Request::Logout(_) => {
                if let Err(e) = tokens::revoke(&shared.store, &token).await {
                    return internal(e);
                }
                tracing::info!(login = %account.login, "agent logged out");
                self.leave();
                return answer(Ok(answer::LoggedOut {}));
            }
            Request::SetPresence(asked) => {
                return answer(asks::set_presence(&shared, agent_id, asked).await)
            }
            Request::Search(asked) => return answer(asks::search(&shared, agent_id, asked).await),
            Request::Follow(asked) => {
                return answer(asks::follow(&shared, agent_id, device, asked).await)
            }
            Request::SetFavorite(asked) => {
                return answer(asks::set_favorite(&shared, agent_id, asked).await)
            }
            Request::Snapshot(_) => return answer(asks::snapshot(&shared, agent_id).await),
            Request::Interactions(_) => return answer(asks::interactions(&shared, agent_id).await),
            Request::Transcript(asked) => {
                return answer(asks::transcript(&shared, agent_id, asked).await)
            }
            Request::InteractionDetails(asked) => {
                return answer(asks::interaction_details(&shared, agent_id, asked).await)
            }
            Request::ContactHistory(asked) => {
                return answer(asks::contact_history(&shared, agent_id, asked).await)
            }
            Request::StartVoiceConsultation(asked) => Asked::Change(Change::StartVoice {
                agent_id,
                session_id: asked.session_id,
            }),
            Request::AnswerVoiceConsultation(asked) => Asked::Change(Change::AnswerVoice {
                agent_id,
                consultation_id: asked.consultation_id,
                accept: asked.accept,
            }),
            Request::EndVoiceConsultation(asked) => Asked::Change(Change::EndVoice {
                agent_id,
                consultation_id: asked.consultation_id,
            }),
            Request::Invite(asked) => {
                if !shared
                    .invites
                    .allow(agent_id, shared.config.limits.invitations_per_minute)
                {
                    return refuse(
                        ErrorCode::RateLimited,
                        "too many invitations in the last minute; wait a little",
                    );
                }
                Asked::Change(Change::Invite {
                    inviter: account,
                    session_id: asked.session_id,
                    target: asked.target,
                    first_message: asked.first_message,
                    context: asked.context,
                })
            }
            Request::Accept(asked) => Asked::Change(Change::Accept {
                agent_id,
                session_id: asked.session_id,
            }),
            Request::Reject(asked) => Asked::Change(Change::Reject {
                agent_id,
                session_id: asked.session_id,
            }),
            Request::Cancel(asked) => Asked::Change(Change::Cancel {
                agent_id,
                session_id: asked.session_id,
            }),
            Request::End(asked) => Asked::Change(Change::End {
                agent_id,
                session_id: asked.session_id,
            }),
            Request::Send(asked) => {
                let l = &shared.config.limits;
                if !shared.budgets.take(
                    agent_id,
                    Spend::Message,
                    l.messages_per_second,
                    l.message_burst,
                ) {
                    return refuse(
                        ErrorCode::RateLimited,
                        "too many messages at once; wait a moment",
                    );
                }
                Asked::Message(NewMessage {
                    agent_id,
                    session_id: asked.session_id,
                    message_id: asked.message_id,
                    text: asked.text,
                })
            }
            Request::Hello(_) | Request::Login(_) | Request::Resume(_) => {
                return refuse(
                    ErrorCode::AlreadyLoggedIn,
                    "this connection is already logged in",
                )
            }
        };
        let started = std::time::Instant::now();
        let is_send = matches!(change, Asked::Message(_));
        let answered = match shared.writer.submit(change).await {
            Ok(answered) => answered,
            Err(refused) => {
                return Handled::Now(Err(error_frame(refused)), Next::Continue, Vec::new())
            }
        };
        Handled::Later(Box::pin(async move {
            let result = answered.await;
            if is_send && result.is_ok() {
                shared.metrics.message_committed(started.elapsed());
            }
            result.map(asks::committed).map_err(error_frame)
        }))
    }
}
