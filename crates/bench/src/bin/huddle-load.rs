//! The hub under load. N agents connect over loopback, spread over several 127.0.0.x source
//! addresses, resume with their session tokens, and pair up in IM sessions; then messages flow
//! at a set rate, then as fast as the senders can push them. It reports connection time, the
//! hub's memory per connected agent, relay latency (HDR histogram: p50, p99, p99.9) and
//! delivered messages per second; and, in the same run, the same generator against a bare
//! tokio-tungstenite relay (the physical floor), with the hub's figures as ratios of the
//! floor's.
//!
//! `scripts/bench-load.sh` builds and runs it; `--smoke` is the few-agent run of the test
//! command.

use std::collections::HashMap;
use std::io::Write as _;
use std::net::{Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicU64, AtomicU8, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::Context;
use clap::{Parser, Subcommand};
use futures_util::stream::SplitSink;
use futures_util::{SinkExt, StreamExt};
use hdrhistogram::Histogram;
use huddle_bench::hub_process::{
    frame, nanos, next_json, read_address, session_reaches, BenchStore, PreparedHub, Server,
};
use huddle_bench::{
    budget, budget_at_least, latency_histogram, percentiles_ms, tree_pss_kib, trees_cpu_seconds,
    Table,
};
use huddle_protocol::answer::{self, Answer};
use huddle_protocol::{request, Event, Pushed, ServerFrame, PROTOCOL_VERSION};
use serde_json::{json, Value};
use tokio::net::{TcpSocket, TcpStream};
use tokio::sync::{mpsc, Semaphore};
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::WebSocketStream;

#[derive(Parser)]
#[command(
    name = "huddle-load",
    about = "The hub under load, against a bare WebSocket relay"
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Sub>,
    /// Agents connected (an even number: they pair up).
    #[arg(long, default_value_t = 10_000)]
    agents: usize,
    /// Messages per second in the paced phase.
    #[arg(long, default_value_t = 1_000)]
    rate: u64,
    /// Seconds of each measured phase.
    #[arg(long, default_value_t = 15)]
    seconds: u64,
    /// Pairs whose sender pushes as fast as it can in the saturation phase.
    #[arg(long, default_value_t = 200)]
    saturating_pairs: usize,
    /// Messages each saturating sender keeps unacknowledged.
    #[arg(long, default_value_t = 32)]
    window: usize,
    /// Source addresses (127.0.0.2, 127.0.0.3, …) the connections are spread over.
    #[arg(long, default_value_t = 4)]
    sources: u8,
    /// Connections opened at once.
    #[arg(long, default_value_t = 256)]
    connecting: usize,
    /// The huddle-hub binary [default: the one beside this binary].
    #[arg(long)]
    hub_bin: Option<PathBuf>,
    /// A few agents and short phases: checks that the benchmark runs, measures nothing.
    #[arg(long)]
    smoke: bool,
    /// The stores the hub serves from, each measured in turn against the same floor: its
    /// SQLite file, or a PostgreSQL server of its own on this machine (its CPU counts as the
    /// hub's). `--store sqlite,postgres` measures both.
    #[arg(long, value_enum, value_delimiter = ',', default_value = "sqlite")]
    store: Vec<BenchStore>,
    /// Hub nodes on the one PostgreSQL database, for each PostgreSQL run (`--nodes 1,2`
    /// measures both); the agents are spread over them so that each pair's two agents are
    /// on different nodes.
    #[arg(long, value_delimiter = ',', default_value = "1")]
    nodes: Vec<usize>,
}

/// One hub to measure: its store, and on how many nodes.
#[derive(Clone, Copy)]
struct Setup {
    store: BenchStore,
    nodes: usize,
}

impl Setup {
    /// Every setup the command line asks for, in its order.
    fn all(cli: &Cli) -> Vec<Self> {
        cli.store
            .iter()
            .flat_map(|&store| match store {
                BenchStore::Sqlite => vec![Self { store, nodes: 1 }],
                BenchStore::Postgres => cli
                    .nodes
                    .iter()
                    .map(|&nodes| Self { store, nodes })
                    .collect(),
            })
            .collect()
    }

