//! The hub as a process of its own for the benchmarks, with agents prepared once, and the
//! few frames every generator speaks.

use std::io::{BufRead, BufReader, Write as _};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Child;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{bail, Context};
use futures_util::stream::SplitStream;
use futures_util::StreamExt;
use huddle_protocol::{ClientFrame, Request};
use serde_json::Value;
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::WebSocketStream;

/// A server process, stopped when dropped.
pub struct Server(pub Child);

impl Server {
    /// The process id.
    pub fn pid(&self) -> u32 {
        self.0.id()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Reads a server's output until a line holds `marker` followed by its address; the rest of
/// the output is drained so that the server never blocks on it.
pub fn read_address(
    output: impl std::io::Read + Send + 'static,
    marker: &'static str,
) -> anyhow::Result<SocketAddr> {
    let (found, addr) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(output).lines().map_while(Result::ok) {
            if let Some(rest) = line.split(marker).nth(1) {
                let word = rest
                    .split([' ', '"'])
                    .next()
                    .unwrap_or_default()
                    .to_string();
                let _ = found.send(word);
            }
        }
    });
    let word = addr
        .recv_timeout(Duration::from_secs(30))
        .context("the server did not say where it listens")?;
    word.parse()
        .with_context(|| format!("{word:?} is not an address"))
}

/// A database with `n` agents and a session token for each, made once and kept.
pub struct Prepared {
    /// The database, to be copied before use.
    pub database: PathBuf,
    /// Each agent's id and session token, in login order (`load00000`, …).
    pub tokens: Arc<Vec<(i64, String)>>,
}

pub async fn prepare(n: usize) -> anyhow::Result<Prepared> {
    let dir = crate::cache_dir(&format!("agents-{n}"));
    let database = dir.join("hub.db");
    let tokens_file = dir.join("tokens");
    if !(crate::is_file(&database) && crate::is_file(&tokens_file)) {
        println!(
            "   preparing {n} agents with their session tokens in {} (once)",
            dir.display()
        );
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir)?;
        make_agents(&database, &tokens_file, n).await?;
    }
    let tokens = std::fs::read_to_string(&tokens_file)?
        .lines()
        .map(|l| {
            let (id, token) = l.split_once(' ').context("a bad line in the tokens file")?;
            Ok((id.parse()?, token.to_string()))
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    anyhow::ensure!(
        tokens.len() == n,
        "{} holds {} tokens, not {n}",
        tokens_file.display(),
        tokens.len()
    );
    Ok(Prepared {
        database,
        tokens: Arc::new(tokens),
    })
}

/// Writes `n` agents (one password for all, [`PASSWORD`]) and a token for each.
async fn make_agents(database: &Path, tokens_file: &Path, n: usize) -> anyhow::Result<()> {
    let db = huddle_hub::store::open(database).await?;
    // One hash for all: hashing each would only measure argon2, which logins by token skip.
    let hash = huddle_hub::password::hash(PASSWORD)?;
    let mut tx = db.begin().await?;
    let mut ids = Vec::with_capacity(n);
    for i in 0..n {
        let (id,): (i64,) = sqlx::query_as(
            "INSERT INTO agents (login, display_name, password_hash, created_at) VALUES (?, ?, ?, 0) RETURNING id",
        )
        .bind(format!("load{i:05}"))
        .bind(format!("Load Agent {i}"))
        .bind(&hash)
        .fetch_one(&mut *tx)
        .await?;
        ids.push(id);
    }
    tx.commit().await?;
    let mut out = std::io::BufWriter::new(std::fs::File::create(tokens_file)?);
    let store = huddle_hub::store::sql::Store::from(db.clone());
    for id in ids {
        let issued = huddle_hub::tokens::issue(&store, id, 365).await?;
        writeln!(out, "{id} {}", issued.token)?;
    }
    out.flush()?;
    db.close().await;
    Ok(())
}

/// The next text frame, as JSON.
pub async fn next_json(
    stream: &mut SplitStream<WebSocketStream<TcpStream>>,
) -> anyhow::Result<Value> {
    loop {
        match stream.next().await {
            Some(Ok(Message::Text(t))) => {
                return serde_json::from_str(t.as_str()).context("not JSON")
            }
            Some(Ok(_)) => continue,
            Some(Err(e)) => bail!("the connection failed: {e}"),
            None => bail!("the server closed the connection"),
        }
    }
}

/// A client frame, ready to send.
pub fn frame(req: u64, request: impl Into<Request>) -> Message {
    let request = request.into();
    let text = serde_json::to_string(&ClientFrame { req, request }).unwrap_or_default();
    Message::Text(text.into())
}

/// Waits until a connection's frames (those neither messages nor acknowledgements) show the
/// session `session_id` in `state`; a refusal on the way fails.
pub async fn session_reaches(
    control: &tokio::sync::Mutex<tokio::sync::mpsc::UnboundedReceiver<Value>>,
    session_id: &str,
    state: &str,
) -> anyhow::Result<()> {
    let mut control = control.lock().await;
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    loop {
        let left = deadline.saturating_duration_since(std::time::Instant::now());
        let v = tokio::time::timeout(left, control.recv())
            .await
            .with_context(|| format!("session {session_id} never became {state}"))?
            .context("the connection ended")?;
        if v["type"] == "error" {
            bail!("the hub refused a step of session {session_id}: {v}");
        }
        if v["event"] == "session"
            && v["session"]["id"] == session_id
            && v["session"]["state"] == state
        {
            return Ok(());
        }
    }
}

/// The throwaway PostgreSQL server of the hub's tests, here syncing its commits as a real one.
#[allow(dead_code)]
#[path = "../../hub/tests/common/postgres.rs"]
mod postgres_server;

/// The store a benchmarked hub serves from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum BenchStore {
    /// A SQLite file, the default.
    Sqlite,
    /// A PostgreSQL server of its own on this machine, syncing every commit.
    Postgres,
}

