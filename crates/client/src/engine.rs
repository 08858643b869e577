//! The client engine: one agent signed in to one hub. It keeps the link up (reconnecting
//! with back-off and resuming from the last event it applied), keeps the local cache in
//! step with the hub, sends the outbox in order when connected, and reports everything as
//! [`EngineEvent`]s.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use huddle_protocol::{
    AgentProfile, ConsultContext, DirectoryEntry, DirectoryFilter, ErrorCode, Event, FirstMessage,
    HistoryEntry, InteractionDetails, InteractionSummary, Presence, Reply, Request, SessionInfo,
    VoiceConsultation,
};
use tokio::sync::{broadcast, mpsc, watch, Notify};

use crate::cache::{cache_path, Cache, CachedMessage};
use crate::error::ClientError;
use crate::link::{Incoming, Link};
use crate::session_state::{Action, SessionStatus, UpdateRefused};

/// A hub to sign in to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hub {
    /// The address as typed (`host:port`, `ws://…`, `wss://…`).
    pub address: String,
    /// The certificate authority of an on-premise hub's TLS certificate, in PEM, trusted
    /// beside the system's own.
    pub ca_file: Option<PathBuf>,
}

impl Hub {
    /// A hub at this address, trusted through the system's certificates.
    pub fn new(address: impl Into<String>) -> Self {
        Self {
            address: address.into(),
            ca_file: None,
        }
    }
}

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
}

/// How often the cache is pruned when a retention is set.
const PRUNE_EVERY: Duration = Duration::from_secs(3600);

/// Back-off between reconnection attempts.
const FIRST_RETRY: Duration = Duration::from_millis(500);
const LAST_RETRY: Duration = Duration::from_secs(30);

