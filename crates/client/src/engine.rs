//! The client engine: one agent signed in to one hub. It keeps the link up (reconnecting
//! with back-off and resuming from the last event it applied), keeps the local cache in
//! step with the hub, follows the presence of the colleagues the agent sees, sends the
//! outbox in order when connected, and reports everything as [`EngineEvent`]s.
//!
//! It owns the agent's view of things: every session with its status, the invitations
//! waiting and missed, and the way to sign in (a remembered token, then a remembered
//! password). A GUI shows what it reports and asks it to act; it decides nothing itself.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicI64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use huddle_protocol::request::{self, Ask};
use huddle_protocol::{
    AgentProfile, ConsultContext, DirectoryEntry, DirectoryFilter, EndReason, EntryKind, ErrorCode,
    Event, FirstMessage, HistoryEntry, HubLimits, InteractionDetails, InteractionSummary, Presence,
    Pushed, SessionEnd, SessionInfo, SessionState, VoiceConsultation,
};
use tokio::sync::{broadcast, mpsc, watch, Notify};

use crate::cache::{cache_path, Cache, CachedMessage, Held};
use crate::connect::{connect, Connection, Proof};
use crate::error::ClientError;
use crate::following::Following;
use crate::keychain::{Keychain, KeychainError, Secret};
use crate::link::{Incoming, Link};
use crate::proxy::Proxy;
use crate::session_state::{Action, EndCause, SessionStatus, UpdateRefused};

/// A hub to sign in to.
#[derive(Debug, Clone)]
pub struct Hub {
    /// The address as typed (`host:port`, `ws://…`, `wss://…`), or several separated by
    /// commas: the nodes of one hub, tried in turn.
    pub address: String,
    /// The certificate authority of an on-premise hub's TLS certificate, in PEM, trusted
    /// beside the system's own.
    pub ca_file: Option<PathBuf>,
    /// The way to the hub: the system's proxy, none, or the agent's.
    pub proxy: Proxy,
    /// Which of the addresses answered last: connections try it first.
    answered_last: Arc<AtomicUsize>,
}

impl Hub {
    /// A hub at this address (or these), trusted through the system's certificates.
    pub fn new(address: impl Into<String>) -> Self {
        Self {
            address: address.into(),
            ca_file: None,
            proxy: Proxy::default(),
            answered_last: Arc::default(),
        }
    }

    /// The same hub, reached through `proxy`.
    pub fn via(self, proxy: Proxy) -> Self {
        Self { proxy, ..self }
    }

    /// The same hub, whose TLS certificate is also trusted through the certificate
    /// authority in `ca_file` (PEM).
    pub fn trusting(self, ca_file: Option<PathBuf>) -> Self {
        Self { ca_file, ..self }
    }

    /// Which of its addresses answered last (an index into them).
    pub(crate) fn answered_last(&self) -> usize {
        self.answered_last.load(Ordering::Relaxed)
    }

    /// The address at `index` answered.
    pub(crate) fn answered(&self, index: usize) {
        self.answered_last.store(index, Ordering::Relaxed);
    }
}

/// The same hub: the same addresses and trust (which node answered last is not part of it).
impl PartialEq for Hub {
    fn eq(&self, other: &Self) -> bool {
        self.address == other.address && self.ca_file == other.ca_file
    }
}

impl Eq for Hub {}

/// How the engine proves who the agent is.
#[derive(Clone)]
pub enum Credential {
    /// A password (the first sign-in, or when no token is kept).
    Password(String),
    /// A session token from an earlier sign-in.
    Token(String),
}

impl std::fmt::Debug for Credential {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Password(_) => "Password(…)",
            Self::Token(_) => "Token(…)",
        })
    }
}

impl Credential {
    fn proof(&self) -> Proof<'_> {
        match self {
            Self::Password(password) => Proof::Password(password),
            Self::Token(token) => Proof::Token(token),
        }
    }
}

/// Why the sign-in the keychain keeps did not sign the agent in. In each case the app asks
/// for the password.
#[derive(Debug, thiserror::Error)]
pub enum SavedSignInError {
    /// Nothing is kept for this hub and login.
    #[error("no sign-in is kept for this hub and login")]
    NothingSaved,
    /// The hub ended the kept session and no password is kept; the keychain forgot it.
    #[error("the kept sign-in has ended: {0}")]
    Ended(String),
    /// The keychain could not be read.
    #[error(transparent)]
    Keychain(#[from] KeychainError),
    /// The hub refused the kept password, or could not be reached by an app that has never
    /// signed in here; a refused sign-in is forgotten.
    #[error(transparent)]
    Failed(#[from] ClientError),
}

/// Where the engine stands with the hub.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConnectionState {
    /// Connecting or reconnecting.
    Connecting,
    /// Connected and signed in.
    Online,
    /// The link is down; the engine retries by itself.
    Offline {
        /// Why the link went down.
        reason: String,
    },
    /// The hub no longer accepts this agent's session: sign in again.
    SignedOut {
        /// Why.
        reason: String,
    },
}

/// What the engine reports.
#[derive(Debug, Clone)]
pub enum EngineEvent {
    /// The connection state changed.
    Connection(ConnectionState),
    /// A session was created or changed.
    Session(SessionUpdate),
    /// A message was added to a transcript, or its delivery changed.
    Message(CachedMessage),
    /// One of this agent's customer interactions was delivered, changed or ended.
    Interaction(InteractionSummary),
    /// A voice consultation this agent takes part in changed.
    VoiceConsultation(VoiceConsultation),
    /// An agent's presence changed.
    Presence {
        /// The agent.
        agent_id: i64,
        /// The new presence.
        presence: Presence,
    },
}

/// A session as the hub last described it, with where it stands for this agent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionUpdate {
    /// The hub's description.
    pub info: SessionInfo,
    /// Where it stands for this agent.
    pub status: SessionStatus,
    /// Where it stood before this change (`None`: the session is new here).
    pub previous: Option<SessionStatus>,
}

impl SessionUpdate {
    /// Whether this agent sent the invitation.
    pub fn i_invited(&self, me: i64) -> bool {
        self.info.inviter.id == me
    }

    /// Whether the session is over.
    pub fn ended(&self) -> bool {
        matches!(self.status, SessionStatus::Ended(_))
    }

    /// Whether this is a consultation drafted and discarded: it never reached the hub.
    fn discarded_draft(&self) -> bool {
        self.previous == Some(SessionStatus::Draft)
            && self.status == SessionStatus::Ended(EndCause::Cancelled { by_me: true })
    }

    /// Whether this change is the arrival of an invitation for this agent.
    pub fn invitation_arrived(&self) -> bool {
        self.status == SessionStatus::Invited && self.previous != Some(SessionStatus::Invited)
    }

    /// Whether this agent was invited and nobody answered (the inviter withdrew, or the
    /// invitation timed out).
    pub fn missed(&self, me: i64) -> bool {
        self.info.target.id == me
            && matches!(
                self.status,
                SessionStatus::Ended(EndCause::TimedOut | EndCause::Cancelled { by_me: false })
            )
    }
}

