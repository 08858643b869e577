//! The one task that changes IM sessions, interactions and voice consultations. Each change
//! runs in its own savepoint, is committed, and only then are its events delivered and the
//! request answered; running the changes one after another keeps every agent's events in
//! the order of their numbers.

use std::sync::Arc;
use std::time::Duration;

use tokio::time::Instant;

use huddle_protocol::{
    ConsultContext, EndReason, Event, FirstMessage, SessionEnd, SessionInfo, SessionState,
};
use sqlx::SqliteConnection;
use tokio::sync::{mpsc, oneshot};

use crate::config::Config;
use crate::services::accounts::{self, Account};
use crate::services::cluster::{self, Cluster};
use crate::services::committed::Committed;
use crate::services::consultations::{self, Changed, Ctx, SwitchWork, Switched};
use crate::services::error::{Kind, Missing, Refusal};
use crate::services::integration::{self, Done};
use crate::services::interactions;
use crate::services::messages::{self, NewMessage};
use crate::services::registry::{Outgoing, Registry};
use crate::services::sessions::{
    self, check_text, internal, invalid_id, unknown_session, unstored, valid_id, wrong_state,
};
use crate::services::telephony::Telephony;
use crate::store::health::{self, StoreHealth};
use crate::store::now_millis;
use crate::store::sql::{statement, Conn, Dialect, Own, Store, Tx};

/// A change to IM sessions, asked for by an agent (or by the invitation clock).
#[derive(Clone)]
pub enum Change {
    /// Invite an agent.
    Invite {
        inviter: Account,
        session_id: String,
        target: i64,
        first_message: Option<FirstMessage>,
        context: Option<ConsultContext>,
    },
    /// The target accepts.
    Accept { agent_id: i64, session_id: String },
    /// The target rejects.
    Reject { agent_id: i64, session_id: String },
    /// The inviter withdraws.
    Cancel { agent_id: i64, session_id: String },
    /// A participant ends a connected session.
    End { agent_id: i64, session_id: String },
    /// An invitation's time is up.
    Expire { session_id: String },
    /// The inviter of a consultation IM turns it into a voice consultation.
    StartVoice { agent_id: i64, session_id: String },
    /// The consulted agent answers a voice consultation.
    AnswerVoice {
        agent_id: i64,
        consultation_id: String,
        accept: bool,
    },
    /// Either agent ends a voice consultation.
    EndVoice {
        agent_id: i64,
        consultation_id: String,
    },
    /// What the switch did for a voice consultation, after one of the changes above.
    VoiceSwitched {
        consultation_id: String,
        switched: Switched,
    },
}

/// What an agent asks of the writer: a message (`send_path`), or another change.
pub enum Asked {
    /// A message into a session.
    Message(NewMessage),
    /// Anything else.
    Change(Change),
}

impl From<Change> for Asked {
    fn from(change: Change) -> Self {
        Self::Change(change)
    }
}

/// A change waiting for the writer, with where its answer goes.
enum Job {
    /// A message an agent sends (see `send_path`).
    Send {
        message: NewMessage,
        answer: oneshot::Sender<Result<Committed, Refusal>>,
    },
    /// Any other change asked by an agent (or the invitation clock).
    Agent {
        change: Change,
        answer: oneshot::Sender<Result<Committed, Refusal>>,
    },
    /// Asked through the integration API.
    Integration {
        change: integration::Change,
        answer: oneshot::Sender<Result<Done, Refusal>>,
    },
}

/// The handle through which connections ask for changes.
#[derive(Clone)]
pub struct Writer {
    jobs: mpsc::Sender<Job>,
    /// Asks the writer to finish, closing its connection, and says when it has.
    stop: mpsc::Sender<oneshot::Sender<()>>,
}

impl Writer {
    /// Starts the writer task.
    pub fn start(
        store: Store,
        registry: Arc<Registry>,
        cluster: Arc<Cluster>,
        config: Config,
        telephony: Arc<dyn Telephony>,
        health: Arc<StoreHealth>,
    ) -> Self {
        let (jobs, queue) = mpsc::channel(4096);
        let (stop, stopping) = mpsc::channel(1);
        let writer = Self { jobs, stop };
        let task = Task {
            store,
            conn: None,
            registry,
            cluster,
            config,
            telephony,
            writer: writer.clone(),
            health,
        };
        tokio::spawn(task.run(queue, stopping));
        writer
    }

    /// Finishes the writer once the hub stops: the changes queued before are applied, and
    /// its connection to the database is closed (a later change is refused as the hub
    /// stopping). A hub started again on the same file finds it free.
    pub async fn stop(&self) {
        let (done, finished) = oneshot::channel();
        if self.stop.send(done).await.is_ok() {
            let _ = finished.await;
        }
    }

