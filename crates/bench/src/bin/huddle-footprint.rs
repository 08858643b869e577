//! The app's footprint beside a minimal Tauri 2 app built with the same Tauri and profile
//! (`benches/hello`). Each is started several times: the time from process start to first
//! paint and to interactive (both apps report these marks themselves), and the PSS of the
//! whole process tree (the app and its WebKit processes). Then Huddle signed in and idle;
//! then, driven through tauri-driver, an IM window with many cached messages: how long it
//! takes to open, its frames while scrolling back through it (timed by the webview itself), and
//! what each further IM window adds.
//!
//! `scripts/bench-footprint.sh` builds both apps and runs it on a virtual desktop; `--smoke`
//! is the one-start run of the test command.

use std::io::{BufRead, BufReader};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anyhow::{bail, Context};
use clap::Parser;
use fantoccini::{Client, ClientBuilder};
use huddle_bench::{budget, human, median, tree, tree_pss_kib, Table};
use huddle_client::{Credential, Engine, EngineEvent, Keychain, Secret, SessionStatus};
use huddle_hub::{accounts, Config, RunningHub};

#[derive(Parser)]
#[command(
    name = "huddle-footprint",
    about = "Huddle's start time and memory beside a minimal Tauri app"
)]
struct Cli {
    /// Huddle's release binary.
    #[arg(long)]
    huddle: PathBuf,
    /// The minimal Tauri app's release binary.
    #[arg(long)]
    hello: PathBuf,
    /// Starts of each app.
    #[arg(long, default_value_t = 5)]
    runs: usize,
    /// Messages in the big IM window's transcript.
    #[arg(long, default_value_t = 10_000)]
    messages: usize,
    /// How long an app rests after its window is ready before its memory is read.
    #[arg(long, default_value_t = 3)]
    settle_seconds: u64,
    /// One start of each, a small transcript: checks that the benchmark works.
    #[arg(long)]
    smoke: bool,
}

/// How long anything the benchmark waits for may take.
const DEADLINE: Duration = Duration::from_secs(60);

fn main() -> anyhow::Result<()> {
    let mut cli = Cli::parse();
    if cli.smoke {
        cli.runs = 1;
        cli.messages = 200;
        cli.settle_seconds = 1;
    }
    anyhow::ensure!(
        std::env::var_os("DISPLAY").is_some(),
        "no DISPLAY: run it on a desktop, or inside scripts/with-desktop.sh"
    );
    for bin in [&cli.huddle, &cli.hello] {
        anyhow::ensure!(
            bin.exists(),
            "{} is missing: scripts/bench-footprint.sh builds it",
            bin.display()
        );
    }
    tokio::runtime::Runtime::new()?.block_on(run(&cli))
}

/// What one start of an app measured, in milliseconds and KiB.
struct Start {
    first_paint: f64,
    interactive: f64,
    pss_kib: u64,
}