    fn name(self) -> String {
        match (self.store, self.nodes) {
            (BenchStore::Sqlite, _) => "hub".to_string(),
            (BenchStore::Postgres, 1) => "hub on pg".to_string(),
            (BenchStore::Postgres, n) => format!("{n} nodes, pg"),
        }
    }
}

#[derive(Subcommand)]
enum Sub {
    /// Serve the bare relay on an address and print it (the benchmark runs this itself).
    Floor {
        #[arg(long, default_value = "127.0.0.1:0")]
        listen: SocketAddr,
    },
}

/// What the run is doing, as the readers see it.
const SETUP: u8 = 0;
const PACED: u8 = 1;
const SATURATING: u8 = 2;

fn main() -> anyhow::Result<()> {
    let mut cli = Cli::parse();
    if cli.smoke {
        cli.agents = 20;
        cli.rate = 200;
        cli.seconds = 1;
        cli.saturating_pairs = 4;
        cli.window = 8;
        cli.connecting = 8;
    }
    anyhow::ensure!(
        cli.agents >= 2 && cli.agents % 2 == 0,
        "--agents must be an even number of at least 2"
    );
    cli.saturating_pairs = cli.saturating_pairs.min(cli.agents / 2);
    let runtime = tokio::runtime::Runtime::new()?;
    match cli.command {
        Some(Sub::Floor { listen }) => runtime.block_on(floor::serve(listen)),
        None => runtime.block_on(run(&cli)),
    }
}

async fn run(cli: &Cli) -> anyhow::Result<()> {
    // The clock starts now.
    nanos();
    println!(
        "huddle-load: {} agents in {} sessions over {} source addresses; {} messages/s for {} s, then {} senders with {} in flight for {} s",
        cli.agents,
        cli.agents / 2,
        cli.sources,
        cli.rate,
        cli.seconds,
        cli.saturating_pairs,
        cli.window,
        cli.seconds
    );
    let mut hubs = Vec::new();
    for setup in Setup::all(cli) {
        let server = start_hub(cli, setup).await?;
        let figures = measure(
            cli,
            Target::Hub(server.tokens.clone()),
            &server.server_pids(),
            &server.node_pids(),
            &server.addrs(),
        )
        .await;
        drop(server);
        hubs.push((setup, figures?));
    }
    let floor = {
        let server = FloorServer::start()?;
        let figures = measure(
            cli,
            Target::Floor,
            &[server.process.pid()],
            &[server.process.pid()],
            &[server.addr],
        )
        .await;
        drop(server);
        figures?
    };
    for (setup, hub) in &hubs {
        report(cli, *setup, hub, &floor);
    }
    Ok(())
}

/// CPU seconds spent over `messages` delivered, in microseconds each.
fn per_message_us(cpu: f64, messages: u64) -> f64 {
    cpu * 1e6 / messages.max(1) as f64
}

/// What one run against a server measured.
struct Figures {
    connect_seconds: f64,
    connect: Histogram<u64>,
    idle_pss_kib: u64,
    connected_pss_kib: u64,
    paced: Histogram<u64>,
    paced_delivered: u64,
    /// The server's CPU time per delivered message in the paced phase, µs.
    paced_cpu_us: f64,
    saturated: Histogram<u64>,
    saturated_per_second: f64,
    /// The server's CPU time per delivered message at saturation, µs.
    saturated_cpu_us: f64,
}