    /// Asks for a change and waits for its answer.
    pub async fn change(&self, change: Change) -> Result<Committed, Refusal> {
        self.submit(change).await?.await
    }

    /// Queues a change (waiting while the queue is full) and returns its answer to come.
    /// Changes are applied in the order they were queued.
    pub async fn submit(
        &self,
        asked: impl Into<Asked>,
    ) -> Result<
        impl std::future::Future<Output = Result<Committed, Refusal>> + Send + 'static,
        Refusal,
    > {
        let (answer, answered) = oneshot::channel();
        let stopped = || Refusal::new(Kind::Internal, "the hub is stopping");
        let job = match asked.into() {
            Asked::Message(message) => Job::Send { message, answer },
            Asked::Change(change) => Job::Agent { change, answer },
        };
        self.jobs.send(job).await.map_err(|_| stopped())?;
        Ok(async move { answered.await.map_err(|_| stopped())? })
    }

    /// Applies a change asked through the integration API and waits for its answer.
    pub async fn integrate(&self, change: integration::Change) -> Result<Done, Refusal> {
        let (answer, answered) = oneshot::channel();
        let stopped = Refusal::stopping;
        self.jobs
            .send(Job::Integration { change, answer })
            .await
            .map_err(|_| stopped())?;
        answered.await.map_err(|_| stopped())?
    }
}

/// Which participant of an invitation.
enum Side {
    Inviter,
    Target,
}

/// The most changes committed together.
const BATCH: usize = 2048;

/// How long committed changes may stay in the write-ahead log only. Each copy writes a page
/// changed many times once; the log holds about this long's worth of changes.
const CHECKPOINT_EVERY: Duration = Duration::from_millis(250);

/// How often a hub that cannot store changes tries again by itself.
const PROBE_EVERY: Duration = Duration::from_secs(1);

struct Task {
    store: Store,
    /// The writer's own connection, kept from batch to batch: SQLite's cache holds the pages
    /// the writer changes, which a connection taken from the pool in turn with readers would
    /// find stale and read again after every other connection's commit.
    conn: Option<Own>,
    registry: Arc<Registry>,
    /// This node among those serving the store, told of what each commit did.
    cluster: Arc<Cluster>,
    config: Config,
    telephony: Arc<dyn Telephony>,
    writer: Writer,
    health: Arc<StoreHealth>,
}

/// What a change produced: the answer, and events to deliver once committed.
struct Outcome<T = Answer> {
    reply: T,
    events: Vec<(i64, Outgoing)>,
    /// Whether an invitation was made (the invitation clock reads the next time-out again).
    invited: bool,
    /// Call operations for the switch, once committed.
    then: Option<SwitchWork>,
}

impl From<Changed> for Outcome {
    fn from(changed: Changed) -> Self {
        Self {
            reply: changed.reply,
            events: changed.events,
            invited: false,
            then: changed.then,
        }
    }
}

impl Outcome {
    fn reply(reply: Committed) -> Self {
        Self {
            reply: Ok(reply),
            events: Vec::new(),
            invited: false,
            then: None,
        }
    }
}

/// What an agent's change is answered.
type Answer = Result<Committed, Refusal>;

/// What a job came to inside the transaction, waiting for the commit to be answered.
enum Verdict {
    Agent(Result<Outcome, Refusal>),
    Integration(Result<Outcome<Done>, Refusal>),
}

impl Verdict {
    /// The agents' event numbers the job reached, and whether it made an invitation.
    fn reached(&self) -> (impl Iterator<Item = (i64, i64)> + '_, bool) {
        let (events, invited) = match self {
            Verdict::Agent(Ok(o)) => (&o.events[..], o.invited),
            Verdict::Integration(Ok(o)) => (&o.events[..], o.invited),
            _ => (&[][..], false),
        };
        let numbers = events
            .iter()
            .filter_map(|(agent, frame)| frame.seq.map(|seq| (*agent, seq)));
        (numbers, invited)
    }
}

/// A job that comes after the database failed in its batch: refused without being run.
fn unrun(job: &Job) -> Verdict {
    match job {
        Job::Send { .. } | Job::Agent { .. } => Verdict::Agent(Err(unstored())),
        Job::Integration { .. } => Verdict::Integration(Err(Refusal::unstored())),
    }
}

/// A run of messages refused as a whole, before any of it was written (the writer's
/// connection could not be reached); the batch fails with it.
fn refuse_run(
    run: &[&NewMessage],
    e: impl std::fmt::Display,
    verdicts: &mut Vec<Verdict>,
) -> Result<(), String> {
    let refused = internal(&e);
    verdicts.extend(run.iter().map(|_| Verdict::Agent(Err(refused.clone()))));
    Err(e.to_string())
}