async fn run(cli: &Cli) -> anyhow::Result<()> {
    println!(
        "huddle-footprint: {} starts of each app; an IM window of {} messages",
        cli.runs, cli.messages
    );
    let mut hello = Vec::new();
    let mut huddle = Vec::new();
    // Taken in turns, so that whatever else the machine does weighs on both alike.
    for run in 0..cli.runs {
        hello.push(start(cli, &cli.hello, &[], Marks::Stdout).await?);
        huddle.push(start(cli, &cli.huddle, &[], Marks::Log).await?);
        println!(
            "   start {}: hello {:.0} ms / {} MiB, Huddle {:.0} ms / {} MiB",
            run + 1,
            hello[run].interactive,
            hello[run].pss_kib / 1024,
            huddle[run].interactive,
            huddle[run].pss_kib / 1024
        );
    }
    let med =
        |starts: &[Start], f: fn(&Start) -> f64| median(&starts.iter().map(f).collect::<Vec<_>>());

    let world = World::start(cli.messages).await?;
    let mut signed_in = Vec::new();
    for _ in 0..cli.runs {
        signed_in.push(world.signed_in_idle(cli).await?);
    }
    let idle_signed_in = median(&signed_in);
    let windows = world.im_windows(cli).await?;
    // Each further start opens the big window once more: one opening is one sample of a noisy
    // figure.
    let mut opens = vec![windows.opens_ms];
    for _ in 1..cli.runs {
        opens.push(world.im_opens(cli).await?);
    }
    let opens_ms = median(&opens);

    let hello_fp = med(&hello, |s| s.first_paint);
    let hello_ready = med(&hello, |s| s.interactive);
    let hello_pss = med(&hello, |s| s.pss_kib as f64) / 1024.0;
    let mut t = Table::default();
    t.row(
        "start to first paint (median)",
        med(&huddle, |s| s.first_paint),
        Some(hello_fp),
        "ms",
    );
    t.row(
        "start to interactive (median)",
        med(&huddle, |s| s.interactive),
        Some(hello_ready),
        "ms",
    );
    t.row(
        "memory, login form (PSS, median)",
        med(&huddle, |s| s.pss_kib as f64) / 1024.0,
        Some(hello_pss),
        "MiB",
    );
    t.row(
        "memory, signed in and idle (PSS, median)",
        idle_signed_in / 1024.0,
        Some(hello_pss),
        "MiB",
    );
    t.row(
        &format!(
            "memory with an IM window of {} messages, scrolled",
            cli.messages
        ),
        windows.after_scroll_kib as f64 / 1024.0,
        Some(hello_pss),
        "MiB",
    );
    t.row(
        "each further IM window adds (PSS)",
        windows.per_window_kib / 1024.0,
        None,
        "MiB",
    );
    t.row(
        &format!("IM window of {} messages opens in (median)", cli.messages),
        opens_ms,
        None,
        "ms",
    );
    t.row(
        "its frames while scrolling back through it, median",
        windows.frames.median_ms,
        None,
        "ms",
    );
    t.row(
        "its frames while scrolling back through it, slowest",
        windows.frames.max_ms,
        None,
        "ms",
    );
    t.row(
        "frames dropped while scrolling",
        windows.frames.dropped as f64,
        None,
        &format!("of {}", windows.frames.count),
    );
    let binary = std::fs::metadata(&cli.huddle)?.len() as f64 / 1_048_576.0;
    let hello_binary = std::fs::metadata(&cli.hello)?.len() as f64 / 1_048_576.0;
    t.row(
        "binary (stripped release)",
        binary,
        Some(hello_binary),
        "MiB",
    );
    println!("\n{}", t.render("Huddle", "hello world"));
    if cli.smoke {
        println!("smoke run: the figures above check that the benchmark works, nothing more");
        return Ok(());
    }
    println!("budgets:");
    println!(
        "{}",
        budget(
            "idle memory as a multiple of hello world's",
            idle_signed_in / 1024.0 / hello_pss,
            1.3,
            "×"
        )
    );
    println!(
        "{}",
        budget(
            "start to interactive",
            med(&huddle, |s| s.interactive),
            1.2 * hello_ready + 150.0,
            "ms (1.2 × hello world's + 150)"
        )
    );
    println!(
        "{}",
        budget(
            "each further IM window",
            windows.per_window_kib / 1024.0,
            30.0,
            "MiB"
        )
    );
    println!(
        "{}",
        budget(
            &format!("an IM window of {} messages opens in", cli.messages),
            opens_ms,
            150.0,
            "ms"
        )
    );
    println!(
        "{}",
        budget(
            "frames dropped while scrolling",
            windows.frames.dropped as f64,
            0.0,
            "frames"
        )
    );
    println!("{}", budget("stripped release binary", binary, 15.0, "MiB"));
    Ok(())
}

/// Where an app reports its marks.
#[derive(Clone, Copy)]
enum Marks {
    /// On standard output (the minimal app).
    Stdout,
    /// In its log, on standard error (Huddle).
    Log,
}

fn epoch_millis() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs_f64() * 1000.0)
        .unwrap_or(0.0)
}

/// The value of `name=` in a log line.
fn field(line: &str, name: &str) -> Option<f64> {
    line.split_whitespace()
        .find_map(|w| w.strip_prefix(name)?.strip_prefix('='))
        .and_then(|v| v.trim_matches('"').parse().ok())
}