fn report(cli: &Cli, setup: Setup, hub: &Figures, floor: &Figures) {
    let n = cli.agents as f64;
    let mut t = Table::default();
    t.row(
        &format!("connect {} agents", cli.agents),
        hub.connect_seconds,
        Some(floor.connect_seconds),
        "s",
    );
    let [c50, c99, ..] = percentiles_ms(&hub.connect);
    let [f50, f99, ..] = percentiles_ms(&floor.connect);
    t.row("one connection, p50", c50, Some(f50), "ms");
    t.row("one connection, p99", c99, Some(f99), "ms");
    let per_agent = |f: &Figures| (f.connected_pss_kib.saturating_sub(f.idle_pss_kib)) as f64 / n;
    t.row(
        "server memory (PSS) idle",
        hub.idle_pss_kib as f64 / 1024.0,
        Some(floor.idle_pss_kib as f64 / 1024.0),
        "MiB",
    );
    t.row(
        "server memory per connected agent",
        per_agent(hub),
        Some(per_agent(floor)),
        "KiB",
    );
    let hp = percentiles_ms(&hub.paced);
    let fp = percentiles_ms(&floor.paced);
    for (i, name) in ["p50", "p99", "p99.9", "max"].iter().enumerate() {
        t.row(
            &format!("relay latency at {}/s, {name}", cli.rate),
            hp[i],
            Some(fp[i]),
            "ms",
        );
    }
    t.row(
        &format!("delivered at {}/s", cli.rate),
        hub.paced_delivered as f64 / cli.seconds as f64,
        Some(floor.paced_delivered as f64 / cli.seconds as f64),
        "msg/s",
    );
    t.row(
        &format!("server CPU per message at {}/s", cli.rate),
        hub.paced_cpu_us,
        Some(floor.paced_cpu_us),
        "µs",
    );
    t.row(
        "delivered at saturation",
        hub.saturated_per_second,
        Some(floor.saturated_per_second),
        "msg/s",
    );
    t.row(
        "server CPU per message at saturation",
        hub.saturated_cpu_us,
        Some(floor.saturated_cpu_us),
        "µs",
    );
    let hs = percentiles_ms(&hub.saturated);
    let fs = percentiles_ms(&floor.saturated);
    t.row("relay latency at saturation, p50", hs[0], Some(fs[0]), "ms");
    t.row("relay latency at saturation, p99", hs[1], Some(fs[1]), "ms");
    println!("\n{}", t.render(&setup.name(), "floor"));
    if cli.smoke {
        println!("smoke run: the figures above check that the benchmark works, nothing more");
        return;
    }
    println!("budgets (2 cores), {}:", setup.name());
    println!(
        "{}",
        budget(
            "hub memory per connected agent",
            per_agent(hub),
            10.0,
            "KiB"
        )
    );
    println!(
        "{}",
        budget(&format!("relay p99 at {}/s", cli.rate), hp[1], 5.0, "ms")
    );
    // The peer to beat: ejabberd 23.01 (Debian's, storing nothing) spent about this much
    // on this machine with 1,000 clients at 500 messages/s.
    println!(
        "{}",
        budget(
            &format!("hub CPU per message at {}/s (ejabberd's)", cli.rate),
            hub.paced_cpu_us,
            600.0,
            "µs"
        )
    );
    println!(
        "{}",
        budget_at_least(
            "delivered at saturation",
            hub.saturated_per_second,
            50_000.0,
            "msg/s"
        )
    );
    println!(
        "{}",
        budget(
            "relay p50 as a multiple of the floor's",
            hp[0] / fp[0],
            2.0,
            "×"
        )
    );
}

/// The server the generator talks to.
#[derive(Clone)]
enum Target {
    /// The hub, with each agent's session token.
    Hub(Arc<Vec<(i64, String)>>),
    /// The bare relay.
    Floor,
}

/// One connected agent, as the generator holds it.
struct Conn {
    index: usize,
    /// The agent id others address it by.
    id: i64,
    sink: tokio::sync::Mutex<SplitSink<WebSocketStream<TcpStream>, Message>>,
    /// Frames that are neither messages nor acknowledgements, for the set-up steps.
    control: tokio::sync::Mutex<mpsc::UnboundedReceiver<Value>>,
    /// Permits for messages in flight; each acknowledgement gives one back.
    window: Arc<Semaphore>,
}

/// What the readers share: the phase, and where latencies go.
struct Shared {
    phase: AtomicU8,
    latencies: mpsc::UnboundedSender<(u8, u64)>,
}