/// How many times a batch that failed on PostgreSQL is tried again: another node may have
/// taken the same rows in another order (a deadlock PostgreSQL breaks by failing one side),
/// or made the same session at the same moment.
const RETRIES: u32 = 3;

impl Task {
    async fn run(
        mut self,
        mut queue: mpsc::Receiver<Job>,
        mut stop: mpsc::Receiver<oneshot::Sender<()>>,
    ) {
        let mut jobs = Vec::with_capacity(BATCH);
        // When the first commit not yet copied into the database was made.
        let mut uncopied_since: Option<Instant> = None;
        loop {
            // Waits for changes, but no longer than the next thing to do without them: copy
            // the log into the database, or see whether writes work again.
            let until = match (uncopied_since, self.health.failure()) {
                (_, Some(_)) => Some(Instant::now() + PROBE_EVERY),
                (Some(since), None) => Some(since + CHECKPOINT_EVERY),
                (None, None) => None,
            };
            let next = queue.recv_many(&mut jobs, BATCH);
            let next = async {
                match until {
                    None => Some(next.await),
                    Some(until) => tokio::time::timeout_at(until, next).await.ok(),
                }
            };
            let received = tokio::select! {
                Some(done) = stop.recv() => {
                    // What was queued before the stop is applied; then nothing more.
                    queue.close();
                    while queue.recv_many(&mut jobs, BATCH).await > 0 {
                        self.apply(std::mem::take(&mut jobs)).await;
                    }
                    if let Some(conn) = self.conn.take() {
                        if let Err(e) = conn.close().await {
                            tracing::debug!(error = %e, "closing the writer's connection");
                        }
                    }
                    let _ = done.send(());
                    return;
                }
                received = next => received,
            };
            let Some(received) = received else {
                if self.health.failure().is_some() {
                    self.probe().await;
                } else {
                    self.checkpoint().await;
                    uncopied_since = None;
                }
                continue;
            };
            if received == 0 {
                return;
            }
            self.apply(std::mem::take(&mut jobs)).await;
            let since = *uncopied_since.get_or_insert_with(Instant::now);
            if since.elapsed() >= CHECKPOINT_EVERY {
                self.checkpoint().await;
                uncopied_since = None;
            }
        }
    }

    /// Copies the committed changes from the write-ahead log into the database, between
    /// batches: with no write under way the copy completes, and the next commit starts the
    /// log again from its beginning instead of growing it. A copy made beside the writer
    /// never catches up with it, and the log then grows without end.
    async fn checkpoint(&mut self) {
        if self.store.dialect() != Dialect::Sqlite {
            return;
        }
        let copy = statement!("PRAGMA wal_checkpoint(PASSIVE)");
        let copied = match self.conn.as_mut() {
            Some(conn) => conn.conn().execute(copy).await,
            None => self.store.execute(copy).await,
        };
        if let Err(e) = copied {
            tracing::warn!(error = %e, "cannot copy the log into the database");
        }
    }

    /// Applies the waiting changes in one transaction (one disk sync for all of them), each
    /// inside a savepoint so that a refused one leaves no trace (messages are checked before
    /// anything of them is written, and need none); answers only after the commit.
    ///
    /// A failure of the database itself (a full disk, an I/O error) fails the whole batch:
    /// SQLite may have rolled the transaction back already, so nothing after it may run, and
    /// nothing of it is kept. Every request of the batch is answered with an error. On
    /// PostgreSQL the batch is tried again first, a few times (see [`RETRIES`]).
    async fn apply(&mut self, jobs: Vec<Job>) {
        let mut tried = 0;
        loop {
            let mut conn = match self.conn.take() {
                Some(conn) => conn,
                None => match self.store.connect().await {
                    Ok(conn) => conn,
                    Err(e) => return self.fail_all(jobs, &e),
                },
            };
            let (verdicts, committed) = self.run_batch(&mut conn, &jobs).await;
            match committed {
                // After a failure SQLite may have ended the transaction behind sqlx's back;
                // the next batch starts clean on a new connection.
                Ok(()) => self.conn = Some(conn),
                Err(e) if self.store.dialect() == Dialect::Postgres && tried < RETRIES => {
                    tried += 1;
                    tracing::debug!(error = %e, tried, "trying the batch again");
                    continue;
                }
                Err(_) => {}
            }
            return self.answer(jobs, verdicts, committed);
        }
    }