/// The hub serving a copy of `n` prepared agents, as a process of its own with `env` added
/// to its environment (or as several nodes on one PostgreSQL database); stopped when
/// dropped.
pub struct PreparedHub {
    /// The hub's process (the first node's).
    pub process: Server,
    /// Where it listens.
    pub addr: SocketAddr,
    /// The other nodes, with where they listen.
    pub more: Vec<(Server, SocketAddr)>,
    /// Each agent's id and session token.
    pub tokens: Arc<Vec<(i64, String)>>,
    /// The PostgreSQL server it serves from, if it does (stopped after the hub).
    postgres: Option<postgres_server::Postgres>,
    _dir: tempfile::TempDir,
}

impl PreparedHub {
    /// Starts `bin` (the `huddle-hub` beside the running benchmark when `None`) on `store`,
    /// as `nodes` nodes (more than one only on PostgreSQL).
    pub async fn start(
        bin: Option<&Path>,
        n: usize,
        env: &[(&str, &str)],
        store: BenchStore,
        nodes: usize,
    ) -> anyhow::Result<Self> {
        anyhow::ensure!(
            nodes >= 1 && (nodes == 1 || store == BenchStore::Postgres),
            "several nodes serve from PostgreSQL: add --store postgres"
        );
        let prepared = prepare(n).await?;
        let dir = tempfile::tempdir()?;
        let database = dir.path().join("hub.db");
        std::fs::copy(&prepared.database, &database)?;
        let bin = match bin {
            Some(b) => b.to_path_buf(),
            None => std::env::current_exe()?.with_file_name("huddle-hub"),
        };
        let mut command = std::process::Command::new(&bin);
        command.arg("--database").arg(&database);
        let postgres = match store {
            BenchStore::Sqlite => None,
            BenchStore::Postgres => {
                let server =
                    tokio::task::spawn_blocking(|| postgres_server::Postgres::start_with(true))
                        .await?;
                let url = server.database("hub");
                // The prepared agents move as an administrator's would, from a file on this
                // hub's schema.
                huddle_hub::store::open(&database).await?.close().await;
                let copied = std::process::Command::new(&bin)
                    .arg("--database")
                    .arg(&database)
                    .args(["store", "copy", "--to", &url])
                    .stdout(std::process::Stdio::null())
                    .status()?;
                anyhow::ensure!(copied.success(), "cannot copy the agents to PostgreSQL");
                command.args(["--postgres", &url]);
                Some(server)
            }
        };
        command
            .args(["serve", "--listen", "127.0.0.1:0"])
            .env("HUDDLE_HUB_LOG", "warn,huddle_hub::transport::server=info")
            .envs(env.iter().copied())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::piped());
        let mut started = Vec::with_capacity(nodes);
        for _ in 0..nodes {
            let mut child = command.spawn().with_context(|| {
                format!(
                    "cannot start {} (build it: cargo build --release -p huddle-hub)",
                    bin.display()
                )
            })?;
            let stderr = child.stderr.take().context("no stderr")?;
            let server = Server(child);
            let addr = read_address(stderr, "addr=")?;
            started.push((server, addr));
        }
        let mut started = started.into_iter();
        let (process, addr) = started.next().context("no node started")?;
        Ok(Self {
            process,
            addr,
            more: started.collect(),
            tokens: prepared.tokens,
            postgres,
            _dir: dir,
        })
    }

    /// Where each node listens.
    pub fn addrs(&self) -> Vec<SocketAddr> {
        let mut addrs = vec![self.addr];
        addrs.extend(self.more.iter().map(|(_, addr)| *addr));
        addrs
    }

    /// The hub's nodes' processes.
    pub fn node_pids(&self) -> Vec<u32> {
        let mut pids = vec![self.process.pid()];
        pids.extend(self.more.iter().map(|(server, _)| server.pid()));
        pids
    }

    /// The processes that serve: the hub's nodes, and the PostgreSQL server when it has
    /// one.
    pub fn server_pids(&self) -> Vec<u32> {
        let mut pids = self.node_pids();
        pids.extend(self.postgres.as_ref().and_then(|p| p.pid()));
        pids
    }
}

/// The generator's clock, in nanoseconds since its first reading: message texts carry the
/// time they were sent on it.
pub fn nanos() -> u64 {
    static EPOCH: std::sync::OnceLock<std::time::Instant> = std::sync::OnceLock::new();
    EPOCH
        .get_or_init(std::time::Instant::now)
        .elapsed()
        .as_nanos() as u64
}

/// The password of every prepared agent.
pub const PASSWORD: &str = "load-bench-password";