/// A signed-in agent's engine. Clones share it.
#[derive(Clone)]
pub struct Engine {
    shared: Arc<Shared>,
    /// Held by the handles given out, not by the engine's own tasks: when the last handle
    /// goes, the tasks stop.
    _guard: Option<Arc<StopOnDrop>>,
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
    agent: AgentProfile,
    cache: Cache,
    events: broadcast::Sender<EngineEvent>,
    link: Mutex<Option<Link>>,
    state: Mutex<ConnectionState>,
    token: Mutex<String>,
    /// This agent's own presence, as the hub last confirmed it.
    presence: Mutex<Presence>,
    /// The last hub event applied, as the cache records it (kept here to spare a query per
    /// event).
    last_seq: AtomicI64,
    /// Each known session's status for this agent.
    statuses: Mutex<HashMap<String, SessionStatus>>,
    /// The last word on each session's voice consultation, by session id.
    voice: Mutex<HashMap<String, VoiceConsultation>>,
    /// Consultations drafted and not sent yet; they exist only here.
    drafts: Mutex<HashMap<String, SessionInfo>>,
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
        let (incoming_tx, incoming) = mpsc::channel(1024);
        let link = Link::open(&hub.address, hub.ca_file.as_deref(), incoming_tx).await?;
        let (agent, token, presence, resync) = match &credential {
            Credential::Password(password) => {
                let reply = link
                    .request(Request::Login {
                        login: login.to_string(),
                        password: password.clone(),
                    })
                    .await?;
                match reply {
                    Reply::LoggedIn {
                        agent,
                        token,
                        presence,
                        ..
                    } => (agent, token, presence, true),
                    other => return Err(unexpected("logged_in", &other)),
                }
            }
            Credential::Token(token) => {
                // The cache is per agent; its last event is only known once the agent is.
                let reply = link
                    .request(Request::Resume {
                        token: token.clone(),
                        last_seq: i64::MAX,
                    })
                    .await?;
                match reply {
                    Reply::Resumed {
                        agent, presence, ..
                    } => (agent, token.clone(), presence, true),
                    other => return Err(unexpected("resumed", &other)),
                }
            }
        };
        let cache = Cache::open(&cache_path(data_dir, &hub.address, &agent.login))
            .await
            .map_err(ClientError::from)?;
        let last_seq = cache.last_seq().await.map_err(ClientError::from)?;
        let mut statuses = HashMap::new();
        for info in cache.sessions().await.map_err(ClientError::from)? {
            match SessionStatus::from_hub(&info, agent.id) {
                Ok(status) => {
                    statuses.insert(info.id, status);
                }
                Err(e) => tracing::warn!(error = %e, "a cached session is unusable"),
            }
        }
        let (events, _) = broadcast::channel(4096);
        let stop = Arc::new(watch::channel(false).0);
        let engine = Engine {
            shared: Arc::new(Shared {
                hub: hub.clone(),
                agent,
                cache,
                events,
                link: Mutex::new(Some(link.clone())),
                state: Mutex::new(ConnectionState::Online),
                token: Mutex::new(token.clone()),
                presence: Mutex::new(presence),
                last_seq: AtomicI64::new(last_seq),
                statuses: Mutex::new(statuses),
                drafts: Mutex::new(HashMap::new()),
                voice: Mutex::new(HashMap::new()),
                applying: tokio::sync::Mutex::new(()),
                retention: Mutex::new(None),
                outbox: Notify::new(),
                stop: stop.clone(),
            }),
            _guard: Some(Arc::new(StopOnDrop(stop))),
        };
        if resync {
            engine.resync(&link).await?;
        }
        tokio::spawn(engine.for_task().supervise(incoming));
        tokio::spawn(engine.for_task().send_outbox());
        tokio::spawn(engine.for_task().prune_periodically());
        engine.shared.outbox.notify_one();
        Ok((engine, token))
    }

    /// The signed-in agent.
    pub fn agent(&self) -> &AgentProfile {
        &self.shared.agent
    }

    /// The local cache (sessions, transcripts, search).
    pub fn cache(&self) -> &Cache {
        &self.shared.cache
    }

    /// The current session token (for the keychain).
    pub fn token(&self) -> String {
        lock(&self.shared.token).clone()
    }

    /// Where the engine stands now.
    pub fn state(&self) -> ConnectionState {
        lock(&self.shared.state).clone()
    }

    /// Everything the engine reports from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<EngineEvent> {
        self.shared.events.subscribe()
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
    /// [`Engine::send_draft`], which invites the target. Nothing reaches the hub before that.
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
        lock(&self.shared.drafts).insert(info.id.clone(), info.clone());
        lock(&self.shared.statuses).insert(info.id.clone(), SessionStatus::Draft);
        let update = SessionUpdate {
            info,
            status: SessionStatus::Draft,
        };
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
        let draft = lock(&self.shared.drafts).get(session_id).cloned();
        let Some(draft) = draft else {
            // Not a draft (any more): the state machine says why, if the session is known.
            if let Some(status) = self.session_status(session_id) {
                status.perform(Action::SendFirstMessage)?;
            }
            return Err(ClientError::UnknownSession(session_id.to_string()));
        };
        let info = self
            .invite_as(
                draft.id.clone(),
                draft.target.id,
                Some(text),
                draft.context.clone(),
            )
            .await?;
        lock(&self.shared.drafts).remove(session_id);
        Ok(info)
    }

    /// Discards a draft (Done before sending): nothing reaches the target.
    pub fn discard_draft(&self, session_id: &str) -> Result<(), ClientError> {
        let status = self
            .session_status(session_id)
            .ok_or_else(|| ClientError::UnknownSession(session_id.to_string()))?;
        let next = status.perform(Action::DiscardDraft)?;
        let draft = lock(&self.shared.drafts).remove(session_id);
        lock(&self.shared.statuses).insert(session_id.to_string(), next);
        if let Some(info) = draft {
            self.emit(EngineEvent::Session(SessionUpdate { info, status: next }));
        }
        Ok(())
    }

    async fn invite_as(
        &self,
        session_id: String,
        target: i64,
        first_message: Option<&str>,
        context: Option<ConsultContext>,
    ) -> Result<SessionInfo, ClientError> {
        let request = Request::Invite {
            session_id,
            target,
            first_message: first_message.map(|text| FirstMessage {
                id: uuid::Uuid::new_v4().to_string(),
                text: text.to_string(),
            }),
            context,
        };
        match self.request(request).await? {
            Reply::Session { session } => {
                self.apply_session(&session).await?;
                Ok(*session)
            }
            other => Err(unexpected("session", &other)),
        }
    }

    /// Accepts an invitation.
    pub async fn accept(&self, session_id: &str) -> Result<(), ClientError> {
        self.act(
            session_id,
            Action::Accept,
            Request::Accept {
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
            Request::Reject {
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
            Request::Cancel {
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
            Request::End {
                session_id: session_id.into(),
            },
        )
        .await
    }

    /// This agent's customer interactions that have not ended, oldest first.
    pub async fn interactions(&self) -> Result<Vec<InteractionSummary>, ClientError> {
        match self.request(Request::Interactions).await? {
            Reply::Interactions { interactions } => Ok(interactions),
            other => Err(unexpected("interactions", &other)),
        }
    }

    /// An interaction's case data, contact and contact history: this agent's own, or one a
    /// colleague consults this agent about, while that consultation is connected.
    pub async fn interaction_details(
        &self,
        interaction_id: &str,
    ) -> Result<InteractionDetails, ClientError> {
        let request = Request::InteractionDetails {
            interaction_id: interaction_id.into(),
        };
        match self.request(request).await? {
            Reply::InteractionDetails { details } => Ok(*details),
            other => Err(unexpected("interaction_details", &other)),
        }
    }

    /// Searches the contact history of an interaction's contact (all of it, newest first,
    /// for an empty query).
    pub async fn contact_history(
        &self,
        interaction_id: &str,
        query: &str,
    ) -> Result<Vec<HistoryEntry>, ClientError> {
        let request = Request::ContactHistory {
            interaction_id: interaction_id.into(),
            query: query.into(),
            limit: None,
        };
        match self.request(request).await? {
            Reply::ContactHistory { entries } => Ok(entries),
            other => Err(unexpected("contact_history", &other)),
        }
    }

    /// Turns a connected IM consultation about a voice interaction into a voice
    /// consultation: the customer is put on hold and the target's phone rings.
    pub async fn start_voice_consultation(
        &self,
        session_id: &str,
    ) -> Result<VoiceConsultation, ClientError> {
        let request = Request::StartVoiceConsultation {
            session_id: session_id.into(),
        };
        match self.request(request).await? {
            Reply::VoiceConsultation { consultation } => {
                self.voice_changed(consultation.clone());
                Ok(consultation)
            }
            other => Err(unexpected("voice_consultation", &other)),
        }
    }

    /// Answers a voice consultation request; the outcome arrives as a voice consultation
    /// event.
    pub async fn answer_voice_consultation(
        &self,
        consultation_id: &str,
        accept: bool,
    ) -> Result<(), ClientError> {
        self.expect_ok(Request::AnswerVoiceConsultation {
            consultation_id: consultation_id.into(),
            accept,
        })
        .await
    }

    /// Ends a voice consultation; the customer is taken off hold. The outcome arrives as a
    /// voice consultation event.
    pub async fn end_voice_consultation(&self, consultation_id: &str) -> Result<(), ClientError> {
        self.expect_ok(Request::EndVoiceConsultation {
            consultation_id: consultation_id.into(),
        })
        .await
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
        lock(&self.shared.statuses).get(session_id).copied()
    }

    /// Every cached session with its status, newest first.
    pub async fn sessions(&self) -> Result<Vec<SessionUpdate>, ClientError> {
        let infos = self.shared.cache.sessions().await?;
        let mut drafts: Vec<SessionUpdate> = lock(&self.shared.drafts)
            .values()
            .map(|info| SessionUpdate {
                info: info.clone(),
                status: SessionStatus::Draft,
            })
            .collect();
        drafts.sort_by_key(|d| std::cmp::Reverse(d.info.created_at));
        let statuses = lock(&self.shared.statuses);
        drafts.extend(infos.into_iter().filter_map(|info| {
            let status = *statuses.get(&info.id)?;
            Some(SessionUpdate { info, status })
        }));
        Ok(drafts)
    }

    /// Keeps ended sessions in the cache for `retention` after they ended (`None`: for ever),
    /// and prunes the older ones now and every hour. Returns how many were forgotten now.
    pub async fn set_retention(&self, retention: Option<Duration>) -> Result<u64, ClientError> {
        *lock(&self.shared.retention) = retention;
        self.prune().await
    }

    /// Sets the agent's presence.
    pub async fn set_presence(&self, presence: Presence) -> Result<(), ClientError> {
        self.expect_ok(Request::SetPresence { presence }).await?;
        self.own_presence(presence);
        Ok(())
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

    /// Marks or unmarks a favorite.
    pub async fn set_favorite(&self, agent_id: i64, favorite: bool) -> Result<(), ClientError> {
        self.expect_ok(Request::SetFavorite { agent_id, favorite })
            .await
    }

    /// Searches the hub's directory.
    pub async fn search(
        &self,
        query: &str,
        filter: DirectoryFilter,
    ) -> Result<Vec<DirectoryEntry>, ClientError> {
        match self
            .request(Request::Search {
                query: query.to_string(),
                filter,
                limit: None,
            })
            .await?
        {
            Reply::Directory { entries } => Ok(entries),
            other => Err(unexpected("directory", &other)),
        }
    }

    /// Logs out (the token is revoked) and stops the engine.
    pub async fn sign_out(&self) {
        let link = lock(&self.shared.link).take();
        if let Some(link) = link {
            let _ = link.request(Request::Logout).await;
            link.close().await;
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
        request: Request,
    ) -> Result<(), ClientError> {
        let next = match self.session_status(session_id) {
            Some(status) => Some(status.perform(action)?),
            None => None,
        };
        self.expect_ok(request).await?;
        if let Some(next) = next {
            let _applying = self.shared.applying.lock().await;
            let mut statuses = lock(&self.shared.statuses);
            if let Some(status) = statuses.get_mut(session_id) {
                *status = status.confirmed(next);
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
            let kept: std::collections::HashSet<String> = self
                .shared
                .cache
                .sessions()
                .await?
                .into_iter()
                .map(|s| s.id)
                .collect();
            lock(&self.shared.statuses).retain(|id, _| kept.contains(id));
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

    async fn expect_ok(&self, request: Request) -> Result<(), ClientError> {
        match self.request(request).await? {
            Reply::Ok => Ok(()),
            other => Err(unexpected("ok", &other)),
        }
    }

    async fn request(&self, request: Request) -> Result<Reply, ClientError> {
        let link = lock(&self.shared.link).clone();
        match link {
            Some(link) => link.request(request).await,
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

    /// Brings the cache in line with a snapshot of the hub.
    async fn resync(&self, link: &Link) -> Result<(), ClientError> {
        match link.request(Request::Snapshot).await? {
            Reply::Snapshot {
                seq,
                sessions,
                voice_consultations,
                ..
            } => {
                for consultation in voice_consultations {
                    self.voice_changed(consultation);
                }
                let cache = &self.shared.cache;
                cache
                    .reconcile(&sessions, now_millis())
                    .await
                    .map_err(ClientError::from)?;
                cache.set_last_seq(seq).await.map_err(ClientError::from)?;
                self.shared.last_seq.store(seq, Ordering::SeqCst);
                // The snapshot is the hub's truth: statuses are taken from it as they are,
                // even where the cache had guessed further.
                for t in sessions {
                    match SessionStatus::from_hub(&t.session, self.shared.agent.id) {
                        Ok(status) => {
                            lock(&self.shared.statuses).insert(t.session.id.clone(), status);
                            self.emit(EngineEvent::Session(SessionUpdate {
                                info: t.session,
                                status,
                            }));
                        }
                        Err(e) => tracing::warn!(error = %e, "the hub sent an unusable session"),
                    }
                }
                Ok(())
            }
            other => Err(unexpected("snapshot", &other)),
        }
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
        lock(&self.shared.statuses).insert(session.id.clone(), status);
        self.emit(EngineEvent::Session(SessionUpdate {
            info: session.clone(),
            status,
        }));
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
                let changed = was.is_none_or(|m| m.seq.is_none());
                if changed {
                    if let Ok(Some(now)) = cache.message(&message.session_id, &message.id).await {
                        self.emit(EngineEvent::Message(now));
                    }
                }
            }
        }
        cache.set_last_seq(seq).await.map_err(ClientError::from)?;
        self.shared.last_seq.store(seq, Ordering::SeqCst);
        Ok(())
    }

    /// Keeps the link up: handles what the hub sends, and reconnects after a loss.
    async fn supervise(self, mut incoming: mpsc::Receiver<Incoming>) {
        let mut retry = FIRST_RETRY;
        loop {
            // Handle the link until it closes.
            let reason = loop {
                let next = tokio::select! {
                    next = incoming.recv() => next,
                    _ = self.stopped() => return self.close_link().await,
                };
                match next {
                    None => break "the connection ended".to_string(),
                    Some(Incoming::Closed(reason)) => break reason,
                    Some(Incoming::Frame(Reply::Event { seq, event })) => {
                        if let Err(e) = self.apply(seq, event).await {
                            // Going on would skip the event for good; reconnecting resumes
                            // from the last one applied, and the hub sends it again.
                            tracing::warn!(error = %e, "cannot apply an event; reconnecting");
                            self.close_link_for_retry().await;
                            break format!("an event could not be stored ({e})");
                        }
                    }
                    Some(Incoming::Frame(Reply::Presence { agent_id, presence }))
                        if agent_id == self.shared.agent.id =>
                    {
                        // The hub tells this agent's other devices too; "offline" only means
                        // that this device is not counted yet.
                        if presence != Presence::Offline {
                            self.own_presence(presence);
                        }
                    }
                    Some(Incoming::Frame(Reply::Presence { agent_id, presence })) => {
                        self.emit(EngineEvent::Presence { agent_id, presence });
                    }
                    Some(Incoming::Frame(other)) => {
                        tracing::debug!(kind = other.kind(), "ignored a frame");
                    }
                }
            };
            if lock(&self.shared.link).take().is_none() {
                return; // signed out
            }
            tracing::info!(%reason, "lost the link to the hub");
            self.set_state(ConnectionState::Offline { reason });
            // Reconnect, waiting longer after each failure, with jitter so that a hub
            // restart is not met by every client at the same instant.
            loop {
                let wait = retry.mul_f64(0.5 + rand::random::<f64>());
                tokio::select! {
                    _ = tokio::time::sleep(wait) => {}
                    _ = self.stopped() => return self.close_link().await,
                }
                self.set_state(ConnectionState::Connecting);
                let (incoming_tx, next_incoming) = mpsc::channel(1024);
                match self.reconnect(incoming_tx).await {
                    Ok(link) => {
                        incoming = next_incoming;
                        *lock(&self.shared.link) = Some(link);
                        retry = FIRST_RETRY;
                        self.set_state(ConnectionState::Online);
                        self.shared.outbox.notify_one();
                        break;
                    }
                    Err(ClientError::Refused(e)) if e.code.ends_session() => {
                        self.set_state(ConnectionState::SignedOut { reason: e.message });
                        return;
                    }
                    Err(e) => {
                        self.set_state(ConnectionState::Offline {
                            reason: e.to_string(),
                        });
                        retry = (retry * 2).min(LAST_RETRY);
                    }
                }
            }
        }
    }

    async fn reconnect(&self, incoming: mpsc::Sender<Incoming>) -> Result<Link, ClientError> {
        let hub = &self.shared.hub;
        let link = Link::open(&hub.address, hub.ca_file.as_deref(), incoming).await?;
        let last_seq = self.shared.last_seq.load(Ordering::SeqCst);
        let token = self.token();
        match link.request(Request::Resume { token, last_seq }).await? {
            Reply::Resumed {
                resync_required,
                presence,
                ..
            } => {
                self.own_presence(presence);
                if resync_required {
                    self.resync(&link).await?;
                }
                Ok(link)
            }
            other => Err(unexpected("resumed", &other)),
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
                let request = Request::Send {
                    session_id: message.session_id.clone(),
                    message_id: message.id.clone(),
                    text: message.text.clone(),
                };
                match self.request(request).await {
                    Ok(Reply::Sent { message: sent }) => {
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
                    Ok(_) | Err(_) => break,
                }
            }
        }
    }
}

fn unexpected(expected: &str, got: &Reply) -> ClientError {
    ClientError::Protocol(format!("expected `{expected}`, got `{}`", got.kind()))
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