    /// Runs the jobs in one transaction on `conn` and commits it; returns what each job came
    /// to (those after a failure of the store are not run), and whether the commit was made.
    async fn run_batch(&self, conn: &mut Own, jobs: &[Job]) -> (Vec<Verdict>, Result<(), String>) {
        let mut tx = match conn.begin_writing().await {
            Ok(tx) => tx,
            Err(e) => return (Vec::new(), Err(e.to_string())),
        };
        let mut verdicts = Vec::with_capacity(jobs.len());
        // The database failed during this batch: nothing of it may stay.
        let mut broken: Option<String> = None;
        let mut next = 0;
        while let Some(job) = jobs.get(next) {
            next += 1;
            if broken.is_some() {
                verdicts.push(unrun(job));
                continue;
            }
            match job {
                Job::Send { .. } => {
                    // Messages that follow one another go in together.
                    let from = next - 1;
                    while let Some(Job::Send { .. }) = jobs.get(next) {
                        next += 1;
                    }
                    let run: Vec<&NewMessage> = jobs[from..next]
                        .iter()
                        .filter_map(|job| match job {
                            Job::Send { message, .. } => Some(message),
                            _ => None,
                        })
                        .collect();
                    if let Err(e) = self.send_run(&mut tx, &run, &mut verdicts).await {
                        broken = Some(e);
                    }
                }
                Job::Agent { change, .. } => {
                    let decided = self.decide_in_savepoint(&mut tx, change.clone()).await;
                    match decided {
                        Ok(result) => verdicts.push(Verdict::Agent(result)),
                        // Logged where it happened, and once more when the batch fails.
                        Err(e) => {
                            broken = Some(e);
                            verdicts.push(Verdict::Agent(Err(unstored())));
                        }
                    }
                }
                Job::Integration { change, .. } => {
                    let applied = self.integrate_in_savepoint(&mut tx, change.clone()).await;
                    match applied {
                        Ok(result) => verdicts.push(Verdict::Integration(result)),
                        Err(e) => {
                            broken = Some(e);
                            verdicts.push(Verdict::Integration(Err(Refusal::unstored())));
                        }
                    }
                }
            }
        }
        if broken.is_none() {
            broken = self.tell_the_nodes(&mut tx, &verdicts).await.err();
        }
        let committed = match broken {
            None => tx.commit().await.map_err(|e| e.to_string()),
            Some(e) => {
                // The database may have ended the transaction itself.
                if let Err(rollback) = tx.rollback().await {
                    tracing::debug!(error = %rollback, "rolling the failed batch back");
                }
                Err(e)
            }
        };
        (verdicts, committed)
    }

    /// Within the batch's transaction, tells the other nodes (at the commit) which agents'
    /// events it numbered, and whether it made an invitation.
    async fn tell_the_nodes(&self, tx: &mut Tx<'_>, verdicts: &[Verdict]) -> Result<(), String> {
        if self.store.dialect() != Dialect::Postgres {
            return Ok(());
        }
        let mut reached = Vec::new();
        let mut invited = false;
        for verdict in verdicts {
            let (numbers, made) = verdict.reached();
            reached.extend(numbers);
            invited |= made;
        }
        let notices = cluster::commit_notices(self.cluster.node(), &reached, invited);
        for notice in notices {
            tx.conn().execute(notice).await.map_err(|e| e.to_string())?;
        }
        Ok(())
    }

    /// An agent's change, in a savepoint of its own. The outer error says the store failed
    /// and the transaction is broken.
    async fn decide_in_savepoint(
        &self,
        tx: &mut Tx<'_>,
        change: Change,
    ) -> Result<Result<Outcome, Refusal>, String> {
        in_savepoint(tx, async |db| self.decide(db, change).await).await
    }

    /// A change of the integration, in a savepoint of its own (see `decide_in_savepoint`).
    async fn integrate_in_savepoint(
        &self,
        tx: &mut Tx<'_>,
        change: integration::Change,
    ) -> Result<Result<Outcome<Done>, Refusal>, String> {
        in_savepoint(tx, async |db| {
            let applied = integration::apply(db, &self.config, now_millis(), change).await?;
            Ok(Outcome {
                reply: applied.done,
                events: applied.events,
                invited: false,
                then: (!applied.release.is_empty()).then_some(SwitchWork::Release(applied.release)),
            })
        })
        .await
    }