/// What typed text is sent as: line breaks as `\n`, and no other control characters (the
/// hub refuses them; pasted text brings them along).
fn as_sent(typed: &str) -> String {
    typed
        .replace("\r\n", "\n")
        .chars()
        .map(|c| if c == '\r' { '\n' } else { c })
        .filter(|c| !c.is_control() || *c == '\n' || *c == '\t')
        .collect()
}

/// How long to wait before asking again when the hub says reads come too fast.
const READS_PACED: Duration = Duration::from_secs(1);

/// How long whose presence to follow may keep changing before the hub is told.
const FOLLOW_SETTLES: Duration = Duration::from_millis(300);

/// How often the cache is pruned when a retention is set.
const PRUNE_EVERY: Duration = Duration::from_secs(3600);

/// Back-off between reconnection attempts. The last is short enough that an agent whose hub
/// comes back is connected again within seconds; the jitter spreads thousands of clients.
const FIRST_RETRY: Duration = Duration::from_millis(500);
const LAST_RETRY: Duration = Duration::from_secs(8);

/// A signed-in agent's engine. Clones share it.
#[derive(Clone)]
pub struct Engine {
    shared: Arc<Shared>,
    /// Held by the handles given out, not by the engine's own tasks: when the last handle
    /// goes, the tasks stop.
    _guard: Option<Arc<StopOnDrop>>,
}

impl std::fmt::Debug for Engine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Engine")
            .field("hub", &self.shared.hub.address)
            .field("agent", &self.shared.agent.login)
            .field("state", &self.state())
            .finish()
    }
}

/// Stops the engine's tasks when dropped.
struct StopOnDrop(Arc<watch::Sender<bool>>);

impl Drop for StopOnDrop {
    fn drop(&mut self) {
        self.0.send_replace(true);
    }
}

struct Shared {
    hub: Hub,
    /// The login as the agent signs in with it (the keychain's key).
    login: String,
    agent: AgentProfile,
    cache: Cache,
    /// Keeps the sign-in between runs, and the password when the agent asked for it.
    keychain: Option<Keychain>,
    events: broadcast::Sender<EngineEvent>,
    link: Mutex<Option<Link>>,
    state: Mutex<ConnectionState>,
    token: Mutex<String>,
    limits: Mutex<HubLimits>,
    /// The history the hub's event numbers belong to.
    history: Mutex<Option<String>>,
    /// This agent's own presence, as the hub last confirmed it.
    presence: Mutex<Presence>,
    /// The last hub event applied, as the cache records it (kept here to spare a query per
    /// event).
    last_seq: AtomicI64,
    /// The agent's latest event number as the hub said when the link was made: once the
    /// cache has applied it, the engine has caught up.
    hub_seq: AtomicI64,
    /// Told whenever events are applied.
    applied: Notify,
    /// Every known session (drafts included, which exist only here) with its status.
    sessions: Mutex<HashMap<String, SessionUpdate>>,
    /// Missed invitations the agent put away.
    missed_seen: Mutex<HashSet<String>>,
    /// The last word on each session's voice consultation, by session id.
    voice: Mutex<HashMap<String, VoiceConsultation>>,
    /// How many colleagues' messages came in each session since the agent last looked at it.
    unread: Mutex<HashMap<String, u32>>,
    following: Following,
    /// Held while a session update is applied: the answer to a request and the hub's event
    /// for the same session can arrive together, and the older must not win.
    applying: tokio::sync::Mutex<()>,
    /// How long ended sessions are kept in the cache; `None` keeps them.
    retention: Mutex<Option<Duration>>,
    outbox: Notify,
    stop: Arc<watch::Sender<bool>>,
}

impl Engine {
    /// Signs in to the hub at `address` (see [`Engine::sign_in_to`]).
    pub async fn sign_in(
        address: &str,
        login: &str,
        credential: Credential,
        data_dir: &Path,
    ) -> Result<(Engine, String), ClientError> {
        Self::sign_in_to(&Hub::new(address), login, credential, data_dir).await
    }

    /// Signs in and starts the engine. A failure of this first sign-in is returned as it is
    /// (wrong password, unreachable hub, ...); later losses of the link are retried.
    /// Returns the engine and the session token.
    pub async fn sign_in_to(
        hub: &Hub,
        login: &str,
        credential: Credential,
        data_dir: &Path,
    ) -> Result<(Engine, String), ClientError> {
        let engine = Self::start(hub, login, credential.proof(), data_dir, None).await?;
        let token = engine.token();
        Ok((engine, token))
    }

    /// Signs in with a password the agent typed, and keeps the sign-in in `keychain`: the
    /// session token, and the password too when `remember`, so that the engine can sign in
    /// again by itself once the token has ended. Returns the engine and, when the keychain
    /// could not keep the sign-in, why.
    pub async fn sign_in_remembering(
        hub: &Hub,
        login: &str,
        password: &str,
        remember: bool,
        data_dir: &Path,
        keychain: Keychain,
    ) -> Result<(Engine, Option<KeychainError>), ClientError> {
        let engine = Self::start(
            hub,
            login,
            Proof::Password(password),
            data_dir,
            Some(keychain.clone()),
        )
        .await?;
        let secret = Secret {
            token: engine.token(),
            password: remember.then(|| password.to_string()),
            proxy_password: hub.proxy.password().map(str::to_string),
        };
        let kept = keychain.store(&hub.address, login, &secret).await.err();
        Ok((engine, kept))
    }

    /// Signs in by itself with what `keychain` keeps for this hub and login: the session
    /// token, then the password when the agent asked to be remembered and the token has
    /// ended. A hub that cannot be reached does not stop an agent who has signed in here
    /// before: the engine starts offline, showing what the cache holds, and connects as soon
    /// as the hub answers.
    pub async fn sign_in_saved(
        hub: &Hub,
        login: &str,
        data_dir: &Path,
        keychain: Keychain,
    ) -> Result<Engine, SavedSignInError> {
        let secret = keychain
            .load(&hub.address, login)
            .await?
            .ok_or(SavedSignInError::NothingSaved)?;
        let hub = &hub
            .clone()
            .via(hub.proxy.with_password(secret.proxy_password.as_deref()));
        let by_token = Self::start(
            hub,
            login,
            Proof::Token(&secret.token),
            data_dir,
            Some(keychain.clone()),
        )
        .await;
        let refused = match by_token {
            Ok(engine) => return Ok(engine),
            Err(e) if is_unreachable(&e) => {
                return match Self::start_offline(hub, login, &secret.token, data_dir, &keychain)
                    .await
                {
                    Ok(Some(engine)) => Ok(engine),
                    Ok(None) => Err(SavedSignInError::Failed(e)),
                    Err(cache) => Err(SavedSignInError::Failed(cache)),
                };
            }
            Err(ClientError::Refused(refused)) if refused.code == ErrorCode::TokenInvalid => {
                refused
            }
            Err(e) => {
                if matches!(&e, ClientError::Refused(r) if r.code.ends_session()) {
                    forget(&keychain, hub, login).await;
                }
                return Err(SavedSignInError::Failed(e));
            }
        };
        let Some(password) = secret.password else {
            forget(&keychain, hub, login).await;
            return Err(SavedSignInError::Ended(refused.message));
        };
        let started = Self::start(
            hub,
            login,
            Proof::Password(&password),
            data_dir,
            Some(keychain.clone()),
        )
        .await;
        match started {
            Ok(engine) => {
                engine.keep_token().await;
                Ok(engine)
            }
            Err(e) => {
                if matches!(&e, ClientError::Refused(_)) {
                    forget(&keychain, hub, login).await;
                }
                Err(SavedSignInError::Failed(e))
            }
        }
    }