/// `servers`: the processes that serve (their CPU counts); `nodes`: those whose memory
/// counts; `addrs`: where they listen (agent `i` connects to `addrs[i % addrs.len()]`).
async fn measure(
    cli: &Cli,
    target: Target,
    servers: &[u32],
    nodes: &[u32],
    addrs: &[SocketAddr],
) -> anyhow::Result<Figures> {
    let memory = || {
        nodes
            .iter()
            .map(|pid| tree_pss_kib(*pid))
            .sum::<std::io::Result<u64>>()
    };
    let name = match target {
        Target::Hub(_) => "hub",
        Target::Floor => "floor",
    };
    let listed: Vec<String> = addrs.iter().map(ToString::to_string).collect();
    println!("\n== {name} at {}", listed.join(", "));
    let idle_pss_kib = memory()?;
    let (latency_tx, mut latency_rx) = mpsc::unbounded_channel();
    let shared = Arc::new(Shared {
        phase: AtomicU8::new(SETUP),
        latencies: latency_tx,
    });
    let collector = tokio::spawn(async move {
        let (mut paced, mut saturated) = (latency_histogram(), latency_histogram());
        while let Some((phase, micros)) = latency_rx.recv().await {
            let h = if phase == PACED {
                &mut paced
            } else {
                &mut saturated
            };
            let _ = h.record(micros.max(1));
        }
        (paced, saturated)
    });

    // Connect everyone, a bounded number at a time.
    let started = Instant::now();
    let gate = Arc::new(Semaphore::new(cli.connecting));
    let mut tasks = Vec::with_capacity(cli.agents);
    for index in 0..cli.agents {
        let addr = addrs[index % addrs.len()];
        let (gate, target, shared) = (gate.clone(), target.clone(), shared.clone());
        let source = Ipv4Addr::new(
            127,
            0,
            0,
            2 + (index % usize::from(cli.sources.max(1))) as u8,
        );
        tasks.push(tokio::spawn(async move {
            let _permit = gate.acquire().await?;
            let t = Instant::now();
            let conn = connect(&target, index, source, addr, shared).await?;
            anyhow::Ok((conn, t.elapsed()))
        }));
    }
    let mut conns = Vec::with_capacity(cli.agents);
    let mut connect = latency_histogram();
    for task in tasks {
        let (conn, took) = task.await??;
        let _ = connect.record(took.as_micros() as u64);
        conns.push(Arc::new(conn));
    }
    let connect_seconds = started.elapsed().as_secs_f64();
    println!(
        "   {} agents connected in {connect_seconds:.1} s",
        cli.agents
    );

    // Two by two into IM sessions.
    if let Target::Hub(_) = target {
        let started = Instant::now();
        let gate = Arc::new(Semaphore::new(cli.connecting));
        let mut tasks = Vec::new();
        for pair in conns.chunks(2) {
            let (a, b, gate) = (pair[0].clone(), pair[1].clone(), gate.clone());
            tasks.push(tokio::spawn(async move {
                let _permit = gate.acquire().await?;
                open_session(&a, &b).await
            }));
        }
        for task in tasks {
            task.await??;
        }
        println!(
            "   {} sessions opened in {:.1} s",
            cli.agents / 2,
            started.elapsed().as_secs_f64()
        );
    }
    // Let the server settle before reading its memory.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let connected_pss_kib = memory()?;

    // Paced: `rate` messages a second, spread over every pair in turn.
    shared.phase.store(PACED, Ordering::SeqCst);
    let cpu_before = trees_cpu_seconds(servers)?;
    let paced_sent = paced(cli, &target, &conns).await?;
    // The last messages arrive; then the phase ends.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let paced_delivered = DELIVERED[PACED as usize].swap(0, Ordering::SeqCst);
    let paced_cpu_us = per_message_us(trees_cpu_seconds(servers)? - cpu_before, paced_delivered);
    println!("   paced: {paced_sent} sent, {paced_delivered} delivered");

    // Saturation: the first pairs' senders push with a window of unacknowledged messages.
    shared.phase.store(SATURATING, Ordering::SeqCst);
    let before = DELIVERED[SATURATING as usize].load(Ordering::SeqCst);
    let cpu_before = trees_cpu_seconds(servers)?;
    let t = Instant::now();
    let deadline = t + Duration::from_secs(cli.seconds);
    let mut senders = Vec::new();
    for k in 0..cli.saturating_pairs {
        let (from, to) = (conns[2 * k].clone(), conns[2 * k + 1].clone());
        let target = target.clone();
        senders.push(tokio::spawn(async move {
            while Instant::now() < deadline {
                let permit = from.window.acquire().await?;
                permit.forget();
                send_message(&target, &from, &to).await?;
            }
            anyhow::Ok(())
        }));
    }
    for s in senders {
        s.await??;
    }
    let saturated_count = DELIVERED[SATURATING as usize].load(Ordering::SeqCst) - before;
    let saturated_cpu_us =
        per_message_us(trees_cpu_seconds(servers)? - cpu_before, saturated_count);
    let saturated_per_second = saturated_count as f64 / t.elapsed().as_secs_f64();
    println!(
        "   saturation: {saturated_count} delivered in {:.1} s",
        t.elapsed().as_secs_f64()
    );

    drop(shared);
    for conn in &conns {
        let _ = conn.sink.lock().await.close().await;
    }
    drop(conns);
    let (paced, saturated) = tokio::time::timeout(Duration::from_secs(10), collector)
        .await
        .context("the readers did not finish")??;
    Ok(Figures {
        connect_seconds,
        connect,
        idle_pss_kib,
        connected_pss_kib,
        paced,
        paced_delivered,
        paced_cpu_us,
        saturated,
        saturated_per_second,
        saturated_cpu_us,
    })
}