    /// Answers each job with what it came to, once the batch is committed (or not).
    fn answer(&self, jobs: Vec<Job>, verdicts: Vec<Verdict>, committed: Result<(), String>) {
        match &committed {
            Ok(()) => self.stored(),
            Err(e) => self.health.failed(e),
        }
        let mut verdicts = verdicts.into_iter();
        for job in jobs {
            let verdict = verdicts.next().unwrap_or_else(|| unrun(&job));
            match (job, verdict) {
                (Job::Send { answer, .. } | Job::Agent { answer, .. }, Verdict::Agent(result)) => {
                    match (&committed, result) {
                        (Err(_), Ok(_)) => {
                            let _ = answer.send(Err(unstored()));
                        }
                        (_, Err(refused)) => {
                            let _ = answer.send(Err(refused));
                        }
                        (Ok(()), Ok(mut outcome)) => {
                            let then = outcome.then.take();
                            let reply = self.deliver(outcome);
                            match then {
                                None => {
                                    let _ = answer.send(reply);
                                }
                                Some(work) => self.ask_switch(work, Some((reply, answer))),
                            }
                        }
                    }
                }
                (Job::Integration { answer, .. }, Verdict::Integration(result)) => {
                    let result = match (&committed, result) {
                        (Err(_), Ok(_)) => Err(Refusal::unstored()),
                        (_, Err(refused)) => Err(refused),
                        (Ok(()), Ok(mut outcome)) => {
                            if let Some(work) = outcome.then.take() {
                                self.ask_switch(work, None);
                            }
                            Ok(self.deliver(outcome))
                        }
                    };
                    let _ = answer.send(result);
                }
                // Each job's verdict is made from the job itself: these cannot meet.
                (Job::Integration { answer, .. }, Verdict::Agent(_)) => {
                    let _ = answer.send(Err(Refusal::unstored()));
                }
                (Job::Send { answer, .. } | Job::Agent { answer, .. }, Verdict::Integration(_)) => {
                    let _ = answer.send(Err(unstored()));
                }
            }
        }
    }

    /// A write succeeded. After failures, the hub is healthy again only once its disk has
    /// room again.
    fn stored(&self) {
        if self.health.failure().is_none() {
            return;
        }
        let room = health::store_free_bytes(&self.store, &self.config.database);
        if room.is_some_and(|room| room < health::ROOM_TO_RECOVER) {
            self.health
                .failed("the database's disk is still almost full");
        } else {
            self.health.stored();
        }
    }

    /// Answers every job with an error: the batch could not even begin.
    fn fail_all(&self, jobs: Vec<Job>, e: &sqlx::Error) {
        self.health.failed(&e.to_string());
        let refused = internal(e);
        for job in jobs {
            match job {
                Job::Agent { answer, .. } | Job::Send { answer, .. } => {
                    let _ = answer.send(Err(refused.clone()));
                }
                Job::Integration { answer, .. } => {
                    let _ = answer.send(Err(Refusal::unstored()));
                }
            }
        }
    }

    /// While writes fail, tries one now and then, so that the hub reports itself healthy
    /// again as soon as the disk has room, even when no agent asks for anything.
    async fn probe(&self) {
        let mut conn = match self.store.connect().await {
            Ok(conn) => conn,
            Err(e) => return self.health.failed(&e.to_string()),
        };
        let written = async {
            let mut tx = conn.begin_writing().await?;
            tx.conn()
                .execute(statement!(
                    "INSERT INTO hub_meta (key, value) VALUES ('last_write_check', $1)
                     ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                    now_millis().to_string()
                ))
                .await?;
            tx.commit().await
        };
        match written.await {
            Ok(()) => self.stored(),
            Err(e) => self.health.failed(&e.to_string()),
        }
        if let Err(e) = conn.close().await {
            tracing::debug!(error = %e, "closing the probe's connection");
        }
    }

    /// Stores a run of messages (`messages`). An error says the transaction is broken and
    /// must not be committed.
    async fn send_run(
        &self,
        tx: &mut Tx<'_>,
        run: &[&NewMessage],
        verdicts: &mut Vec<Verdict>,
    ) -> Result<(), String> {
        let tx = match tx {
            Tx::Sqlite(tx) => return self.send_run_on_sqlite(tx, run, verdicts).await,
            Tx::Postgres(_) => tx,
        };
        let max = self.config.limits.max_message_chars;
        let mut broken = Ok(());
        for message in run {
            let result = match &broken {
                // What follows a failure would go with the rolled-back transaction.
                Err(_) => Err(unstored()),
                Ok(()) => {
                    let applied =
                        messages::apply_on(&mut tx.conn(), max, now_millis(), message).await;
                    message_outcome(&mut broken, applied)
                }
            };
            verdicts.push(Verdict::Agent(result));
        }
        broken
    }

