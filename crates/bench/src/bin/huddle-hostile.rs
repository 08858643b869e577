//! The hub against hostile clients, with its default limits. Ordinary agents, paired in IM
//! sessions, exchange messages at a steady rate in rounds: alone, then while an attacker
//! holds thousands of sockets that never sign in (half HTTP heads and silent WebSockets),
//! guesses one agent's password from hundreds of connections, and one signed-in agent floods
//! messages and searches. It prints the ordinary agents' relay latency (the median over the
//! rounds, so that one slow moment of a shared machine does not decide) and the hub's memory
//! in both conditions, side by side, and how many ordinary agents were disconnected. Then a shift
//! change: every agent signs in with a password at once, a few dozen at a time, and the
//! hub's memory before, at its peak and once they have gone.
//!
//! `scripts/bench-hostile.sh` builds and runs it; `--smoke` is the small run of the test
//! command.

use std::net::{Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use clap::Parser;
use futures_util::stream::SplitSink;
use futures_util::{SinkExt, StreamExt};
use hdrhistogram::Histogram;
use huddle_bench::hub_process::{
    frame, nanos, next_json, session_reaches, BenchStore, PreparedHub, PASSWORD,
};
use huddle_bench::{
    budget, cpu_seconds, latency_histogram, median, percentiles_ms, tree_pss_kib, Table,
};
use huddle_protocol::{request, DirectoryFilter, Event, Pushed, ServerFrame, PROTOCOL_VERSION};
use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};
use tokio::sync::{mpsc, Semaphore};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::WebSocketStream;

#[derive(Parser)]
#[command(name = "huddle-hostile", about = "The hub against hostile clients")]
struct Cli {
    #[command(subcommand)]
    command: Option<Sub>,
    /// Ordinary agents (an even number: they pair up).
    #[arg(long, default_value_t = 1_000)]
    agents: usize,
    /// Messages per second among the ordinary agents.
    #[arg(long, default_value_t = 500)]
    rate: u64,
    /// Seconds of each measured run.
    #[arg(long, default_value_t = 15)]
    seconds: u64,
    /// Rounds of a run alone then a run under attack; latencies are their medians.
    #[arg(long, default_value_t = 5)]
    rounds: usize,
    /// Sockets the attacker holds without signing in.
    #[arg(long, default_value_t = 2_000)]
    idle_sockets: usize,
    /// Connections guessing one agent's password.
    #[arg(long, default_value_t = 300)]
    guessers: usize,
    /// Password sign-ins under way at once at the shift change.
    #[arg(long, default_value_t = 50)]
    shift_at_once: usize,
    /// The huddle-hub binary [default: the one beside this binary].
    #[arg(long)]
    hub_bin: Option<PathBuf>,
    /// A few agents and short runs: checks that the benchmark runs, measures nothing.
    #[arg(long)]
    smoke: bool,
}

#[derive(clap::Subcommand)]
enum Sub {
    /// The attacker, as a process of its own (the benchmark runs this itself).
    Attack(AttackArgs),
}

#[derive(clap::Args)]
struct AttackArgs {
    #[arg(long)]
    hub: SocketAddr,
    #[arg(long)]
    seconds: u64,
    #[arg(long)]
    idle_sockets: usize,
    #[arg(long)]
    guessers: usize,
    /// The login whose password is guessed.
    #[arg(long)]
    login: String,
    /// The flooding agent: its place among the prepared agents, id and session token.
    #[arg(long)]
    flood_index: usize,
    #[arg(long)]
    flood_id: i64,
    #[arg(long)]
    flood_token: String,
}

/// What the attacker did, as the attacking process reports it.
#[derive(serde::Serialize, serde::Deserialize, Default, Clone, Copy)]
struct AttackCounts {
    idle_opened: u64,
    idle_closed: u64,
    idle_held: u64,
    refused: u64,
    guesses: u64,
    wrong_password: u64,
    rate_limited: u64,
    busy: u64,
    flood_taken: u64,
    flood_refused: u64,
}

impl AttackCounts {
    /// Both rounds' counts together (of sockets held at the end: the most).
    fn and(self, o: Self) -> Self {
        Self {
            idle_opened: self.idle_opened + o.idle_opened,
            idle_closed: self.idle_closed + o.idle_closed,
            idle_held: self.idle_held.max(o.idle_held),
            refused: self.refused + o.refused,
            guesses: self.guesses + o.guesses,
            wrong_password: self.wrong_password + o.wrong_password,
            rate_limited: self.rate_limited + o.rate_limited,
            busy: self.busy + o.busy,
            flood_taken: self.flood_taken + o.flood_taken,
            flood_refused: self.flood_refused + o.flood_refused,
        }
    }
}