/// Messages delivered, by phase.
static DELIVERED: [AtomicU64; 3] = [AtomicU64::new(0), AtomicU64::new(0), AtomicU64::new(0)];

/// Request numbers, unique across the run.
static REQ: AtomicU64 = AtomicU64::new(10);

async fn connect(
    target: &Target,
    index: usize,
    source: Ipv4Addr,
    addr: SocketAddr,
    shared: Arc<Shared>,
) -> anyhow::Result<Conn> {
    let socket = TcpSocket::new_v4()?;
    socket
        .bind(SocketAddr::from((source, 0)))
        .with_context(|| format!("cannot bind a socket to {source}"))?;
    let tcp = socket
        .connect(addr)
        .await
        .with_context(|| format!("cannot connect to {addr}"))?;
    tcp.set_nodelay(true)?;
    let path = match target {
        Target::Hub(_) => huddle_protocol::WS_PATH,
        Target::Floor => "/",
    };
    let (ws, _) = tokio_tungstenite::client_async(format!("ws://{addr}{path}"), tcp).await?;
    let (mut sink, mut stream) = ws.split();
    let id = match target {
        Target::Hub(tokens) => {
            let (id, token) = tokens
                .get(index)
                .cloned()
                .context("no token for this agent")?;
            sink.send(frame(
                1,
                request::Hello {
                    protocol: PROTOCOL_VERSION,
                    client: "huddle-load".into(),
                },
            ))
            .await?;
            let welcome = next_json(&mut stream).await?;
            anyhow::ensure!(welcome["type"] == "welcome", "hello: {welcome}");
            sink.send(frame(
                2,
                request::Resume {
                    token,
                    last_seq: 0,
                    history: None,
                },
            ))
            .await?;
            // Replayed events may come before the answer; they are of no interest here.
            loop {
                let v = next_json(&mut stream).await?;
                if v["re"] == 2 {
                    anyhow::ensure!(v["type"] == "resumed", "resume: {v}");
                    break;
                }
            }
            id
        }
        Target::Floor => {
            sink.send(Message::Text(
                json!({"type": "hello", "id": index}).to_string().into(),
            ))
            .await?;
            let welcome = next_json(&mut stream).await?;
            anyhow::ensure!(welcome["type"] == "welcome", "hello: {welcome}");
            index as i64
        }
    };
    let (control_tx, control) = mpsc::unbounded_channel();
    let window = Arc::new(Semaphore::new(0));
    let acks = window.clone();
    tokio::spawn(async move {
        while let Some(Ok(message)) = stream.next().await {
            let Message::Text(text) = message else {
                continue;
            };
            read(text.as_str(), id, &shared, &acks, &control_tx);
        }
    });
    Ok(Conn {
        index,
        id,
        sink: tokio::sync::Mutex::new(sink),
        control: tokio::sync::Mutex::new(control),
        window,
    })
}