/// A started app: its process group ends with it.
struct Running {
    child: Child,
    lines: std::sync::mpsc::Receiver<String>,
    _profile: tempfile::TempDir,
}

impl Running {
    fn spawn(
        bin: &Path,
        args: &[&str],
        marks: Marks,
        profile: tempfile::TempDir,
    ) -> anyhow::Result<Self> {
        let mut command = Command::new(bin);
        command
            .args(args)
            .env("XDG_CONFIG_HOME", profile.path().join("config"))
            .env("XDG_DATA_HOME", profile.path().join("data"))
            .env("XDG_CACHE_HOME", profile.path().join("cache"))
            .stdin(Stdio::null())
            .process_group(0);
        match marks {
            Marks::Stdout => command.stdout(Stdio::piped()).stderr(Stdio::null()),
            Marks::Log => command.stdout(Stdio::null()).stderr(Stdio::piped()),
        };
        let mut child = command
            .spawn()
            .with_context(|| format!("cannot start {}", bin.display()))?;
        let output: Box<dyn std::io::Read + Send> = match marks {
            Marks::Stdout => Box::new(child.stdout.take().context("no stdout")?),
            Marks::Log => Box::new(child.stderr.take().context("no stderr")?),
        };
        let (tx, lines) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(output).lines().map_while(Result::ok) {
                let _ = tx.send(line);
            }
        });
        Ok(Self {
            child,
            lines,
            _profile: profile,
        })
    }

    /// The first output line that contains every one of `words`.
    fn line_with(&self, words: &[&str]) -> anyhow::Result<String> {
        let deadline = Instant::now() + DEADLINE;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let line = self
                .lines
                .recv_timeout(left)
                .with_context(|| format!("no line with {words:?} in time"))?;
            if words.iter().all(|w| line.contains(w)) {
                return Ok(line);
            }
        }
    }
}