    /// Connects, then builds the engine on the agent's cache and starts its tasks.
    async fn start(
        hub: &Hub,
        login: &str,
        proof: Proof<'_>,
        data_dir: &Path,
        keychain: Option<Keychain>,
    ) -> Result<Engine, ClientError> {
        let typed = cache_path(data_dir, &hub.address, &cache_login(login));
        let existing = Cache::open_existing(&typed).await?;
        let held = match &existing {
            Some(cache) => cache.held().await?,
            None => Held::default(),
        };
        let mut connection = connect(hub, login, proof, &held).await?;
        let path = cache_path(
            data_dir,
            &hub.address,
            &cache_login(&connection.agent.login),
        );
        let cache = match existing {
            Some(cache) if path == typed => cache,
            other => {
                if let Some(cache) = other {
                    cache.close().await;
                }
                // What was held belonged to another cache: this one starts from a snapshot.
                connection.resync_required |= path != typed;
                match Cache::open(&path).await {
                    Ok(cache) => cache,
                    Err(e) => {
                        connection.link.close().await;
                        return Err(e.into());
                    }
                }
            }
        };
        let engine = Self::build(
            hub,
            login,
            connection.agent.clone(),
            cache,
            keychain,
            connection.token.clone(),
            ConnectionState::Online,
        )
        .await?;
        let link = connection.link.clone();
        match engine.establish(connection).await {
            Ok(incoming) => {
                engine.run(Some(incoming));
                Ok(engine)
            }
            Err(e) => {
                link.close().await;
                Err(e)
            }
        }
    }

    /// Starts the engine without the hub, from the agent the cache knows; `None` when this
    /// app has never signed in here.
    async fn start_offline(
        hub: &Hub,
        login: &str,
        token: &str,
        data_dir: &Path,
        keychain: &Keychain,
    ) -> Result<Option<Engine>, ClientError> {
        let path = cache_path(data_dir, &hub.address, &cache_login(login));
        let Some(cache) = Cache::open_existing(&path).await? else {
            return Ok(None);
        };
        let Some(agent) = cache.agent().await? else {
            cache.close().await;
            return Ok(None);
        };
        let engine = Self::build(
            hub,
            login,
            agent,
            cache,
            Some(keychain.clone()),
            token.to_string(),
            ConnectionState::Offline {
                reason: "the hub cannot be reached".into(),
            },
        )
        .await?;
        engine.run(None);
        Ok(Some(engine))
    }

    async fn build(
        hub: &Hub,
        login: &str,
        agent: AgentProfile,
        cache: Cache,
        keychain: Option<Keychain>,
        token: String,
        state: ConnectionState,
    ) -> Result<Engine, ClientError> {
        cache.set_agent(&agent).await?;
        let held = cache.held().await?;
        let mut sessions = HashMap::new();
        for info in cache.sessions().await? {
            match SessionStatus::from_hub(&info, agent.id) {
                Ok(status) => {
                    let update = SessionUpdate {
                        info,
                        status,
                        previous: None,
                    };
                    sessions.insert(update.info.id.clone(), update);
                }
                Err(e) => tracing::warn!(error = %e, "a cached session is unusable"),
            }
        }
        let missed_seen = cache.missed_seen().await?.into_iter().collect();
        let (events, _) = broadcast::channel(4096);
        let stop = Arc::new(watch::channel(false).0);
        Ok(Engine {
            shared: Arc::new(Shared {
                hub: hub.clone(),
                login: login.to_string(),
                agent,
                cache,
                keychain,
                events,
                link: Mutex::new(None),
                state: Mutex::new(state),
                token: Mutex::new(token),
                limits: Mutex::new(HubLimits::default()),
                history: Mutex::new(held.history),
                presence: Mutex::new(Presence::Offline),
                last_seq: AtomicI64::new(held.last_seq),
                hub_seq: AtomicI64::new(0),
                applied: Notify::new(),
                sessions: Mutex::new(sessions),
                missed_seen: Mutex::new(missed_seen),
                voice: Mutex::new(HashMap::new()),
                unread: Mutex::new(HashMap::new()),
                following: Following::default(),
                applying: tokio::sync::Mutex::new(()),
                retention: Mutex::new(None),
                outbox: Notify::new(),
                stop: stop.clone(),
            }),
            _guard: Some(Arc::new(StopOnDrop(stop))),
        })
    }

    /// Starts the engine's tasks: following the link (or reconnecting when there is none),
    /// the outbox and the pruning.
    fn run(&self, incoming: Option<mpsc::Receiver<Incoming>>) {
        tokio::spawn(self.for_task().supervise(incoming));
        tokio::spawn(self.for_task().send_outbox());
        tokio::spawn(self.for_task().prune_periodically());
        self.shared.outbox.notify_one();
    }

    /// Takes a new connection into use: the cache catches up (by the replay that follows,
    /// or by a snapshot), and the hub is told whose presence to follow. Returns what the
    /// link receives from now on.
    async fn establish(
        &self,
        connection: Connection,
    ) -> Result<mpsc::Receiver<Incoming>, ClientError> {
        *lock(&self.shared.limits) = connection.limits;
        let renewed = {
            let mut token = lock(&self.shared.token);
            let renewed = *token != connection.token;
            *token = connection.token;
            renewed
        };
        if renewed && self.shared.keychain.is_some() {
            self.keep_token().await;
        }
        self.own_presence(connection.presence);
        self.shared.hub_seq.store(connection.seq, Ordering::SeqCst);
        if connection.resync_required {
            self.resync(&connection.link, &connection.history).await?;
        }
        *lock(&self.shared.history) = Some(connection.history);
        *lock(&self.shared.link) = Some(connection.link);
        self.shared.following.connected();
        self.follow_soon(Duration::ZERO);
        Ok(connection.incoming)
    }

    /// Keeps the current token in the keychain, beside the password if one is kept.
    async fn keep_token(&self) {
        let Some(keychain) = &self.shared.keychain else {
            return;
        };
        let (hub, login) = (&self.shared.hub.address, &self.shared.login);
        let password = match keychain.load(hub, login).await {
            Ok(secret) => secret.and_then(|s| s.password),
            Err(e) => {
                tracing::info!(error = %e, "cannot read the kept sign-in");
                None
            }
        };
        let secret = Secret {
            token: self.token(),
            password,
            proxy_password: self.shared.hub.proxy.password().map(str::to_string),
        };
        if let Err(e) = keychain.store(hub, login, &secret).await {
            tracing::info!(error = %e, "cannot keep the new session token");
        }
    }

    /// The signed-in agent.
    pub fn agent(&self) -> &AgentProfile {
        &self.shared.agent
    }

    /// The local cache (sessions, transcripts, search).
    pub fn cache(&self) -> &Cache {
        &self.shared.cache
    }