/// Sorts what a reader of agent `me` receives: the latency of a message from another agent
/// is recorded (the hub also tells the sender of its own message), an acknowledgement frees a
/// place in the window, and the rest goes to the set-up steps.
fn read(
    text: &str,
    me: i64,
    shared: &Shared,
    acks: &Semaphore,
    control: &mpsc::UnboundedSender<Value>,
) {
    if let Ok(frame) = ServerFrame::decode(text) {
        match frame {
            ServerFrame::Pushed(Pushed::Event {
                event: Event::Message { message },
                ..
            }) => {
                if message.from != me {
                    received(&message.text, shared);
                }
            }
            ServerFrame::Answer {
                answer: Ok(body), ..
            } if body.kind() == answer::Sent::KIND => acks.add_permits(1),
            ServerFrame::Pushed(Pushed::Presence { .. }) => {}
            _ => {
                if let Ok(v) = serde_json::from_str(text) {
                    let _ = control.send(v);
                }
            }
        }
        return;
    }
    let Ok(v) = serde_json::from_str::<Value>(text) else {
        return;
    };
    match v["type"].as_str() {
        Some("message") => received(v["text"].as_str().unwrap_or_default(), shared),
        Some("sent") => acks.add_permits(1),
        _ => {
            let _ = control.send(v);
        }
    }
}

fn received(text: &str, shared: &Shared) {
    let Some(sent) = text.strip_prefix("t=").and_then(|t| t.parse::<u64>().ok()) else {
        return;
    };
    let phase = shared.phase.load(Ordering::Relaxed);
    if phase == SETUP {
        return;
    }
    DELIVERED[phase as usize].fetch_add(1, Ordering::Relaxed);
    let micros = nanos().saturating_sub(sent) / 1000;
    let _ = shared.latencies.send((phase, micros));
}

/// `a` invites `b`, `b` accepts, and both see the session connected.
async fn open_session(a: &Conn, b: &Conn) -> anyhow::Result<()> {
    let session_id = format!("load-{}", a.index);
    a.sink
        .lock()
        .await
        .send(frame(
            REQ.fetch_add(1, Ordering::Relaxed),
            request::Invite {
                session_id: session_id.clone(),
                target: b.id,
                first_message: None,
                context: None,
            },
        ))
        .await?;
    wait_session(b, &session_id, "inviting").await?;
    b.sink
        .lock()
        .await
        .send(frame(
            REQ.fetch_add(1, Ordering::Relaxed),
            request::Accept {
                session_id: session_id.clone(),
            },
        ))
        .await?;
    wait_session(a, &session_id, "connected").await
}

async fn wait_session(c: &Conn, session_id: &str, state: &str) -> anyhow::Result<()> {
    session_reaches(&c.control, session_id, state).await
}

static MESSAGE: AtomicU64 = AtomicU64::new(0);

async fn send_message(target: &Target, from: &Conn, to: &Conn) -> anyhow::Result<()> {
    let text = format!("t={}", nanos());
    let req = REQ.fetch_add(1, Ordering::Relaxed);
    let message = match target {
        Target::Hub(_) => frame(
            req,
            request::Send {
                session_id: format!("load-{}", from.index - from.index % 2),
                message_id: format!("m{}", MESSAGE.fetch_add(1, Ordering::Relaxed)),
                text,
            },
        ),
        Target::Floor => Message::Text(
            json!({"req": req, "type": "send", "to": to.id, "text": text})
                .to_string()
                .into(),
        ),
    };
    from.sink.lock().await.send(message).await?;
    Ok(())
}

/// Sends `rate` messages a second for the phase's length, from each pair's first agent to
/// its second, pair after pair; returns how many were sent.
async fn paced(cli: &Cli, target: &Target, conns: &[Arc<Conn>]) -> anyhow::Result<u64> {
    let pairs = conns.len() / 2;
    let t = Instant::now();
    let length = Duration::from_secs(cli.seconds);
    let mut tick = tokio::time::interval(Duration::from_millis(1));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    let mut sent = 0u64;
    let mut next_pair = 0;
    while t.elapsed() < length {
        tick.tick().await;
        let due = (t.elapsed().as_secs_f64() * cli.rate as f64) as u64;
        while sent < due {
            let k = next_pair % pairs;
            next_pair += 1;
            send_message(target, &conns[2 * k], &conns[2 * k + 1]).await?;
            sent += 1;
        }
    }
    Ok(sent)
}