impl Drop for Running {
    /// Ends the app and waits until its WebKit processes are gone too: one still leaving
    /// would weigh on the next start.
    fn drop(&mut self) {
        let processes = tree(self.child.id());
        let group = format!("-{}", self.child.id());
        let _ = Command::new("kill").args(["-TERM", "--", &group]).status();
        let _ = self.child.wait();
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline && processes.iter().any(|pid| alive(*pid)) {
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

/// Whether a process runs (a zombie, ended but not yet reaped, does not).
fn alive(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|stat| {
        stat.rsplit_once(')')
            .is_some_and(|(_, rest)| !rest.trim_start().starts_with('Z'))
    })
}

/// Starts an app on a new profile, reads its marks, lets it rest, and reads its memory.
async fn start(cli: &Cli, bin: &Path, args: &[&str], marks: Marks) -> anyhow::Result<Start> {
    let profile = tempfile::tempdir()?;
    let t0 = epoch_millis();
    let app = Running::spawn(bin, args, marks, profile)?;
    let line = app.line_with(&["window ready", "window=main"])?;
    let (first_paint, interactive) = (
        field(&line, "first_paint_at"),
        field(&line, "interactive_at"),
    );
    let (Some(first_paint), Some(interactive)) = (first_paint, interactive) else {
        bail!("no marks in {line:?}");
    };
    tokio::time::sleep(Duration::from_secs(cli.settle_seconds)).await;
    let pss_kib = tree_pss_kib(app.child.id())?;
    Ok(Start {
        first_paint: first_paint - t0,
        interactive: interactive - t0,
        pss_kib,
    })
}

/// A hub with Ana, whose sign-in is in the keychain, and her session with Ben holding the big
/// transcript; Chloé and Dev, signed in, invite her while the benchmark watches her IM
/// windows. (An open session's window comes back when Huddle starts: only Ben's is open then,
/// so that it opens alone.)
struct World {
    hub: RunningHub,
    /// The session of the big transcript.
    big: String,
    ana: i64,
    /// Chloé's and Dev's engines.
    colleagues: Vec<Engine>,
    _dir: tempfile::TempDir,
}

const COLLEAGUES: [(&str, &str); 3] = [
    ("ben", "Ben Okafor"),
    ("chloe", "Chloé Martin"),
    ("dev", "Dev Patel"),
];

impl World {
    async fn start(messages: usize) -> anyhow::Result<Self> {
        let dir = tempfile::tempdir()?;
        let database = dir.path().join("hub.db");
        let db = huddle_hub::store::open(&database).await?;
        accounts::add(&db.clone().into(), "ana", "Ana Lima", "ana-password").await?;
        for (login, name) in COLLEAGUES {
            accounts::add(
                &db.clone().into(),
                login,
                name,
                &format!("{login}-password"),
            )
            .await?;
        }
        db.close().await;
        let mut config = Config {
            listen: "127.0.0.1:0".parse()?,
            database,
            ..Config::default()
        };
        // The transcript is written faster than anyone types.
        config.limits.messages_per_second = 100_000;
        config.limits.message_burst = 100_000;
        let hub = huddle_hub::start(config).await?;
        let address = hub.addr.to_string();
        let (ana, token) = Engine::sign_in(
            &address,
            "ana",
            Credential::Password("ana-password".into()),
            &dir.path().join("ana"),
        )
        .await?;
        let mut engines = Vec::new();
        for (login, _) in COLLEAGUES {
            let (colleague, _) = Engine::sign_in(
                &address,
                login,
                Credential::Password(format!("{login}-password")),
                &dir.path().join(login),
            )
            .await?;
            engines.push(colleague);
        }
        let ben = engines.remove(0);
        let big = converse(&ana, &ben, messages).await?;
        Keychain::open()
            .await
            .context("the keychain (run inside scripts/with-desktop.sh)")?
            .store(
                &address,
                "ana",
                &Secret {
                    token,
                    password: Some("ana-password".into()),
                    proxy_password: None,
                },
            )
            .await?;
        println!("   a hub with Ana's session of {messages} messages with Ben");
        Ok(Self {
            hub,
            big,
            ana: ana.agent().id,
            colleagues: engines,
            _dir: dir,
        })
    }

    /// Opens the big window's page again, as when the agent brings the conversation up in a
    /// window of its own, and waits for it to be ready: its "window ready" log line, and the
    /// time its page took. (The window itself came back at start, beside nothing else.)
    async fn open_big_window(&self, client: &Client, log: &Path) -> anyhow::Result<(String, f64)> {
        switch_to(client, &format!("im-{}", self.big)).await?;
        client
            .execute("location.reload(); return null;", vec![])
            .await?;
        let ready = wait_log(log, &self.big_ready(), 2).await?;
        let opens_ms = field(&ready, "page_ms").context("no page_ms")?;
        Ok((ready, opens_ms))
    }

    /// The log line that says the big window is ready.
    fn big_ready(&self) -> String {
        format!("window ready window=im-{} ", self.big)
    }

    fn args(&self) -> Vec<String> {
        vec![
            "--hub".into(),
            self.hub.addr.to_string(),
            "--login".into(),
            "ana".into(),
        ]
    }

    /// Huddle signed in by itself and resting: the PSS of its tree, in KiB.
    async fn signed_in_idle(&self, cli: &Cli) -> anyhow::Result<f64> {
        let args = self.args();
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let app = Running::spawn(&cli.huddle, &args, Marks::Log, tempfile::tempdir()?)?;
        app.line_with(&["signed in", "login=ana"])?;
        tokio::time::sleep(Duration::from_secs(cli.settle_seconds)).await;
        Ok(tree_pss_kib(app.child.id())? as f64)
    }

    /// Through tauri-driver, signed in and at rest: how long the big IM window takes to open.
    async fn im_opens(&self, cli: &Cli) -> anyhow::Result<f64> {
        let (driver, log, _profile) = self.at_rest(cli).await?;
        let (_, opens_ms) = self.open_big_window(&driver.client, &log).await?;
        println!("   the IM window opened again in {} ms", human(opens_ms));
        driver.close().await;
        Ok(opens_ms)
    }

    /// Huddle under tauri-driver, signed in and at rest, as when an agent opens a
    /// conversation; with its log folder, and the profile that holds it.
    async fn at_rest(&self, cli: &Cli) -> anyhow::Result<(Driver, PathBuf, tempfile::TempDir)> {
        let profile = tempfile::tempdir()?;
        let driver = Driver::start(&cli.huddle, &self.args(), profile.path()).await?;
        wait_text(&driver.client, "agent-name", "Ana Lima").await?;
        let log = profile.path().join("data/app.huddle.desktop/logs");
        // The open conversation's window comes back at start.
        wait_log(&log, &self.big_ready(), 1).await?;
        tokio::time::sleep(Duration::from_secs(cli.settle_seconds)).await;
        Ok((driver, log, profile))
    }

    /// Through tauri-driver: the big IM window opened and scrolled, then two more.
    async fn im_windows(&self, cli: &Cli) -> anyhow::Result<Windows> {
        let (driver, log, _profile) = self.at_rest(cli).await?;
        let client = &driver.client;
        let app = driver.app_pid()?;
        let (ready, opens_ms) = self.open_big_window(client, &log).await?;
        let mark = |name: &str| field(&ready, name).map_or_else(|| "–".to_string(), human);
        println!(
            "   the IM window's page: script ran at {} ms, view loaded at {} ms, took input at {} ms",
            mark("script_ms"),
            mark("view_ms"),
            human(opens_ms)
        );
        switch_to(client, &format!("im-{}", self.big)).await?;
        let marks = client
            .execute(
                "return performance.getEntriesByType('mark')
                   .concat(performance.getEntriesByType('paint'))
                   .sort((a, b) => a.startTime - b.startTime)
                   .map(m => m.name.replace('huddle-', '') + ' ' + Math.round(m.startTime) + ' ms')
                   .join(', ')",
                vec![],
            )
            .await?;
        println!("   its page's marks: {}", marks.as_str().unwrap_or(""));
        let frames = scroll_through(client).await?;
        tokio::time::sleep(Duration::from_secs(cli.settle_seconds)).await;
        let after_scroll_kib = tree_pss_kib(app)?;

        let mut before = after_scroll_kib;
        let mut added = Vec::new();
        for (n, colleague) in self.colleagues.iter().enumerate() {
            // A colleague's invitation opens a further window, waiting in the taskbar; the
            // agent brings it up from the main window.
            colleague
                .invite(self.ana, Some("A question about order 10001"), None)
                .await?;
            switch_to(client, "main").await?;
            open_session(client, COLLEAGUES[n + 1].1).await?;
            // The big window's two lines (restored, then opened again), then one a window.
            let ready = wait_log(&log, "window ready window=im-", n + 3).await?;
            println!(
                "   IM window {} (an invitation) opened in {} ms",
                n + 2,
                field(&ready, "page_ms").map_or_else(|| "–".to_string(), human)
            );
            tokio::time::sleep(Duration::from_secs(cli.settle_seconds)).await;
            let now = tree_pss_kib(app)?;
            added.push(now as f64 - before as f64);
            before = now;
        }
        let processes: Vec<String> = tree(app)
            .into_iter()
            .map(huddle_bench::process_name)
            .collect();
        println!(
            "   the app's processes with 3 IM windows open: {}",
            processes.join(", ")
        );
        driver.close().await;
        Ok(Windows {
            opens_ms,
            frames,
            after_scroll_kib,
            per_window_kib: median(&added),
        })
    }
}

/// What the IM windows measured.
struct Windows {
    opens_ms: f64,
    frames: Frames,
    after_scroll_kib: u64,
    per_window_kib: f64,
}

/// `from` invites `to` and `to` accepts; then `to` sends `count` messages, and this returns
/// the session once the hub has them all.
async fn converse(from: &Engine, to: &Engine, count: usize) -> anyhow::Result<String> {
    let mut events = to.subscribe();
    let session = from.invite(to.agent().id, None, None).await?;
    to.accept(&session.id).await?;
    let mut last = None;
    for i in 0..count {
        let text = format!(
            "Message {} about order {}: is the refund through yet?",
            i + 1,
            10_000 + i
        );
        last = Some(to.send_message(&session.id, &text).await?.id);
    }
    let last = last.context("no message")?;
    tokio::time::timeout(Duration::from_secs(600), async {
        loop {
            match events.recv().await {
                Ok(EngineEvent::Message(m)) if m.id == last && m.seq.is_some() => {
                    return Ok(session.id.clone())
                }
                Ok(EngineEvent::Session(s)) if matches!(s.status, SessionStatus::Ended(_)) => {
                    bail!("the session ended")
                }
                Ok(_) | Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {}
                Err(e) => bail!("engine events: {e}"),
            }
        }
    })
    .await
    .context("the messages were not all sent in time")?
}

/// Huddle started by tauri-driver, and the WebDriver session driving it.
struct Driver {
    client: Client,
    driver: Child,
    huddle: PathBuf,
}

impl Driver {
    async fn start(huddle: &Path, args: &[String], profile: &Path) -> anyhow::Result<Self> {
        let port = std::net::TcpListener::bind("127.0.0.1:0")?
            .local_addr()?
            .port();
        let native = std::net::TcpListener::bind("127.0.0.1:0")?
            .local_addr()?
            .port();
        let driver = Command::new(tauri_driver())
            .args([
                "--port",
                &port.to_string(),
                "--native-port",
                &native.to_string(),
            ])
            .env("XDG_CONFIG_HOME", profile.join("config"))
            .env("XDG_DATA_HOME", profile.join("data"))
            .env("XDG_CACHE_HOME", profile.join("cache"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .process_group(0)
            .spawn()
            .context("cannot start tauri-driver (scripts/deps.sh installs it)")?;
        let mut caps = serde_json::Map::new();
        caps.insert("browserName".into(), "wry".into());
        caps.insert(
            "tauri:options".into(),
            serde_json::json!({"application": huddle, "args": args}),
        );
        let started = Instant::now();
        let client = loop {
            let connector = hyper_util::client::legacy::connect::HttpConnector::new();
            match ClientBuilder::new(connector)
                .capabilities(caps.clone())
                .connect(&format!("http://127.0.0.1:{port}"))
                .await
            {
                Ok(client) => break client,
                Err(e) if started.elapsed() > DEADLINE => {
                    return Err(e).context("no WebDriver session")
                }
                Err(_) => tokio::time::sleep(Duration::from_millis(100)).await,
            }
        };
        Ok(Self {
            client,
            driver,
            huddle: huddle.to_path_buf(),
        })
    }

    /// The app's process, started by WebKitWebDriver under tauri-driver.
    fn app_pid(&self) -> anyhow::Result<u32> {
        let huddle = std::fs::canonicalize(&self.huddle)?;
        tree(self.driver.id())
            .into_iter()
            .find(|pid| {
                std::fs::read_link(format!("/proc/{pid}/exe")).is_ok_and(|exe| exe == huddle)
            })
            .context("the app's process is not under tauri-driver")
    }

    async fn close(self) {
        let _ = self.client.clone().close().await;
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        let group = format!("-{}", self.driver.id());
        let _ = Command::new("kill").args(["-KILL", "--", &group]).status();
        let _ = self.driver.wait();
    }
}

fn tauri_driver() -> PathBuf {
    let installed = dirs::home_dir()
        .unwrap_or_default()
        .join(".cargo/bin/tauri-driver");
    if installed.exists() {
        installed
    } else {
        PathBuf::from("tauri-driver")
    }
}

/// Clicks the conversation with `name` in the main window's list. (The row's text is read
/// in the page: WebKitWebDriver reports elements that clip with an ellipsis as empty.)
async fn open_session(client: &Client, name: &str) -> anyhow::Result<()> {
    let script = "const row = [...document.querySelectorAll('[data-testid=session-row]')]
                    .find(r => r.innerText.includes(arguments[0]));
                  if (row === undefined) return false;
                  row.click();
                  return true;";
    let deadline = Instant::now() + DEADLINE;
    while Instant::now() < deadline {
        if client.execute(script, vec![name.into()]).await? == serde_json::Value::Bool(true) {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    bail!("no conversation with {name}")
}

const LABEL: &str = "return window.__TAURI_INTERNALS__.metadata.currentWindow.label;";

async fn switch_to(client: &Client, label: &str) -> anyhow::Result<()> {
    switch_matching(client, |l| l == label, 1).await
}

async fn switch_matching(
    client: &Client,
    want: impl Fn(&str) -> bool,
    count: usize,
) -> anyhow::Result<()> {
    let deadline = Instant::now() + DEADLINE;
    while Instant::now() < deadline {
        let mut found = None;
        let mut matching = 0;
        for handle in client.windows().await? {
            if client.switch_to_window(handle.clone()).await.is_err() {
                continue;
            }
            if let Ok(label) = client.execute(LABEL, vec![]).await {
                if label.as_str().is_some_and(&want) {
                    matching += 1;
                    found = Some(handle);
                }
            }
        }
        if let (Some(handle), true) = (found, matching >= count) {
            client.switch_to_window(handle).await?;
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    bail!("no such window opened")
}

async fn wait_text(client: &Client, test_id: &str, text: &str) -> anyhow::Result<()> {
    let script = "const e = document.querySelector(`[data-testid=${arguments[0]}]`); return e === null ? null : e.innerText;";
    let deadline = Instant::now() + DEADLINE;
    while Instant::now() < deadline {
        if client
            .execute(script, vec![test_id.into()])
            .await?
            .as_str()
            .is_some_and(|t| t.contains(text))
        {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    bail!("{test_id} never showed {text:?}")
}

/// Waits until the log in `dir` holds `count` lines with `needle`, and returns the last.
async fn wait_log(dir: &Path, needle: &str, count: usize) -> anyhow::Result<String> {
    let deadline = Instant::now() + DEADLINE;
    while Instant::now() < deadline {
        let mut found = Vec::new();
        for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
            let text = std::fs::read_to_string(entry.path()).unwrap_or_default();
            found.extend(
                text.lines()
                    .filter(|l| l.contains(needle))
                    .map(String::from),
            );
        }
        if found.len() >= count {
            return found.pop().context("no line");
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    bail!("the log never held {count} lines with {needle:?}")
}

/// Frame times while scrolling through a transcript, as the webview paced them.
struct Frames {
    count: usize,
    median_ms: f64,
    max_ms: f64,
    /// Frames that took more than one and a half of the median frame.
    dropped: usize,
}

/// Scrolls the transcript back from its end to its very first message, half a screen a
/// frame, as an agent reading back would, the window reading earlier pages as it goes; each
/// frame is timed with `requestAnimationFrame`.
async fn scroll_through(client: &Client) -> anyhow::Result<Frames> {
    let script = r#"
        const done = arguments[arguments.length - 1];
        const list = document.querySelector('[data-testid=im-transcript]');
        if (list === null) { done(null); return; }
        const step = Math.max(1, list.clientHeight / 2);
        const deltas = [];
        let last = null;
        function frame(t) {
          if (last !== null) deltas.push(t - last);
          last = t;
          const more = document.querySelector('[data-testid=im-earlier]') !== null;
          if ((list.scrollTop <= 0 && !more) || deltas.length > 100000) { done(deltas); return; }
          list.scrollTop = Math.max(0, list.scrollTop - step);
          requestAnimationFrame(frame);
        }
        requestAnimationFrame(() => requestAnimationFrame(frame));
    "#;
    let value = client.execute_async(script, vec![]).await?;
    let deltas: Vec<f64> =
        serde_json::from_value(value).context("no frame times: no transcript?")?;
    anyhow::ensure!(!deltas.is_empty(), "no frames");
    let median_ms = median(&deltas);
    let max_ms = deltas.iter().copied().fold(0.0, f64::max);
    let dropped = deltas.iter().filter(|d| **d > 1.5 * median_ms).count();
    println!(
        "   scrolled {} frames: median {} ms, slowest {} ms",
        deltas.len(),
        human(median_ms),
        human(max_ms)
    );
    Ok(Frames {
        count: deltas.len(),
        median_ms,
        max_ms,
        dropped,
    })
}