    /// The current session token.
    pub fn token(&self) -> String {
        lock(&self.shared.token).clone()
    }

    /// The hub's limits, as it gave them on the last connection.
    pub fn limits(&self) -> HubLimits {
        *lock(&self.shared.limits)
    }

    /// Where the engine stands now.
    pub fn state(&self) -> ConnectionState {
        lock(&self.shared.state).clone()
    }

    /// Everything the engine reports from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<EngineEvent> {
        self.shared.events.subscribe()
    }

    /// Sends what the agent typed in a session's window: a draft consultation's first
    /// message invites its target; in a connected session the message goes to the outbox
    /// (it shows as pending at once) and to the hub when connected. Returns the message as
    /// the transcript shows it.
    pub async fn send(&self, session_id: &str, typed: &str) -> Result<CachedMessage, ClientError> {
        let text = &as_sent(typed);
        if text.trim().is_empty() {
            return Err(ClientError::EmptyMessage);
        }
        let length = text.chars().count();
        let limit = self.limits().max_message_chars;
        if length > limit as usize {
            return Err(ClientError::MessageTooLong { length, limit });
        }
        let status = self
            .session_status(session_id)
            .ok_or_else(|| ClientError::UnknownSession(session_id.to_string()))?;
        if status == SessionStatus::Draft {
            let info = self.send_draft(session_id, text).await?;
            let first = info.first_message.ok_or_else(|| {
                ClientError::Protocol("the hub did not keep the first message".into())
            })?;
            return self
                .shared
                .cache
                .message(session_id, &first.id)
                .await?
                .ok_or_else(|| {
                    ClientError::Protocol("the first message is not in the cache".into())
                });
        }
        status.perform(Action::Send)?;
        self.send_message(session_id, text).await
    }

    /// Puts a message into the outbox (it shows as pending at once) and sends it when
    /// connected.
    pub async fn send_message(
        &self,
        session_id: &str,
        text: &str,
    ) -> Result<CachedMessage, ClientError> {
        let id = uuid::Uuid::new_v4().to_string();
        let message = self
            .shared
            .cache
            .enqueue(session_id, &id, self.shared.agent.id, text, now_millis())
            .await
            .map_err(ClientError::from)?;
        self.emit(EngineEvent::Message(message.clone()));
        self.shared.outbox.notify_one();
        Ok(message)
    }

    /// Opens an IM with an agent: the open one (not a consultation) if there is one, or a
    /// new invitation.
    pub async fn start_im(&self, agent_id: i64) -> Result<SessionUpdate, ClientError> {
        let me = self.shared.agent.id;
        let open = self.sessions().into_iter().find(|s| {
            let other = if s.i_invited(me) {
                &s.info.target
            } else {
                &s.info.inviter
            };
            other.id == agent_id && !s.ended() && s.info.context.is_none()
        });
        if let Some(open) = open {
            return Ok(open);
        }
        let info = self.invite(agent_id, None, None).await?;
        self.session(&info.id)
            .ok_or_else(|| ClientError::UnknownSession(info.id.clone()))
    }

    /// Invites an agent; with a first message (a consultation's), the target sees it with
    /// the invitation.
    pub async fn invite(
        &self,
        target: i64,
        first_message: Option<&str>,
        context: Option<ConsultContext>,
    ) -> Result<SessionInfo, ClientError> {
        let id = uuid::Uuid::new_v4().to_string();
        self.invite_as(id, target, first_message, context).await
    }

    /// Drafts a consultation with `target` about a customer interaction: a session that
    /// exists only here ("Not Connected") until its first message is sent with
    /// [`Engine::send`], which invites the target. Nothing reaches the hub before that.
    pub fn draft(&self, target: AgentProfile, context: ConsultContext) -> SessionUpdate {
        let info = SessionInfo {
            id: uuid::Uuid::new_v4().to_string(),
            inviter: self.shared.agent.clone(),
            target,
            // A draft has no state on the hub; its status (Draft) is what counts.
            state: huddle_protocol::SessionState::Inviting,
            end: None,
            created_at: now_millis(),
            invite_expires_at: 0,
            first_message: None,
            context: Some(context),
        };
        let update = SessionUpdate {
            info,
            status: SessionStatus::Draft,
            previous: None,
        };
        lock(&self.shared.sessions).insert(update.info.id.clone(), update.clone());
        self.emit(EngineEvent::Session(update.clone()));
        update
    }

    /// Sends a draft's first message, which invites its target with the interaction as
    /// context. A draft the hub refuses stays a draft.
    pub async fn send_draft(
        &self,
        session_id: &str,
        text: &str,
    ) -> Result<SessionInfo, ClientError> {
        let draft = self
            .session(session_id)
            .ok_or_else(|| ClientError::UnknownSession(session_id.to_string()))?;
        draft.status.perform(Action::SendFirstMessage)?;
        self.invite_as(
            draft.info.id.clone(),
            draft.info.target.id,
            Some(text),
            draft.info.context.clone(),
        )
        .await
    }

    /// Discards a draft (Done before sending): nothing reaches the target.
    pub fn discard_draft(&self, session_id: &str) -> Result<(), ClientError> {
        let update = {
            let mut sessions = lock(&self.shared.sessions);
            let session = sessions
                .get_mut(session_id)
                .ok_or_else(|| ClientError::UnknownSession(session_id.to_string()))?;
            let next = session.status.perform(Action::DiscardDraft)?;
            session.previous = Some(session.status);
            session.status = next;
            session.clone()
        };
        self.emit(EngineEvent::Session(update));
        Ok(())
    }

    async fn invite_as(
        &self,
        session_id: String,
        target: i64,
        first_message: Option<&str>,
        context: Option<ConsultContext>,
    ) -> Result<SessionInfo, ClientError> {
        let request = request::Invite {
            session_id,
            target,
            first_message: first_message.map(|text| FirstMessage {
                id: uuid::Uuid::new_v4().to_string(),
                text: text.to_string(),
            }),
            context,
        };
        let session = self.ask(request).await?.session;
        self.apply_session(&session).await?;
        Ok(*session)
    }

    /// Accepts an invitation.
    pub async fn accept(&self, session_id: &str) -> Result<(), ClientError> {
        self.act(
            session_id,
            Action::Accept,
            request::Accept {
                session_id: session_id.into(),
            },
        )
        .await
    }

    /// Rejects an invitation.
    pub async fn reject(&self, session_id: &str) -> Result<(), ClientError> {
        self.act(
            session_id,
            Action::Reject,
            request::Reject {
                session_id: session_id.into(),
            },
        )
        .await
    }

    /// Withdraws one's own invitation.
    pub async fn cancel(&self, session_id: &str) -> Result<(), ClientError> {
        self.act(
            session_id,
            Action::Cancel,
            request::Cancel {
                session_id: session_id.into(),
            },
        )
        .await
    }

    /// Ends a connected session for both agents.
    pub async fn end(&self, session_id: &str) -> Result<(), ClientError> {
        self.act(
            session_id,
            Action::End,
            request::End {
                session_id: session_id.into(),
            },
        )
        .await
    }

    /// Puts a session behind the agent, in the way its status allows (Done, or a closed
    /// window): ends a connected one, withdraws one's own invitation, rejects one received,
    /// discards a draft. A session already over, or unknown, is left alone.
    pub async fn finish(&self, session_id: &str) -> Result<(), ClientError> {
        match self.session_status(session_id) {
            Some(SessionStatus::Connected) => self.end(session_id).await,
            Some(SessionStatus::Inviting) => self.cancel(session_id).await,
            Some(SessionStatus::Invited) => self.reject(session_id).await,
            Some(SessionStatus::Draft) => self.discard_draft(session_id),
            Some(SessionStatus::Ended(_)) | None => Ok(()),
        }
    }

    /// This agent's customer interactions that have not ended, oldest first.
    pub async fn interactions(&self) -> Result<Vec<InteractionSummary>, ClientError> {
        Ok(self.ask(request::Interactions {}).await?.interactions)
    }

    /// An interaction's case data, contact and contact history: this agent's own, or one a
    /// colleague consults this agent about, while that consultation is connected.
    pub async fn interaction_details(
        &self,
        interaction_id: &str,
    ) -> Result<InteractionDetails, ClientError> {
        let request = request::InteractionDetails {
            interaction_id: interaction_id.into(),
        };
        Ok(*self.ask(request).await?.details)
    }

    /// Searches the contact history of an interaction's contact (all of it, newest first,
    /// for an empty query).
    pub async fn contact_history(
        &self,
        interaction_id: &str,
        query: &str,
    ) -> Result<Vec<HistoryEntry>, ClientError> {
        let request = request::ContactHistory {
            interaction_id: interaction_id.into(),
            query: query.into(),
            limit: None,
        };
        Ok(self.ask(request).await?.entries)
    }

    /// Turns a connected IM consultation about a voice interaction into a voice
    /// consultation: the customer is put on hold and the target's phone rings.
    pub async fn start_voice_consultation(
        &self,
        session_id: &str,
    ) -> Result<VoiceConsultation, ClientError> {
        let request = request::StartVoiceConsultation {
            session_id: session_id.into(),
        };
        let consultation = self.ask(request).await?.consultation;
        self.voice_changed(consultation.clone());
        Ok(consultation)
    }

    /// Answers a voice consultation request; the outcome arrives as a voice consultation
    /// event.
    pub async fn answer_voice_consultation(
        &self,
        consultation_id: &str,
        accept: bool,
    ) -> Result<(), ClientError> {
        self.ask(request::AnswerVoiceConsultation {
            consultation_id: consultation_id.into(),
            accept,
        })
        .await?;
        Ok(())
    }

    /// Ends a voice consultation; the customer is taken off hold. The outcome arrives as a
    /// voice consultation event.
    pub async fn end_voice_consultation(&self, consultation_id: &str) -> Result<(), ClientError> {
        self.ask(request::EndVoiceConsultation {
            consultation_id: consultation_id.into(),
        })
        .await?;
        Ok(())
    }

    /// The voice consultation of a session, as last heard.
    pub fn voice_consultation(&self, session_id: &str) -> Option<VoiceConsultation> {
        lock(&self.shared.voice).get(session_id).cloned()
    }

    fn voice_changed(&self, consultation: VoiceConsultation) {
        let changed = lock(&self.shared.voice)
            .insert(consultation.session_id.clone(), consultation.clone())
            .is_none_or(|before| before != consultation);
        if changed {
            self.emit(EngineEvent::VoiceConsultation(consultation));
        }
    }

    /// Where a known session stands for this agent.
    pub fn session_status(&self, session_id: &str) -> Option<SessionStatus> {
        lock(&self.shared.sessions)
            .get(session_id)
            .map(|s| s.status)
    }

    /// A known session with its status.
    pub fn session(&self, session_id: &str) -> Option<SessionUpdate> {
        lock(&self.shared.sessions).get(session_id).cloned()
    }

    /// Every known session with its status (drafts included, discarded ones not), newest
    /// first.
    pub fn sessions(&self) -> Vec<SessionUpdate> {
        let mut all: Vec<SessionUpdate> = lock(&self.shared.sessions)
            .values()
            .filter(|s| !s.discarded_draft())
            .cloned()
            .collect();
        all.sort_by(|a, b| {
            b.info
                .created_at
                .cmp(&a.info.created_at)
                .then_with(|| a.info.id.cmp(&b.info.id))
        });
        all
    }

    /// The invitations waiting for this agent's answer, oldest first.
    pub fn invitations(&self) -> Vec<SessionUpdate> {
        let mut waiting: Vec<SessionUpdate> = self
            .sessions()
            .into_iter()
            .filter(|s| s.status == SessionStatus::Invited)
            .collect();
        waiting.reverse();
        waiting
    }

    /// How many colleagues' messages came in since the agent last looked at their sessions
    /// ([`Engine::mark_read`]), in all.
    pub fn unread(&self) -> u32 {
        lock(&self.shared.unread).values().sum()
    }

    /// The agent has seen a session's messages. Returns whether any were unread.
    pub fn mark_read(&self, session_id: &str) -> bool {
        lock(&self.shared.unread)
            .remove(session_id)
            .is_some_and(|n| n > 0)
    }

    /// The invitations this agent missed (withdrawn or timed out before an answer) and has
    /// not put away, newest first.
    pub fn missed(&self) -> Vec<SessionUpdate> {
        let me = self.shared.agent.id;
        let seen = lock(&self.shared.missed_seen).clone();
        self.sessions()
            .into_iter()
            .filter(|s| s.missed(me) && !seen.contains(&s.info.id))
            .collect()
    }

    /// Puts missed invitations away: they no longer show among the missed.
    pub async fn put_away_missed(&self, session_ids: &[String]) -> Result<(), ClientError> {
        self.shared.cache.set_missed_seen(session_ids).await?;
        lock(&self.shared.missed_seen).extend(session_ids.iter().cloned());
        Ok(())
    }

    /// Keeps ended sessions in the cache for `retention` after they ended (`None`: for ever),
    /// and prunes the older ones now and every hour. Returns how many were forgotten now.
    pub async fn set_retention(&self, retention: Option<Duration>) -> Result<u64, ClientError> {
        *lock(&self.shared.retention) = retention;
        self.prune().await
    }

    /// Sets the agent's presence.
    pub async fn set_presence(&self, presence: Presence) -> Result<(), ClientError> {
        self.ask(request::SetPresence { presence }).await?;
        self.own_presence(presence);
        Ok(())
    }

    /// Waits until the cache holds every event the hub had for this agent when the link was
    /// made (the replay that follows a sign-in, or its snapshot), up to `within`: what the
    /// cache then shows is what the hub had. Returns whether it caught up in time.
    pub async fn caught_up(&self, within: Duration) -> bool {
        let deadline = tokio::time::Instant::now() + within;
        loop {
            let applied = self.shared.applied.notified();
            tokio::pin!(applied);
            // Registered before the check, so that an event applied in between is not missed.
            applied.as_mut().enable();
            let hub = self.shared.hub_seq.load(Ordering::SeqCst);
            if self.shared.last_seq.load(Ordering::SeqCst) >= hub {
                return true;
            }
            if tokio::time::timeout_at(deadline, applied).await.is_err() {
                return false;
            }
        }
    }

    /// This agent's presence, as the hub last confirmed it.
    pub fn presence(&self) -> Presence {
        *lock(&self.shared.presence)
    }

    fn own_presence(&self, presence: Presence) {
        let changed = std::mem::replace(&mut *lock(&self.shared.presence), presence) != presence;
        if changed {
            self.emit(EngineEvent::Presence {
                agent_id: self.shared.agent.id,
                presence,
            });
        }
    }

    /// An agent's presence was heard: reported when it is news.
    fn heard_presence(&self, agent_id: i64, presence: Presence) {
        if self.shared.following.heard(agent_id, presence) {
            self.emit(EngineEvent::Presence { agent_id, presence });
        }
    }

    /// Marks or unmarks a favorite.
    pub async fn set_favorite(&self, agent_id: i64, favorite: bool) -> Result<(), ClientError> {
        self.ask(request::SetFavorite { agent_id, favorite })
            .await?;
        Ok(())
    }

    /// Searches the hub's directory. The agents it lists are those the agent sees: their
    /// presence is followed from now on.
    pub async fn search(
        &self,
        query: &str,
        filter: DirectoryFilter,
    ) -> Result<Vec<DirectoryEntry>, ClientError> {
        let entries = self
            .ask(request::Search {
                query: query.to_string(),
                filter,
                limit: None,
            })
            .await?
            .entries;
        self.shared.following.listed(
            entries
                .iter()
                .filter(|e| e.kind == EntryKind::Agent)
                .map(|e| (e.id, e.presence)),
        );
        // Searches come a keystroke apart: the set the agent settles on is declared once.
        self.follow_soon(FOLLOW_SETTLES);
        Ok(entries)
    }

    /// Declares whose presence to follow after `delay`, if the hub does not have it yet.
    fn follow_soon(&self, delay: Duration) {
        tokio::spawn(self.for_task().declare_following(delay));
    }

    async fn declare_following(self, delay: Duration) {
        tokio::time::sleep(delay).await;
        let following = &self.shared.following;
        let _declaring = following.declaring.lock().await;
        let me = self.shared.agent.id;
        let peers: Vec<i64> = lock(&self.shared.sessions)
            .values()
            .filter(|s| !s.ended() && s.status != SessionStatus::Draft)
            .map(|s| {
                if s.i_invited(me) {
                    s.info.target.id
                } else {
                    s.info.inviter.id
                }
            })
            .collect();
        let max = self.limits().max_followed as usize;
        let Some(set) = following.to_declare(peers, max) else {
            return;
        };
        match self
            .ask(request::Follow {
                agents: set.clone(),
            })
            .await
        {
            Ok(_) => following.declared(set),
            // Offline: the next connection declares it.
            Err(e) => tracing::debug!(error = %e, "cannot declare whom to follow"),
        }
    }

    /// Logs out (the token is revoked, the keychain forgets the sign-in) and stops the
    /// engine.
    pub async fn sign_out(&self) {
        let link = lock(&self.shared.link).take();
        if let Some(link) = link {
            let _ = link.ask(request::Logout {}).await;
            link.close().await;
        }
        if let Some(keychain) = &self.shared.keychain {
            forget(keychain, &self.shared.hub, &self.shared.login).await;
        }
        self.shared.stop.send_replace(true);
        self.set_state(ConnectionState::SignedOut {
            reason: "signed out".into(),
        });
    }

    /// A handle for the engine's own tasks, which does not keep the engine alive.
    fn for_task(&self) -> Engine {
        Engine {
            shared: self.shared.clone(),
            _guard: None,
        }
    }

    /// Resolves once the engine is stopped (signed out, or its last handle dropped).
    fn stopped(&self) -> impl std::future::Future<Output = ()> + 'static {
        let mut stop = self.shared.stop.subscribe();
        async move {
            let _ = stop.wait_for(|stopped| *stopped).await;
        }
    }

    /// Closes the link but keeps the engine running, so that it reconnects.
    async fn close_link_for_retry(&self) {
        let link = lock(&self.shared.link).clone();
        if let Some(link) = link {
            link.close().await;
        }
    }

    /// Closes the link, if one is up, so that the hub sees the agent leave at once.
    async fn close_link(&self) {
        let link = lock(&self.shared.link).take();
        if let Some(link) = link {
            link.close().await;
        }
    }

    /// Asks the hub to act on a session, after refusing, without asking, an action that the
    /// session's status does not allow (a session this engine has not heard of is left to
    /// the hub to judge). Once the hub agrees, the status moves on at once; the hub's event
    /// with the session's new description follows.
    async fn act(
        &self,
        session_id: &str,
        action: Action,
        request: impl Ask,
    ) -> Result<(), ClientError> {
        let next = match self.session_status(session_id) {
            Some(status) => Some(status.perform(action)?),
            None => None,
        };
        self.ask(request).await?;
        if let Some(next) = next {
            let _applying = self.shared.applying.lock().await;
            let moved = {
                let mut sessions = lock(&self.shared.sessions);
                sessions.get_mut(session_id).and_then(|session| {
                    let confirmed = session.status.confirmed(next);
                    (confirmed != session.status).then(|| {
                        session.previous = Some(session.status);
                        session.status = confirmed;
                        session.clone()
                    })
                })
            };
            if let Some(update) = moved {
                self.emit(EngineEvent::Session(update));
            }
        }
        Ok(())
    }

    async fn prune(&self) -> Result<u64, ClientError> {
        let Some(retention) = *lock(&self.shared.retention) else {
            return Ok(0);
        };
        let cutoff = now_millis().saturating_sub(retention.as_millis() as i64);
        // Sessions that ended at the cutoff itself go too.
        let gone = self.shared.cache.prune(cutoff.saturating_add(1)).await?;
        if gone > 0 {
            let kept: HashSet<String> = self
                .shared
                .cache
                .sessions()
                .await?
                .into_iter()
                .map(|s| s.id)
                .collect();
            lock(&self.shared.sessions)
                .retain(|id, s| s.status == SessionStatus::Draft || kept.contains(id));
        }
        Ok(gone)
    }

    async fn prune_periodically(self) {
        loop {
            tokio::select! {
                _ = tokio::time::sleep(PRUNE_EVERY) => {}
                _ = self.stopped() => return,
            }
            if let Err(e) = self.prune().await {
                tracing::warn!(error = %e, "cannot prune the cache");
            }
        }
    }

    async fn ask<R: Ask>(&self, request: R) -> Result<R::Answer, ClientError> {
        let link = lock(&self.shared.link).clone();
        match link {
            Some(link) => link.ask(request).await,
            None => Err(ClientError::Lost("not connected to the hub".into())),
        }
    }

    fn emit(&self, event: EngineEvent) {
        // Nobody listening is fine: the cache holds the truth.
        let _ = self.shared.events.send(event);
    }

    fn set_state(&self, state: ConnectionState) {
        let changed = {
            let mut current = lock(&self.shared.state);
            let changed = *current != state;
            *current = state.clone();
            changed
        };
        if changed {
            self.emit(EngineEvent::Connection(state));
        }
    }

    /// Brings the cache in line with a snapshot of the hub, of `history`.
    async fn resync(&self, link: &Link, history: &str) -> Result<(), ClientError> {
        let snapshot = link.ask(request::Snapshot {}).await?;
        let (seq, sessions, voice_consultations) = (
            snapshot.seq,
            snapshot.sessions,
            snapshot.voice_consultations,
        );
        for consultation in voice_consultations {
            self.voice_changed(consultation);
        }
        let cache = &self.shared.cache;
        cache.reconcile(&sessions, now_millis()).await?;
        for t in sessions.iter().filter(|t| t.earlier) {
            if let Some(first) = t.messages.first() {
                self.fill_transcript(link, &t.session.id, first.seq).await?;
            }
        }
        cache.set_held(seq, history).await?;
        self.shared.last_seq.store(seq, Ordering::SeqCst);
        self.shared.applied.notify_waiters();
        // The snapshot is the hub's truth: statuses are taken from it as they are, even where
        // the cache had guessed further.
        let me = self.shared.agent.id;
        let known: HashSet<String> = sessions.iter().map(|t| t.session.id.clone()).collect();
        for t in sessions {
            match SessionStatus::from_hub(&t.session, me) {
                Ok(status) => self.record(t.session, status),
                Err(e) => tracing::warn!(error = %e, "the hub sent an unusable session"),
            }
        }
        // A snapshot holds every open session of the agent: one the hub no longer has (a hub
        // restored from a backup older than it, or another hub at this address) is over.
        // Drafts never reached the hub and stay.
        let gone: Vec<SessionInfo> = lock(&self.shared.sessions)
            .values()
            .filter(|s| {
                !s.ended() && s.status != SessionStatus::Draft && !known.contains(&s.info.id)
            })
            .map(|s| s.info.clone())
            .collect();
        let now = now_millis();
        for mut info in gone {
            tracing::info!(session = %info.id, "the hub no longer has this session; it is over");
            info.state = SessionState::Ended;
            info.end = Some(SessionEnd {
                reason: EndReason::Ended,
                by: None,
                at: now,
            });
            cache.put_session(&info, now).await?;
            match SessionStatus::from_hub(&info, me) {
                Ok(status) => self.record(info, status),
                Err(e) => tracing::warn!(error = %e, "cannot end a session the hub lost"),
            }
        }
        Ok(())
    }

    /// Pages back through a session's transcript from `before` until the cache holds all of
    /// it: a snapshot carries only each session's latest messages.
    async fn fill_transcript(
        &self,
        link: &Link,
        session_id: &str,
        mut before: i64,
    ) -> Result<(), ClientError> {
        let cache = &self.shared.cache;
        while !cache.holds_all_before(session_id, before).await? {
            let asked = request::Transcript {
                session_id: session_id.to_string(),
                before_seq: Some(before),
                limit: None,
            };
            let (messages, earlier) = match link.ask(asked).await {
                Ok(page) => (page.messages, page.earlier),
                // The hub paces reads: the next page comes when it allows.
                Err(ClientError::Refused(e)) if e.code == ErrorCode::RateLimited => {
                    tokio::time::sleep(READS_PACED).await;
                    continue;
                }
                Err(e) => return Err(e),
            };
            cache.put_messages(&messages).await?;
            match messages.first() {
                Some(first) if earlier && first.seq < before => before = first.seq,
                _ => break,
            }
        }
        Ok(())
    }

    /// Keeps a session's new status, and reports it.
    fn record(&self, info: SessionInfo, status: SessionStatus) {
        let update = {
            let mut sessions = lock(&self.shared.sessions);
            let previous = sessions.get(&info.id).map(|s| s.status);
            let update = SessionUpdate {
                info,
                status,
                previous,
            };
            sessions.insert(update.info.id.clone(), update.clone());
            update
        };
        let opened_or_closed = update.previous.is_none_or(|before| {
            matches!(before, SessionStatus::Ended(_) | SessionStatus::Draft) != update.ended()
        });
        if opened_or_closed {
            self.follow_soon(Duration::ZERO);
        }
        self.emit(EngineEvent::Session(update));
    }

    /// Records a session update from the hub, unless it is older than what is known.
    /// Returns the session's status for this agent.
    async fn apply_session(&self, session: &SessionInfo) -> Result<SessionStatus, ClientError> {
        let me = self.shared.agent.id;
        let _applying = self.shared.applying.lock().await;
        let held = self.session_status(&session.id);
        let status = match held.map_or_else(
            || SessionStatus::from_hub(session, me),
            |held| held.apply(session, me),
        ) {
            Ok(status) => status,
            Err(UpdateRefused::Stale { current, .. }) => return Ok(current),
            Err(e) => return Err(ClientError::Protocol(e.to_string())),
        };
        self.shared
            .cache
            .put_session(session, now_millis())
            .await
            .map_err(ClientError::from)?;
        self.record(session.clone(), status);
        Ok(status)
    }

    /// Applies one numbered event, once.
    async fn apply(&self, seq: i64, event: Event) -> Result<(), ClientError> {
        let cache = &self.shared.cache;
        if seq <= self.shared.last_seq.load(Ordering::SeqCst) {
            return Ok(());
        }
        match event {
            Event::Session { session } => {
                self.apply_session(&session).await?;
            }
            // The customer's side is not cached: it is the hub's to give, and only while the
            // agent may see it.
            Event::Interaction { interaction } => {
                self.emit(EngineEvent::Interaction(interaction));
            }
            Event::VoiceConsultation { consultation } => self.voice_changed(consultation),
            Event::Message { message } => {
                let was = cache
                    .message(&message.session_id, &message.id)
                    .await
                    .map_err(ClientError::from)?;
                cache
                    .put_message(&message)
                    .await
                    .map_err(ClientError::from)?;
                let arrived = was.is_none() && message.from != self.shared.agent.id;
                let changed = was.is_none_or(|m| m.seq.is_none() || m.from != message.from);
                if arrived {
                    *lock(&self.shared.unread)
                        .entry(message.session_id.clone())
                        .or_default() += 1;
                }
                if changed {
                    if let Ok(Some(now)) = cache.message(&message.session_id, &message.id).await {
                        self.emit(EngineEvent::Message(now));
                    }
                }
            }
        }
        cache.set_last_seq(seq).await.map_err(ClientError::from)?;
        self.shared.last_seq.store(seq, Ordering::SeqCst);
        self.shared.applied.notify_waiters();
        Ok(())
    }

    /// Handles what the hub sends on one link until it closes; returns why it closed, or
    /// `None` when the engine stopped.
    async fn follow_link(&self, incoming: &mut mpsc::Receiver<Incoming>) -> Option<String> {
        loop {
            let next = tokio::select! {
                next = incoming.recv() => next,
                _ = self.stopped() => return None,
            };
            match next {
                None => return Some("the connection ended".to_string()),
                Some(Incoming::Closed(reason)) => return Some(reason),
                Some(Incoming::Frame(Pushed::Event { seq, event })) => {
                    if let Err(e) = self.apply(seq, event).await {
                        // Going on would skip the event for good; reconnecting resumes from
                        // the last one applied, and the hub sends it again.
                        tracing::warn!(error = %e, "cannot apply an event; reconnecting");
                        self.close_link_for_retry().await;
                        return Some(format!("an event could not be stored ({e})"));
                    }
                }
                Some(Incoming::Frame(Pushed::Presence { agent_id, presence }))
                    if agent_id == self.shared.agent.id =>
                {
                    // The hub tells this agent's other devices too; "offline" only means that
                    // this device is not counted yet.
                    if presence != Presence::Offline {
                        self.own_presence(presence);
                    }
                }
                Some(Incoming::Frame(Pushed::Presence { agent_id, presence })) => {
                    self.heard_presence(agent_id, presence);
                }
                Some(Incoming::Frame(Pushed::Presences { presences })) => {
                    for p in presences {
                        self.heard_presence(p.agent_id, p.presence);
                    }
                }
                Some(Incoming::Frame(Pushed::Error(e))) => {
                    tracing::warn!(code = %e.code, message = %e.message, "the hub could not read a frame of this client");
                }
            }
        }
    }

    /// Keeps the link up: handles what the hub sends, and reconnects after a loss (or, for
    /// an engine started offline, until the first connection).
    async fn supervise(self, mut incoming: Option<mpsc::Receiver<Incoming>>) {
        let mut retry = FIRST_RETRY;
        loop {
            if let Some(mut current) = incoming.take() {
                let Some(reason) = self.follow_link(&mut current).await else {
                    return self.close_link().await;
                };
                if lock(&self.shared.link).take().is_none() {
                    return; // signed out
                }
                tracing::info!(%reason, "lost the link to the hub");
                self.set_state(ConnectionState::Offline { reason });
            }
            // Reconnect, waiting longer after each failure, with jitter so that a hub
            // restart is not met by every client at the same instant.
            let wait = retry.mul_f64(0.5 + rand::random::<f64>());
            tokio::select! {
                _ = tokio::time::sleep(wait) => {}
                _ = self.stopped() => return self.close_link().await,
            }
            self.set_state(ConnectionState::Connecting);
            match self.reconnect().await {
                Ok(next) => {
                    incoming = Some(next);
                    retry = FIRST_RETRY;
                    self.set_state(ConnectionState::Online);
                    self.shared.outbox.notify_one();
                }
                Err(ClientError::Refused(e)) if e.code.ends_session() => {
                    self.set_state(ConnectionState::SignedOut { reason: e.message });
                    return;
                }
                Err(e) => {
                    tracing::info!(error = %e, "cannot reconnect yet");
                    self.set_state(ConnectionState::Offline {
                        reason: e.to_string(),
                    });
                    retry = (retry * 2).min(LAST_RETRY);
                }
            }
        }
    }

    /// What the cache holds of the agent's events, to resume from.
    fn held(&self) -> Held {
        Held {
            last_seq: self.shared.last_seq.load(Ordering::SeqCst),
            history: lock(&self.shared.history).clone(),
        }
    }

    /// Connects again as the first sign-in did: with the token, or with the password the
    /// keychain keeps once the hub has ended the token.
    async fn reconnect(&self) -> Result<mpsc::Receiver<Incoming>, ClientError> {
        let (hub, login) = (&self.shared.hub, &self.shared.login);
        let held = self.held();
        let token = self.token();
        let connection = match connect(hub, login, Proof::Token(&token), &held).await {
            Err(ClientError::Refused(e)) if e.code == ErrorCode::TokenInvalid => {
                let Some(password) = self.saved_password().await else {
                    return Err(ClientError::Refused(e));
                };
                connect(hub, login, Proof::Password(&password), &held).await?
            }
            other => other?,
        };
        let link = connection.link.clone();
        match self.establish(connection).await {
            Ok(incoming) => Ok(incoming),
            Err(e) => {
                link.close().await;
                Err(e)
            }
        }
    }

    /// The password the keychain keeps, when the agent asked to be remembered.
    async fn saved_password(&self) -> Option<String> {
        let keychain = self.shared.keychain.as_ref()?;
        match keychain
            .load(&self.shared.hub.address, &self.shared.login)
            .await
        {
            Ok(secret) => secret.and_then(|s| s.password),
            Err(e) => {
                tracing::info!(error = %e, "cannot read the kept sign-in");
                None
            }
        }
    }

    /// Sends the outbox, in order, whenever connected; each message is sent until the hub
    /// answers it (the hub ignores repeats of a message id).
    async fn send_outbox(self) {
        loop {
            tokio::select! {
                _ = self.shared.outbox.notified() => {}
                _ = self.stopped() => return,
            }
            let pending = match self.shared.cache.pending().await {
                Ok(p) => p,
                Err(e) => {
                    tracing::warn!(error = %e, "cannot read the outbox");
                    continue;
                }
            };
            for message in pending {
                let request = request::Send {
                    session_id: message.session_id.clone(),
                    message_id: message.id.clone(),
                    text: message.text.clone(),
                };
                match self.ask(request).await {
                    Ok(answered) => {
                        let sent = answered.message;
                        if self.shared.cache.put_message(&sent).await.is_ok() {
                            if let Ok(Some(now)) =
                                self.shared.cache.message(&sent.session_id, &sent.id).await
                            {
                                self.emit(EngineEvent::Message(now));
                            }
                        }
                    }
                    Err(ClientError::Refused(e)) if e.code == ErrorCode::RateLimited => {
                        tokio::time::sleep(Duration::from_secs(1)).await;
                        self.shared.outbox.notify_one();
                        break;
                    }
                    Err(ClientError::Refused(e)) => {
                        // The hub will never take it (the session ended, the text is too
                        // long...): it stays in the transcript as failed, with the reason.
                        let cache = &self.shared.cache;
                        if cache
                            .mark_failed(&message.session_id, &message.id, &e.message)
                            .await
                            .is_ok()
                        {
                            if let Ok(Some(now)) =
                                cache.message(&message.session_id, &message.id).await
                            {
                                self.emit(EngineEvent::Message(now));
                            }
                        }
                    }
                    // Offline or lost: the rest waits for the next connection.
                    Err(_) => break,
                }
            }
        }
    }
}

/// Whether a sign-in failed for want of the hub, not because it refused.
fn is_unreachable(error: &ClientError) -> bool {
    matches!(
        error,
        ClientError::Unreachable { .. }
            | ClientError::Lost(_)
            | ClientError::Timeout
            | ClientError::Proxy { .. }
    )
}

/// The login as the cache's file name holds it: logins are not told apart by case.
fn cache_login(login: &str) -> String {
    login.trim().to_lowercase()
}

async fn forget(keychain: &Keychain, hub: &Hub, login: &str) {
    if let Err(e) = keychain.forget(&hub.address, login).await {
        tracing::info!(error = %e, "cannot forget the kept sign-in");
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

fn now_millis() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::as_sent;

    #[test]
    fn typed_text_is_sent_with_plain_line_breaks_and_no_control_characters() {
        assert_eq!(
            as_sent("one\r\ntwo\rthree\n\tfour"),
            "one\ntwo\nthree\n\tfour"
        );
        assert_eq!(
            as_sent("bell\u{7} and\u{1b}[31m escape"),
            "bell and[31m escape"
        );
        assert_eq!(as_sent("Zoë – ok"), "Zoë – ok");
    }
}