    /// [`Self::send_run`] on the SQLite connection of the transaction directly, through
    /// SQLite's own API: through sqlx, each statement went to the connection's worker thread
    /// and back, a hand-over that bounded the hub to a few thousand messages a second; here
    /// a run of messages takes one hand-over in all.
    async fn send_run_on_sqlite(
        &self,
        tx: &mut SqliteConnection,
        run: &[&NewMessage],
        verdicts: &mut Vec<Verdict>,
    ) -> Result<(), String> {
        let max = self.config.limits.max_message_chars;
        let mut handle = match tx.lock_handle().await {
            Ok(handle) => handle,
            Err(e) => return refuse_run(run, e, verdicts),
        };
        // SAFETY: the handle stays locked out of sqlx's worker thread while `conn` lives, and a
        // connection made from a handle does not close it when dropped.
        let conn = unsafe { rusqlite::Connection::from_handle(handle.as_raw_handle().as_ptr()) };
        let conn = match conn {
            Ok(conn) => conn,
            Err(e) => return refuse_run(run, e, verdicts),
        };
        let mut broken = Ok(());
        for message in run {
            let result = match &broken {
                // What follows a failure would go with the rolled-back transaction.
                Err(_) => Err(unstored()),
                Ok(()) => {
                    let applied = messages::apply(&conn, max, now_millis(), message);
                    message_outcome(&mut broken, applied)
                }
            };
            verdicts.push(Verdict::Agent(result));
        }
        broken
    }

    /// After the commit: sends a change's events and starts its invitation clock.
    fn deliver<T>(&self, outcome: Outcome<T>) -> T {
        for (agent_id, frame) in &outcome.events {
            self.registry.send_to(*agent_id, frame);
        }
        if outcome.invited {
            self.cluster.invited();
        }
        outcome.reply
    }

    /// After a commit, asks the switch for `work` on a task of its own, so that the writer
    /// goes on meanwhile; what the switch did comes back through the writer as a change of
    /// its own, whose answer goes to the request that asked (`waiting`, with the answer to
    /// give if the switch has nothing to report).
    fn ask_switch(&self, work: SwitchWork, waiting: Option<(Answer, oneshot::Sender<Answer>)>) {
        let (telephony, writer) = (self.telephony.clone(), self.writer.clone());
        tokio::spawn(async move {
            let switched = work.run(telephony.as_ref()).await;
            let answered = match switched {
                Some((consultation_id, switched)) => {
                    writer
                        .change(Change::VoiceSwitched {
                            consultation_id,
                            switched,
                        })
                        .await
                }
                // Nothing to record: the agent gets the answer the change had.
                None => match waiting {
                    Some((reply, answer)) => {
                        let _ = answer.send(reply);
                        return;
                    }
                    None => return,
                },
            };
            if let Some((_, answer)) = waiting {
                let _ = answer.send(answered);
            }
        });
    }