/// Ordinary agents connect from these addresses (127.0.0.2…), a hundred or so on each, as
/// agents behind a few routers do; the attacker from 127.0.1.1….
const AGENT_SOURCES: u8 = 10;
const ATTACK_SOURCES: u8 = 10;

fn agent_source(i: usize) -> Ipv4Addr {
    Ipv4Addr::new(127, 0, 0, 2 + (i % usize::from(AGENT_SOURCES)) as u8)
}

fn attack_source(i: usize) -> Ipv4Addr {
    Ipv4Addr::new(127, 0, 1, 1 + (i % usize::from(ATTACK_SOURCES)) as u8)
}

static REQ: AtomicU64 = AtomicU64::new(10);

fn next_req() -> u64 {
    REQ.fetch_add(1, Ordering::Relaxed)
}

fn main() -> anyhow::Result<()> {
    let mut cli = Cli::parse();
    if cli.smoke {
        cli.agents = 20;
        cli.rate = 50;
        cli.seconds = 1;
        cli.rounds = 1;
        cli.idle_sockets = 20;
        cli.guessers = 4;
        cli.shift_at_once = 4;
    }
    anyhow::ensure!(
        cli.agents >= 2 && cli.agents % 2 == 0,
        "--agents must be an even number of at least 2"
    );
    anyhow::ensure!(cli.rounds >= 1, "--rounds must be at least 1");
    let runtime = tokio::runtime::Runtime::new()?;
    match &cli.command {
        Some(Sub::Attack(args)) => runtime.block_on(attack_process(args)),
        None => runtime.block_on(run(&cli)),
    }
}

/// The hub's memory (PSS), in MiB.
fn pss_mib(hub: &PreparedHub) -> f64 {
    tree_pss_kib(hub.process.pid()).unwrap_or(0) as f64 / 1024.0
}