/// The hub, with limits a generator faster than agents needs.
async fn start_hub(cli: &Cli, setup: Setup) -> anyhow::Result<PreparedHub> {
    PreparedHub::start(
        cli.hub_bin.as_deref(),
        cli.agents,
        &[
            // The generator sends faster than an agent types.
            ("HUDDLE_HUB_LIMITS_MESSAGES_PER_SECOND", "1000000"),
            ("HUDDLE_HUB_LIMITS_MESSAGE_BURST", "1000000"),
            // Tens of thousands of agents on a handful of loopback addresses.
            ("HUDDLE_HUB_LIMITS_MAX_CONNECTIONS", "100000"),
            ("HUDDLE_HUB_LIMITS_MAX_CONNECTIONS_PER_ADDRESS", "100000"),
        ],
        setup.store,
        setup.nodes,
    )
    .await
}

/// The bare relay, as a process of its own (this binary's `floor` command).
struct FloorServer {
    process: Server,
    addr: SocketAddr,
}

impl FloorServer {
    fn start() -> anyhow::Result<Self> {
        let mut child = Command::new(std::env::current_exe()?)
            .arg("floor")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()?;
        let stdout = child.stdout.take().context("no stdout")?;
        let addr = read_address(stdout, "listening ")?;
        Ok(Self {
            process: Server(child),
            addr,
        })
    }
}

/// The physical floor: a relay that knows each connection by the id it says in its first
/// frame, forwards `send` frames to their `to` and acknowledges them, with a queue per
/// connection as the hub has; no accounts, no storage, nothing else.
mod floor {
    use super::*;

    type Peers = Arc<Mutex<HashMap<i64, mpsc::Sender<Message>>>>;

    pub async fn serve(listen: SocketAddr) -> anyhow::Result<()> {
        let listener = tokio::net::TcpListener::bind(listen).await?;
        println!("listening {}", listener.local_addr()?);
        std::io::stdout().flush()?;
        let peers: Peers = Arc::default();
        loop {
            let (tcp, _) = listener.accept().await?;
            let _ = tcp.set_nodelay(true);
            tokio::spawn(connection(tcp, peers.clone()));
        }
    }

    async fn connection(tcp: TcpStream, peers: Peers) -> anyhow::Result<()> {
        // The hub's read buffer, so that memory per connection compares like with like.
        let config = WebSocketConfig::default().read_buffer_size(huddle_hub::READ_BUFFER_BYTES);
        let ws = tokio_tungstenite::accept_async_with_config(tcp, Some(config)).await?;
        let (mut sink, mut stream) = ws.split();
        let (tx, mut rx) = mpsc::channel::<Message>(1024);
        tokio::spawn(async move {
            while let Some(m) = rx.recv().await {
                if sink.send(m).await.is_err() {
                    break;
                }
            }
        });
        let mut me = None;
        while let Some(Ok(message)) = stream.next().await {
            let Message::Text(text) = message else {
                continue;
            };
            let v: Value = serde_json::from_str(text.as_str())?;
            match v["type"].as_str() {
                Some("hello") => {
                    let id = v["id"].as_i64().context("hello without an id")?;
                    peers
                        .lock()
                        .map_err(|_| anyhow::anyhow!("poisoned"))?
                        .insert(id, tx.clone());
                    me = Some(id);
                    tx.send(Message::Text(json!({"type": "welcome"}).to_string().into()))
                        .await?;
                }
                Some("send") => {
                    let to = v["to"].as_i64().context("send without a to")?;
                    let forward = json!({"type": "message", "text": v["text"]}).to_string();
                    let peer = peers
                        .lock()
                        .map_err(|_| anyhow::anyhow!("poisoned"))?
                        .get(&to)
                        .cloned();
                    if let Some(peer) = peer {
                        let _ = peer.try_send(Message::Text(forward.into()));
                    }
                    tx.send(Message::Text(
                        json!({"re": v["req"], "type": "sent"}).to_string().into(),
                    ))
                    .await?;
                }
                _ => {}
            }
        }
        if let Some(id) = me {
            peers
                .lock()
                .map_err(|_| anyhow::anyhow!("poisoned"))?
                .remove(&id);
        }
        Ok(())
    }
}