    fn ctx(&self, now: i64) -> Ctx<'_> {
        Ctx {
            config: &self.config,
            now,
        }
    }

    async fn decide(&self, db: &mut Conn<'_>, change: Change) -> Result<Outcome, Refusal> {
        let now = now_millis();
        match change {
            Change::Invite {
                inviter,
                session_id,
                target,
                first_message,
                context,
            } => {
                self.invite(db, now, inviter, session_id, target, first_message, context)
                    .await
            }
            Change::Accept {
                agent_id,
                session_id,
            } => {
                let session = self
                    .invitation(
                        db,
                        agent_id,
                        &session_id,
                        Side::Target,
                        "only the invited agent can accept",
                    )
                    .await?;
                self.transition(db, now, session, SessionState::Connected, None)
                    .await
            }
            Change::Reject {
                agent_id,
                session_id,
            } => {
                let session = self
                    .invitation(
                        db,
                        agent_id,
                        &session_id,
                        Side::Target,
                        "only the invited agent can reject",
                    )
                    .await?;
                self.end(db, now, session, EndReason::Rejected, Some(agent_id))
                    .await
            }
            Change::Cancel {
                agent_id,
                session_id,
            } => {
                let session = self
                    .invitation(
                        db,
                        agent_id,
                        &session_id,
                        Side::Inviter,
                        "only the inviter can cancel",
                    )
                    .await?;
                self.end(db, now, session, EndReason::Cancelled, Some(agent_id))
                    .await
            }
            Change::End {
                agent_id,
                session_id,
            } => {
                let session = self.participant(db, agent_id, &session_id).await?;
                require(&session, SessionState::Connected, true, "")?;
                self.end(db, now, session, EndReason::Ended, Some(agent_id))
                    .await
            }
            Change::Expire { session_id } => {
                let session = sessions::load_to_change(db, &session_id)
                    .await
                    .map_err(internal)?
                    .ok_or_else(|| {
                        Refusal::new(Kind::NotFound(Missing::Session), "no such session")
                    })?;
                require(&session, SessionState::Inviting, true, "")?;
                self.end(db, now, session, EndReason::TimedOut, None).await
            }
            Change::StartVoice {
                agent_id,
                session_id,
            } => consultations::start(db, &self.ctx(now), agent_id, &session_id)
                .await
                .map(Outcome::from),
            Change::AnswerVoice {
                agent_id,
                consultation_id,
                accept,
            } => consultations::answer(db, &self.ctx(now), agent_id, &consultation_id, accept)
                .await
                .map(Outcome::from),
            Change::EndVoice {
                agent_id,
                consultation_id,
            } => consultations::end(db, &self.ctx(now), agent_id, &consultation_id)
                .await
                .map(Outcome::from),
            Change::VoiceSwitched {
                consultation_id,
                switched,
            } => consultations::record(db, &self.ctx(now), &consultation_id, switched)
                .await
                .map(Outcome::from),
        }
    }

    /// The session, if it is an invitation still waiting and the agent is on the `side`
    /// that may answer it this way; `who` says who may, when the agent may not.
    async fn invitation(
        &self,
        db: &mut Conn<'_>,
        agent_id: i64,
        session_id: &str,
        side: Side,
        who: &str,
    ) -> Result<SessionInfo, Refusal> {
        let session = self.participant(db, agent_id, session_id).await?;
        let allowed = match side {
            Side::Inviter => session.inviter.id == agent_id,
            Side::Target => session.target.id == agent_id,
        };
        require(&session, SessionState::Inviting, allowed, who)?;
        Ok(session)
    }

    /// The session, if the agent takes part in it; otherwise the same refusal as for a
    /// session that does not exist.
    async fn participant(
        &self,
        db: &mut Conn<'_>,
        agent_id: i64,
        session_id: &str,
    ) -> Result<SessionInfo, Refusal> {
        let unknown = unknown_session;
        if !valid_id(session_id) {
            return Err(invalid_id("session_id"));
        }
        let session = sessions::load_to_change(db, session_id)
            .await
            .map_err(internal)?
            .ok_or_else(unknown)?;
        if session.inviter.id != agent_id && session.target.id != agent_id {
            return Err(unknown());
        }
        Ok(session)
    }

    #[allow(clippy::too_many_arguments)]
    async fn invite(
        &self,
        db: &mut Conn<'_>,
        now: i64,
        inviter: Account,
        session_id: String,
        target: i64,
        first_message: Option<FirstMessage>,
        context: Option<ConsultContext>,
    ) -> Result<Outcome, Refusal> {
        if !valid_id(&session_id) {
            return Err(invalid_id("session_id"));
        }
        if let Some(first) = &first_message {
            if !valid_id(&first.id) {
                return Err(invalid_id("first_message.id"));
            }
            check_text(&first.text, self.config.limits.max_message_chars)?;
        }
        if let Some(existing) = sessions::load_to_change(db, &session_id)
            .await
            .map_err(internal)?
        {
            let same = existing.inviter.id == inviter.id
                && existing.target.id == target
                && existing.context == context
                && existing.first_message.as_ref().map(|m| (&m.id, &m.text))
                    == first_message.as_ref().map(|m| (&m.id, &m.text));
            if same {
                return Ok(Outcome::reply(Committed::Session(Box::new(existing))));
            }
            return Err(Refusal::new(
                Kind::IdConflict,
                "this session id is already used for another session",
            ));
        }
        if !inviter.can_start_im {
            return Err(Refusal::new(
                Kind::StartNotPermitted,
                "your account may receive IMs but not start them",
            ));
        }
        if target == inviter.id {
            return Err(Refusal::new(
                Kind::InvalidTarget,
                "you cannot invite yourself",
            ));
        }
        let target_account = accounts::by_id(&self.store, target)
            .await
            .map_err(internal)?;
        match target_account {
            Some(t) if !t.disabled && t.im_enabled => {}
            _ => {
                return Err(Refusal::new(
                    Kind::NotFound(Missing::Agent),
                    "no agent with this id can receive IMs",
                ))
            }
        }
        if let Some(context) = &context {
            interactions::check_context(db, inviter.id, &context.interaction_id).await?;
        }
        let max = i64::from(self.config.limits.max_open_sessions);
        for (who, whose) in [(inviter.id, "you have"), (target, "the invited agent has")] {
            if sessions::open_count(db, who).await.map_err(internal)? >= max {
                return Err(Refusal::new(
                    Kind::TooManySessions,
                    format!("{whose} {max} open sessions already; end one first"),
                ));
            }
        }
        let expires_at =
            now + i64::try_from(self.config.invite_timeout_secs * 1000).unwrap_or(i64::MAX);
        sessions::insert(
            db,
            &session_id,
            inviter.id,
            target,
            now,
            expires_at,
            context.as_ref(),
        )
        .await
        .map_err(internal)?;
        if let Some(first) = &first_message {
            sessions::append_message(db, &session_id, &first.id, inviter.id, &first.text, now)
                .await
                .map_err(internal)?;
            sessions::set_first_message(db, &session_id, &first.id)
                .await
                .map_err(internal)?;
        }
        let session = sessions::load(db, &session_id)
            .await
            .map_err(internal)?
            .ok_or_else(|| internal("the new session vanished"))?;
        let mut outcome = self.announce(db, now, session).await?;
        outcome.invited = true;
        Ok(outcome)
    }

    async fn end(
        &self,
        db: &mut Conn<'_>,
        now: i64,
        session: SessionInfo,
        reason: EndReason,
        by: Option<i64>,
    ) -> Result<Outcome, Refusal> {
        let end = SessionEnd {
            reason,
            by,
            at: now,
        };
        self.transition(db, now, session, SessionState::Ended, Some(end))
            .await
    }

    async fn transition(
        &self,
        db: &mut Conn<'_>,
        now: i64,
        mut session: SessionInfo,
        state: SessionState,
        end: Option<SessionEnd>,
    ) -> Result<Outcome, Refusal> {
        sessions::set_state(db, &session.id, state, end.as_ref())
            .await
            .map_err(internal)?;
        session.state = state;
        session.end = end;
        let mut outcome = self.announce(db, now, session).await?;
        outcome.reply = Ok(Committed::Done);
        Ok(outcome)
    }

    /// Numbers a session event for both participants; the answer is the session.
    async fn announce(
        &self,
        db: &mut Conn<'_>,
        now: i64,
        session: SessionInfo,
    ) -> Result<Outcome, Refusal> {
        let mut events = Vec::with_capacity(2);
        for who in [session.inviter.id, session.target.id] {
            let event = Event::Session {
                session: Box::new(session.clone()),
            };
            events.push(
                sessions::append_event(db, who, event, now)
                    .await
                    .map_err(internal)?,
            );
        }
        Ok(Outcome {
            reply: Ok(Committed::Session(Box::new(session))),
            events,
            invited: false,
            then: None,
        })
    }
}