/// Samples the hub's memory until stopped; returns the highest, in MiB.
fn watch_memory(hub: &PreparedHub, stop: Arc<AtomicBool>) -> tokio::task::JoinHandle<f64> {
    let pid = hub.process.pid();
    tokio::spawn(async move {
        let mut peak = 0.0_f64;
        while !stop.load(Ordering::Relaxed) {
            peak = peak.max(tree_pss_kib(pid).unwrap_or(0) as f64 / 1024.0);
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        peak
    })
}

async fn tcp_from(source: Ipv4Addr, addr: SocketAddr) -> anyhow::Result<TcpStream> {
    let socket = TcpSocket::new_v4()?;
    socket.bind(SocketAddr::from((source, 0)))?;
    let tcp = socket.connect(addr).await?;
    tcp.set_nodelay(true)?;
    Ok(tcp)
}

type Ws = WebSocketStream<TcpStream>;

async fn websocket(source: Ipv4Addr, addr: SocketAddr) -> anyhow::Result<Ws> {
    let tcp = tcp_from(source, addr).await?;
    let url = format!("ws://{addr}{}", huddle_protocol::WS_PATH);
    Ok(tokio_tungstenite::client_async(url, tcp).await?.0)
}

/// Says hello and waits for the welcome.
async fn hello(ws: &mut Ws) -> anyhow::Result<()> {
    ws.send(frame(
        1,
        request::Hello {
            protocol: PROTOCOL_VERSION,
            client: "huddle-hostile".into(),
        },
    ))
    .await?;
    loop {
        match ws.next().await {
            Some(Ok(Message::Text(t))) => {
                let v: Value = serde_json::from_str(t.as_str())?;
                anyhow::ensure!(v["type"] == "welcome", "hello: {v}");
                return Ok(());
            }
            Some(Ok(_)) => {}
            Some(Err(e)) => bail!("hello failed: {e}"),
            None => bail!("closed before the welcome"),
        }
    }
}

/// An ordinary agent, signed in by token, whose reader records the latency of the messages
/// it receives while a run is measured.
struct Agent {
    index: usize,
    id: i64,
    sink: tokio::sync::Mutex<SplitSink<Ws, Message>>,
    control: tokio::sync::Mutex<mpsc::UnboundedReceiver<Value>>,
}

/// Where the readers put what they measure.
struct Readers {
    /// Latencies of the run under way, if one is.
    run: std::sync::Mutex<Option<Histogram<u64>>>,
    /// Ordinary agents whose connection ended.
    dropped: AtomicUsize,
}

/// `measured`: the latency of what this agent receives counts (not for the flooding agent's
/// partner).
async fn agent(
    index: usize,
    token: &(i64, String),
    addr: SocketAddr,
    readers: Arc<Readers>,
    measured: bool,
) -> anyhow::Result<Agent> {
    let mut ws = websocket(agent_source(index), addr).await?;
    hello(&mut ws).await?;
    ws.send(frame(
        2,
        request::Resume {
            token: token.1.clone(),
            last_seq: 0,
            history: None,
        },
    ))
    .await?;
    let (sink, mut stream) = ws.split();
    loop {
        let v = next_json(&mut stream).await?;
        if v["re"] == 2 {
            anyhow::ensure!(v["type"] == "resumed", "resume: {v}");
            break;
        }
    }
    let (control_tx, control) = mpsc::unbounded_channel();
    let me = token.0;
    tokio::spawn(async move {
        while let Some(Ok(message)) = stream.next().await {
            let Message::Text(text) = message else {
                continue;
            };
            match ServerFrame::decode(text.as_str()) {
                Ok(ServerFrame::Pushed(Pushed::Event {
                    event: Event::Message { message },
                    ..
                })) if message.from != me && measured => {
                    let sent = message.text.strip_prefix("t=").and_then(|t| t.parse().ok());
                    let mut run = readers.run.lock().unwrap_or_else(|p| p.into_inner());
                    if let (Some(h), Some(sent)) = (run.as_mut(), sent) {
                        let micros = nanos().saturating_sub(sent) / 1000;
                        let _ = h.record(micros.max(1));
                    }
                }
                _ => {
                    if let Ok(v) = serde_json::from_str::<Value>(text.as_str()) {
                        let _ = control_tx.send(v);
                    }
                }
            }
        }
        readers.dropped.fetch_add(1, Ordering::SeqCst);
    });
    Ok(Agent {
        index,
        id: me,
        sink: tokio::sync::Mutex::new(sink),
        control: tokio::sync::Mutex::new(control),
    })
}

fn session_of(a: &Agent) -> String {
    format!("hostile-{}", a.index - a.index % 2)
}

async fn await_session(c: &Agent, session_id: &str, state: &str) -> anyhow::Result<()> {
    session_reaches(&c.control, session_id, state).await
}

/// `a` invites `b`, `b` accepts, both see the session connected.
async fn pair(a: &Agent, b: &Agent) -> anyhow::Result<()> {
    let session_id = session_of(a);
    let invite = request::Invite {
        session_id: session_id.clone(),
        target: b.id,
        first_message: None,
        context: None,
    };
    a.sink.lock().await.send(frame(next_req(), invite)).await?;
    await_session(b, &session_id, "inviting").await?;
    let accept = request::Accept {
        session_id: session_id.clone(),
    };
    b.sink.lock().await.send(frame(next_req(), accept)).await?;
    await_session(a, &session_id, "connected").await
}

static MESSAGE: AtomicU64 = AtomicU64::new(0);

async fn send(from: &Agent) -> anyhow::Result<()> {
    let request = request::Send {
        session_id: session_of(from),
        message_id: format!("m{}", MESSAGE.fetch_add(1, Ordering::Relaxed)),
        text: format!("t={}", nanos()),
    };
    from.sink
        .lock()
        .await
        .send(frame(next_req(), request))
        .await?;
    Ok(())
}

/// `rate` messages a second for `seconds`, each pair's first agent to its second in turn;
/// returns their latencies.
async fn measured_run(
    cli: &Cli,
    agents: &[Arc<Agent>],
    readers: &Readers,
) -> anyhow::Result<Histogram<u64>> {
    *readers.run.lock().unwrap_or_else(|p| p.into_inner()) = Some(latency_histogram());
    let pairs = agents.len() / 2;
    let t = Instant::now();
    let length = Duration::from_secs(cli.seconds);
    let mut tick = tokio::time::interval(Duration::from_millis(2));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    let (mut sent, mut next) = (0u64, 0usize);
    while t.elapsed() < length {
        tick.tick().await;
        let due = (t.elapsed().as_secs_f64() * cli.rate as f64) as u64;
        while sent < due {
            send(&agents[2 * (next % pairs)]).await?;
            next += 1;
            sent += 1;
        }
    }
    // The last ones arrive.
    tokio::time::sleep(Duration::from_millis(500)).await;
    readers
        .run
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .take()
        .context("the run's histogram is gone")
}

/// What the attacker did, counted.
#[derive(Default)]
struct Attack {
    stop: AtomicBool,
    /// Sockets that never signed in: opened, closed by the hub, and held now.
    idle_opened: AtomicU64,
    idle_closed: AtomicU64,
    idle_held: AtomicU64,
    /// Connections the hub refused or closed at once (no place for them).
    refused: AtomicU64,
    /// Password guesses, and how they were answered.
    guesses: AtomicU64,
    wrong_password: AtomicU64,
    rate_limited: AtomicU64,
    busy: AtomicU64,
    /// The flooding agent's messages and searches: taken, and refused for their rate.
    flood_taken: AtomicU64,
    flood_refused: AtomicU64,
}

impl Attack {
    fn on(&self) -> bool {
        !self.stop.load(Ordering::Relaxed)
    }
}

/// Holds one socket that never signs in, again and again: half an HTTP request head, or a
/// WebSocket that says nothing.
async fn idle_socket(i: usize, addr: SocketAddr, attack: Arc<Attack>) {
    while attack.on() {
        let opened = Instant::now();
        let held = async {
            if i.is_multiple_of(2) {
                let mut tcp = tcp_from(attack_source(i), addr).await?;
                tcp.write_all(b"GET /v1/ws HTTP/1.1\r\nHost: hub\r\n")
                    .await?;
                attack.idle_opened.fetch_add(1, Ordering::Relaxed);
                attack.idle_held.fetch_add(1, Ordering::Relaxed);
                let mut buf = [0u8; 256];
                while matches!(tcp.read(&mut buf).await, Ok(n) if n > 0) {}
            } else {
                let mut ws = websocket(attack_source(i), addr).await?;
                attack.idle_opened.fetch_add(1, Ordering::Relaxed);
                attack.idle_held.fetch_add(1, Ordering::Relaxed);
                while let Some(Ok(_)) = ws.next().await {}
            }
            attack.idle_held.fetch_sub(1, Ordering::Relaxed);
            anyhow::Ok(())
        };
        let stopped = async {
            while attack.on() {
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        };
        let ended = tokio::select! {
            ended = held => ended,
            () = stopped => return,
        };
        if ended.is_err() || opened.elapsed() < Duration::from_millis(500) {
            // No place, or closed at once: the attacker tries again a little later.
            attack.refused.fetch_add(1, Ordering::Relaxed);
            tokio::time::sleep(Duration::from_millis(200)).await;
        } else {
            attack.idle_closed.fetch_add(1, Ordering::Relaxed);
        }
    }
}

/// Guesses `login`'s password over and over, reconnecting when the hub closes the socket.
async fn guesser(i: usize, addr: SocketAddr, login: String, attack: Arc<Attack>) {
    let mut n = 0u64;
    while attack.on() {
        let guessing = async {
            let mut ws = websocket(attack_source(i), addr).await?;
            hello(&mut ws).await?;
            while attack.on() {
                n += 1;
                let guess = request::Login {
                    login: login.clone(),
                    password: format!("guess-{i}-{n}"),
                    last_seq: None,
                    history: None,
                };
                ws.send(frame(next_req(), guess)).await?;
                attack.guesses.fetch_add(1, Ordering::Relaxed);
                let answer = loop {
                    match ws.next().await {
                        Some(Ok(Message::Text(t))) => {
                            break serde_json::from_str::<Value>(t.as_str())?
                        }
                        Some(Ok(_)) => {}
                        _ => bail!("closed"),
                    }
                };
                let counter = match answer["code"].as_str() {
                    Some("wrong_password") => &attack.wrong_password,
                    Some("rate_limited") => &attack.rate_limited,
                    Some("busy") => &attack.busy,
                    _ => bail!("unexpected answer to a guess: {answer}"),
                };
                counter.fetch_add(1, Ordering::Relaxed);
            }
            anyhow::Ok(())
        };
        if guessing.await.is_err() {
            attack.refused.fetch_add(1, Ordering::Relaxed);
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

/// A signed-in agent that sends messages and searches as fast as the hub takes them.
async fn flooder(flood: Arc<Agent>, attack: Arc<Attack>) -> anyhow::Result<()> {
    let counting = flood.clone();
    let counter = attack.clone();
    let answers = tokio::spawn(async move {
        let mut control = counting.control.lock().await;
        while let Some(v) = control.recv().await {
            match v["code"].as_str() {
                Some("rate_limited") => counter.flood_refused.fetch_add(1, Ordering::Relaxed),
                _ if v["re"].is_u64() => counter.flood_taken.fetch_add(1, Ordering::Relaxed),
                _ => 0,
            };
        }
    });
    let mut k = 0u64;
    while attack.on() {
        k += 1;
        if k.is_multiple_of(4) {
            let search = request::Search {
                query: format!("load{}", k % 100),
                filter: DirectoryFilter::All,
                limit: None,
            };
            flood
                .sink
                .lock()
                .await
                .send(frame(next_req(), search))
                .await?;
        } else {
            send(&flood).await?;
        }
        if k.is_multiple_of(64) {
            tokio::task::yield_now().await;
        }
    }
    answers.abort();
    Ok(())
}

/// Runs the attack for its seconds, then prints what it did as one JSON line.
async fn attack_process(args: &AttackArgs) -> anyhow::Result<()> {
    // The clock starts now.
    nanos();
    let attack = Arc::new(Attack::default());
    let mut attackers = Vec::new();
    for i in 0..args.idle_sockets {
        attackers.push(tokio::spawn(idle_socket(i, args.hub, attack.clone())));
    }
    for i in 0..args.guessers {
        attackers.push(tokio::spawn(guesser(
            i,
            args.hub,
            args.login.clone(),
            attack.clone(),
        )));
    }
    let readers = Arc::new(Readers {
        run: std::sync::Mutex::new(None),
        dropped: AtomicUsize::new(0),
    });
    let token = (args.flood_id, args.flood_token.clone());
    let flood = Arc::new(agent(args.flood_index, &token, args.hub, readers, false).await?);
    let flooding = tokio::spawn(flooder(flood, attack.clone()));
    tokio::time::sleep(Duration::from_secs(args.seconds)).await;
    let idle_held = attack.idle_held.load(Ordering::Relaxed);
    attack.stop.store(true, Ordering::Relaxed);
    for a in attackers {
        let _ = a.await;
    }
    // Its socket is full of frames the hub reads at its budget's pace: it may stay blocked
    // for hours, as a flooding client should.
    flooding.abort();
    let count = |c: &AtomicU64| c.load(Ordering::Relaxed);
    let counts = AttackCounts {
        idle_opened: count(&attack.idle_opened),
        idle_closed: count(&attack.idle_closed),
        idle_held,
        refused: count(&attack.refused),
        guesses: count(&attack.guesses),
        wrong_password: count(&attack.wrong_password),
        rate_limited: count(&attack.rate_limited),
        busy: count(&attack.busy),
        flood_taken: count(&attack.flood_taken),
        flood_refused: count(&attack.flood_refused),
    };
    println!("{}", serde_json::to_string(&counts)?);
    Ok(())
}

/// Signs an agent in with the password, as at the start of a shift, asking again while the
/// hub answers `busy`. Returns the open connection.
async fn password_sign_in(
    source: Ipv4Addr,
    addr: SocketAddr,
    login: &str,
) -> anyhow::Result<(Ws, u32)> {
    let mut ws = websocket(source, addr).await?;
    hello(&mut ws).await?;
    let mut busy = 0;
    loop {
        let login_request = request::Login {
            login: login.to_string(),
            password: PASSWORD.to_string(),
            last_seq: None,
            history: None,
        };
        ws.send(frame(next_req(), login_request)).await?;
        let answer = loop {
            match ws.next().await {
                Some(Ok(Message::Text(t))) => {
                    let v: Value = serde_json::from_str(t.as_str())?;
                    if v["re"].is_u64() {
                        break v;
                    }
                }
                Some(Ok(_)) => {}
                _ => bail!("closed while signing in"),
            }
        };
        match (answer["type"].as_str(), answer["code"].as_str()) {
            (Some("logged_in"), _) => return Ok((ws, busy)),
            (_, Some("busy")) => {
                busy += 1;
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
            _ => bail!("sign-in of {login} refused: {answer}"),
        }
    }
}

/// Figures of the shift change.
struct Shift {
    seconds: f64,
    busy: u32,
    before_mib: f64,
    peak_mib: f64,
    after_mib: f64,
}

async fn shift_change(cli: &Cli, hub: &PreparedHub, agents: usize) -> anyhow::Result<Shift> {
    let before_mib = pss_mib(hub);
    let stop = Arc::new(AtomicBool::new(false));
    let peak = watch_memory(hub, stop.clone());
    let gate = Arc::new(Semaphore::new(cli.shift_at_once));
    let t = Instant::now();
    let mut tasks = Vec::with_capacity(agents);
    for i in 0..agents {
        let (gate, addr) = (gate.clone(), hub.addr);
        tasks.push(tokio::spawn(async move {
            let _permit = gate.acquire().await?;
            password_sign_in(agent_source(i), addr, &format!("load{i:05}")).await
        }));
    }
    let mut open = Vec::with_capacity(agents);
    let mut busy = 0;
    for task in tasks {
        let (ws, b) = task.await??;
        busy += b;
        open.push(ws);
    }
    let seconds = t.elapsed().as_secs_f64();
    for mut ws in open {
        let _ = ws.close(None).await;
    }
    // The hub lets go of what the sign-ins took.
    tokio::time::sleep(Duration::from_secs(5)).await;
    stop.store(true, Ordering::Relaxed);
    let peak_mib = peak.await?;
    Ok(Shift {
        seconds,
        busy,
        before_mib,
        peak_mib: peak_mib.max(before_mib),
        after_mib: pss_mib(hub),
    })
}

async fn run(cli: &Cli) -> anyhow::Result<()> {
    // The clock starts now.
    nanos();
    println!(
        "huddle-hostile: {} agents in {} sessions, {} messages/s for {} s alone, then against {} idle sockets, {} password guessers and one flooding agent; then a shift change {} at a time",
        cli.agents,
        cli.agents / 2,
        cli.rate,
        cli.seconds,
        cli.idle_sockets,
        cli.guessers,
        cli.shift_at_once
    );
    // The ordinary agents, then the flooding agent and its partner.
    // With its default limits: the defences are what is measured.
    let hub = PreparedHub::start(
        cli.hub_bin.as_deref(),
        cli.agents + 2,
        &[],
        BenchStore::Sqlite,
        1,
    )
    .await?;
    println!("\n== hub at {}", hub.addr);
    let readers = Arc::new(Readers {
        run: std::sync::Mutex::new(None),
        dropped: AtomicUsize::new(0),
    });
    let gate = Arc::new(Semaphore::new(64));
    let mut tasks = Vec::new();
    for i in 0..cli.agents + 2 {
        let (gate, token, addr, readers) = (
            gate.clone(),
            hub.tokens[i].clone(),
            hub.addr,
            readers.clone(),
        );
        let measured = i < cli.agents;
        tasks.push(tokio::spawn(async move {
            let _permit = gate.acquire().await?;
            agent(i, &token, addr, readers, measured).await
        }));
    }
    let mut all = Vec::with_capacity(tasks.len());
    for task in tasks {
        all.push(Arc::new(task.await??));
    }
    for pair_of in all.chunks(2) {
        pair(&pair_of[0], &pair_of[1]).await?;
    }
    // The last two: the flooding agent and its partner, who stays connected.
    let partner = all.pop().context("no flood partner")?;
    let flood = all.pop().context("no flooding agent")?;
    let agents = all;
    println!("   {} agents connected and paired", agents.len());
    tokio::time::sleep(Duration::from_secs(2)).await;
    let idle_mib = pss_mib(&hub);

    let (flood_id, flood_token) = hub.tokens[cli.agents].clone();
    drop(flood);
    let mut rounds = Vec::with_capacity(cli.rounds);
    for n in 1..=cli.rounds {
        let round = round(cli, &hub, &agents, &readers, (flood_id, &flood_token)).await?;
        let p99 = |h: &Histogram<u64>| percentiles_ms(h)[1];
        println!(
            "   round {n}: {} messages relayed alone (p99 {:.2} ms), {} under attack (p99 {:.2} ms)",
            round.alone.len(),
            p99(&round.alone),
            round.attacked.len(),
            p99(&round.attacked)
        );
        rounds.push(round);
    }
    tokio::time::sleep(Duration::from_secs(3)).await;
    let after_attack_mib = pss_mib(&hub);
    let dropped = readers.dropped.load(Ordering::SeqCst);
    for a in &agents {
        let _ = a.sink.lock().await.close().await;
    }
    drop(agents);
    drop(partner);

    // The shift change.
    let shift = shift_change(cli, &hub, cli.agents).await?;

    report(
        cli,
        Report {
            rounds: &rounds,
            idle_mib,
            after_attack_mib,
            dropped,
            shift: &shift,
        },
    );
    Ok(())
}

/// One round: the ordinary agents' latencies alone, then under attack.
struct Round {
    alone: Histogram<u64>,
    attacked: Histogram<u64>,
    /// The hub's highest memory in each run, MiB.
    alone_peak: f64,
    attacked_peak: f64,
    /// The hub's CPU in each run, as a share of one core.
    alone_cpu: f64,
    attacked_cpu: f64,
    /// How long the guessed agent's own sign-in with the right password took, ms.
    victim_ms: f64,
    attack: AttackCounts,
}

/// A run alone, then one while the attacker runs.
async fn round(
    cli: &Cli,
    hub: &PreparedHub,
    agents: &[Arc<Agent>],
    readers: &Readers,
    flood: (i64, &str),
) -> anyhow::Result<Round> {
    let stop = Arc::new(AtomicBool::new(false));
    let peak = watch_memory(hub, stop.clone());
    let cpu = Cpu::start(hub)?;
    let alone = measured_run(cli, agents, readers).await?;
    let alone_cpu = cpu.share()?;
    stop.store(true, Ordering::Relaxed);
    let alone_peak = peak.await?;

    // The attacker is a process of its own at the lowest CPU priority: it stands in for
    // machines elsewhere on the network, whose CPU is not the hub's.
    let attack_seconds = cli.seconds + 4;
    let attacker = Command::new("nice")
        .args(["-n", "19"])
        .arg(std::env::current_exe()?)
        .arg("attack")
        .args(["--hub", &hub.addr.to_string()])
        .args(["--seconds", &attack_seconds.to_string()])
        .args(["--idle-sockets", &cli.idle_sockets.to_string()])
        .args(["--guessers", &cli.guessers.to_string()])
        .args(["--login", "load00000"])
        .args(["--flood-index", &cli.agents.to_string()])
        .args(["--flood-id", &flood.0.to_string()])
        .args(["--flood-token", flood.1])
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .context("cannot start the attacker")?;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let stop = Arc::new(AtomicBool::new(false));
    let peak = watch_memory(hub, stop.clone());
    let victim = Instant::now();
    let (victim_ws, _) = password_sign_in(agent_source(0), hub.addr, "load00000").await?;
    let victim_ms = victim.elapsed().as_secs_f64() * 1000.0;
    drop(victim_ws);
    let cpu = Cpu::start(hub)?;
    let attacked = measured_run(cli, agents, readers).await?;
    let attacked_cpu = cpu.share()?;
    stop.store(true, Ordering::Relaxed);
    let attacked_peak = peak.await?;
    let output = tokio::task::spawn_blocking(move || attacker.wait_with_output()).await??;
    anyhow::ensure!(output.status.success(), "the attacker failed");
    let attack: AttackCounts = String::from_utf8_lossy(&output.stdout)
        .lines()
        .last()
        .map(serde_json::from_str)
        .context("the attacker said nothing")??;
    Ok(Round {
        alone,
        attacked,
        alone_peak,
        attacked_peak,
        alone_cpu,
        attacked_cpu,
        victim_ms,
        attack,
    })
}

/// The hub's CPU over a run.
struct Cpu {
    pid: u32,
    since: Instant,
    used: f64,
}

impl Cpu {
    fn start(hub: &PreparedHub) -> anyhow::Result<Self> {
        let pid = hub.process.pid();
        Ok(Self {
            pid,
            since: Instant::now(),
            used: cpu_seconds(pid)?,
        })
    }

    /// The CPU used since the start, as a share of one core.
    fn share(&self) -> anyhow::Result<f64> {
        Ok((cpu_seconds(self.pid)? - self.used) / self.since.elapsed().as_secs_f64())
    }
}

struct Report<'a> {
    rounds: &'a [Round],
    idle_mib: f64,
    after_attack_mib: f64,
    dropped: usize,
    shift: &'a Shift,
}

fn report(cli: &Cli, r: Report<'_>) {
    let mut t = Table::default();
    let figure = |i: usize, of: fn(&Round) -> &Histogram<u64>| {
        let each: Vec<f64> = r.rounds.iter().map(|n| percentiles_ms(of(n))[i]).collect();
        // The highest is the highest of any round; the others are the rounds' median.
        if i == 3 {
            each.iter().copied().fold(0.0, f64::max)
        } else {
            median(&each)
        }
    };
    let mut x = [0.0; 4];
    let mut a = [0.0; 4];
    for (i, name) in ["p50", "p99", "p99.9", "max"].iter().enumerate() {
        x[i] = figure(i, |n| &n.attacked);
        a[i] = figure(i, |n| &n.alone);
        t.row(
            &format!("relay latency at {}/s, {name}", cli.rate),
            x[i],
            Some(a[i]),
            "ms",
        );
    }
    let relayed = |of: fn(&Round) -> &Histogram<u64>| {
        r.rounds.iter().map(|n| of(n).len()).sum::<u64>() as f64
    };
    t.row(
        "messages relayed",
        relayed(|n| &n.attacked),
        Some(relayed(|n| &n.alone)),
        "",
    );
    let cpu = |of: fn(&Round) -> f64| median(&r.rounds.iter().map(of).collect::<Vec<_>>());
    t.row(
        "hub CPU, % of a core",
        cpu(|n| n.attacked_cpu) * 100.0,
        Some(cpu(|n| n.alone_cpu) * 100.0),
        "%",
    );
    let highest = |of: fn(&Round) -> f64| r.rounds.iter().map(of).fold(0.0, f64::max);
    t.row(
        "hub memory (PSS), highest",
        highest(|n| n.attacked_peak),
        Some(highest(|n| n.alone_peak)),
        "MiB",
    );
    println!(
        "\n{} round(s) of {} s alone and {} s under attack; latencies are the rounds' medians",
        r.rounds.len(),
        cli.seconds,
        cli.seconds
    );
    println!("{}", t.render("under attack", "alone"));
    let c = r
        .rounds
        .iter()
        .fold(AttackCounts::default(), |all, n| all.and(n.attack));
    let victim_ms = median(&r.rounds.iter().map(|n| n.victim_ms).collect::<Vec<_>>());
    println!(
        "hub memory: {:.1} MiB with the agents connected, {:.1} MiB after the attack",
        r.idle_mib, r.after_attack_mib
    );
    println!(
        "the attacks: {} sockets that never signed in opened, {} closed by the hub after their deadline, {} held at the end, {} connections refused or closed at once",
        c.idle_opened, c.idle_closed, c.idle_held, c.refused
    );
    println!(
        "  {} password guesses: {} wrong_password, {} rate_limited, {} busy",
        c.guesses, c.wrong_password, c.rate_limited, c.busy
    );
    println!(
        "  the flooding agent: {} requests taken, {} refused as too fast",
        c.flood_taken, c.flood_refused
    );
    println!(
        "  the guessed agent's own sign-in with the right password took {victim_ms:.0} ms (median of the rounds)"
    );
    println!("ordinary agents disconnected: {}", r.dropped);
    let s = r.shift;
    println!(
        "shift change: {} agents signed in with passwords, {} at a time, in {:.1} s ({:.0}/s; {} told busy and asked again); hub memory {:.1} MiB before, {:.1} MiB at the peak, {:.1} MiB once they had gone",
        cli.agents,
        cli.shift_at_once,
        s.seconds,
        cli.agents as f64 / s.seconds,
        s.busy,
        s.before_mib,
        s.peak_mib,
        s.after_mib
    );
    if cli.smoke {
        println!("smoke run: the figures above check that the benchmark works, nothing more");
        return;
    }
    println!("budgets (2 cores):");
    println!(
        "{}",
        budget(
            "relay p99 under attack as a multiple of p99 alone",
            x[1] / a[1],
            2.0,
            "×"
        )
    );
    println!(
        "{}",
        budget("ordinary agents disconnected", r.dropped as f64, 0.0, "")
    );
    println!(
        "{}",
        budget(
            "hub memory under attack above its memory alone",
            highest(|n| n.attacked_peak) - highest(|n| n.alone_peak),
            256.0,
            "MiB"
        )
    );
    let taken = (s.peak_mib - s.before_mib).max(1.0);
    println!(
        "{}",
        budget(
            "shift change memory kept once the agents have gone, share of what it took",
            (s.after_mib - s.before_mib).max(0.0) / taken * 100.0,
            20.0,
            "%"
        )
    );
}