/// What a message of a run decided: its outcome, or its refusal; a failure of the store
/// breaks the run (`broken`), whose transaction must then be abandoned.
fn message_outcome<E: std::fmt::Display>(
    broken: &mut Result<(), String>,
    applied: Result<Result<messages::Written, Refusal>, E>,
) -> Result<Outcome, Refusal> {
    match applied {
        Ok(result) => result.map(|(reply, events)| Outcome {
            reply: Ok(reply),
            events,
            invited: false,
            then: None,
        }),
        Err(e) => {
            *broken = Err(e.to_string());
            Err(internal(&e))
        }
    }
}

/// Runs a change in a savepoint of its own, kept when the change was decided and undone
/// when it was refused. The outer error says the store failed and the transaction is broken
/// (an internal refusal is such a failure).
async fn in_savepoint<T>(
    tx: &mut Tx<'_>,
    change: impl AsyncFnOnce(&mut Conn<'_>) -> Result<T, Refusal>,
) -> Result<Result<T, Refusal>, String> {
    tx.conn()
        .execute(statement!("SAVEPOINT change"))
        .await
        .map_err(|e| e.to_string())?;
    let result = change(&mut tx.conn()).await;
    close_savepoint(&mut tx.conn(), result.is_ok())
        .await
        .map_err(|e| e.to_string())?;
    match result {
        Err(refused) if refused.kind == Kind::Internal => Err(refused.message),
        result => Ok(result),
    }
}

/// Ends a change's savepoint: kept when the change was decided, undone when it was refused.
async fn close_savepoint(db: &mut Conn<'_>, keep: bool) -> sqlx::Result<()> {
    if !keep {
        db.execute(statement!("ROLLBACK TO change")).await?;
    }
    db.execute(statement!("RELEASE change")).await?;
    Ok(())
}

/// Checks the session's state and who asks, with the refusal a client can act on.
fn require(
    session: &SessionInfo,
    state: SessionState,
    allowed: bool,
    who: &str,
) -> Result<(), Refusal> {
    if session.state != state {
        return Err(wrong_state(session.state));
    }
    if !allowed {
        return Err(Refusal::new(Kind::WrongState, who.to_string()));
    }
    Ok(())
}
