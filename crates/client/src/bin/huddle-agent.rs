//! `huddle-agent`: an agent without a window, for scripts, demos and tests. It signs in,
//! searches the directory, invites, keeps a sign-in in the keychain for the app, and in bot
//! mode plays a colleague who accepts every invitation and answers every message.

use std::io::{BufRead, IsTerminal};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{bail, Context};
use clap::{Parser, Subcommand};
use huddle_client::cache::Delivery;
use huddle_client::{
    ConnectionState, Credential, EndCause, Engine, EngineEvent, Hub, Keychain, Secret,
    SessionStatus,
};
use huddle_protocol::DirectoryFilter;

#[derive(Parser)]
#[command(
    name = "huddle-agent",
    version,
    about = "A Huddle agent without a window"
)]
struct Cli {
    /// The hub's address, for example 127.0.0.1:7878; several separated by commas are the
    /// nodes of one hub, tried in turn.
    #[arg(long, env = "HUDDLE_HUB")]
    hub: String,
    /// The agent's login.
    #[arg(long, env = "HUDDLE_LOGIN")]
    login: String,
    /// The certificate authority (PEM) of a wss:// hub's certificate, if the system does not
    /// already trust it.
    #[arg(long, env = "HUDDLE_CA_FILE")]
    ca_file: Option<PathBuf>,
    /// The way to the hub: `system` (the proxy variables), `none`, or a proxy's URL such as
    /// http://user:password@proxy:3128 or socks5://proxy:1080.
    #[arg(long, env = "HUDDLE_PROXY", default_value = "system")]
    proxy: huddle_client::proxy::ProxySetting,
    /// Where the agent's local cache lives [default: huddle-agent in the data directory].
    #[arg(long)]
    data: Option<PathBuf>,
    /// Forget ended sessions and their transcripts this many days after they ended
    /// [default: keep them].
    #[arg(long)]
    keep_days: Option<u64>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Search the directory and print the matches.
    Search {
        /// Any part of a name or login.
        #[arg(default_value = "")]
        query: String,
    },
    /// Invite an agent and wait for the answer; with --message, send it once connected and
    /// wait until the hub has it.
    Invite {
        /// The invited agent's login.
        login: String,
        /// A message to send.
        #[arg(long)]
        message: Option<String>,
    },
    /// List the agent's sessions (id, state, the other agent).
    Sessions,
    /// Accept an invitation.
    Accept {
        /// The session's id (see `sessions`).
        session: String,
    },
    /// Send a message into a connected session and wait until the hub has it.
    Send {
        /// The session's id.
        session: String,
        /// The text.
        text: String,
    },
    /// End a connected session (or withdraw or reject an invitation).
    End {
        /// The session's id.
        session: String,
    },
    /// Keep this sign-in (session token and password) in the OS keychain, as the app's
    /// "Remember me" does: the app started with the same --hub and --login signs in by itself.
    Remember,
    /// Play a colleague: accept every invitation and answer every message.
    Bot {
        /// The answer to every message.
        #[arg(long, default_value = "Got it, I'll look into it.")]
        reply: String,
        /// A file of lines `keyword: answer`; the first keyword found in a message (case
        /// ignored) picks the answer, `*` matches anything; otherwise --reply answers.
        #[arg(long)]
        script: Option<PathBuf>,
        /// How long to wait before accepting, in milliseconds.
        #[arg(long, default_value_t = 1000)]
        accept_delay_ms: u64,
        /// How long to "type" before answering, in milliseconds.
        #[arg(long, default_value_t = 1500)]
        reply_delay_ms: u64,
    },
}

/// The password comes from HUDDLE_PASSWORD, or is asked for, or read from standard input;
/// never from the command line, where other users could see it.
fn password() -> anyhow::Result<String> {
    if let Ok(p) = std::env::var("HUDDLE_PASSWORD") {
        return Ok(p);
    }
    if std::io::stdin().is_terminal() {
        eprint!("Password: ");
    }
    let mut line = String::new();
    std::io::stdin().lock().read_line(&mut line)?;
    let password = line.trim_end_matches(['\r', '\n']).to_string();
    if password.is_empty() {
        bail!("no password: set HUDDLE_PASSWORD or write it on standard input");
    }
    Ok(password)
}

fn main() -> ExitCode {
    let mut filter =
        tracing_subscriber::EnvFilter::try_from_env("HUDDLE_LOG").unwrap_or_else(|_| "warn".into());
    for target in huddle_protocol::WIRE_LOGGERS {
        if let Ok(cap) = format!("{target}=info").parse() {
            filter = filter.add_directive(cap);
        }
    }
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .init();
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// How long a command waits for the events missed while the agent was away.
const CATCH_UP: Duration = Duration::from_secs(15);

async fn run(cli: Cli) -> anyhow::Result<()> {
    let data = cli.data.clone().unwrap_or_else(|| {
        dirs::data_dir()
            .unwrap_or_else(|| PathBuf::from("."))
            .join("huddle-agent")
    });
    let hub =
        Hub::new(cli.hub.clone())
            .trusting(cli.ca_file.clone())
            .via(huddle_client::proxy::Proxy {
                setting: cli.proxy.clone(),
                system: None,
            });
    let password = password()?;
    let (engine, token) = Engine::sign_in_to(
        &hub,
        &cli.login,
        Credential::Password(password.clone()),
        &data,
    )
    .await
    .context("cannot sign in")?;
    // What the cache shows must be what the hub has: the events missed while this agent was
    // away are applied first.
    if !engine.caught_up(CATCH_UP).await {
        anyhow::bail!("the hub's events for this agent did not all arrive in time");
    }
    if let Some(days) = cli.keep_days {
        engine
            .set_retention(Some(Duration::from_secs(days.saturating_mul(24 * 3600))))
            .await
            .context("cannot prune the local cache")?;
    }
    match cli.command {
        Command::Search { query } => {
            for e in engine.search(&query, DirectoryFilter::All).await? {
                let presence = e.presence.map(|p| format!("{p:?}")).unwrap_or_default();
                println!("{}\t{}\t{}\t{}", e.id, e.login, e.name, presence);
            }
        }
        Command::Invite { login, message } => invite(&engine, &login, message.as_deref()).await?,
        Command::Sessions => {
            let me = engine.agent().id;
            for s in engine.cache().sessions().await? {
                let other = if s.inviter.id == me {
                    &s.target
                } else {
                    &s.inviter
                };
                println!("{}\t{:?}\t{}", s.id, s.state, other.display_name);
            }
        }
        Command::Accept { session } => engine.accept(&session).await?,
        Command::Send { session, text } => send(&engine, &session, &text).await?,
        Command::End { session } => end(&engine, &session).await?,
        Command::Remember => {
            let secret = Secret {
                token,
                password: Some(password),
                proxy_password: None,
            };
            Keychain::open()
                .await?
                .store(&cli.hub, &cli.login, &secret)
                .await?;
            println!("remembered {} on {}", cli.login, cli.hub);
        }
        Command::Bot {
            reply,
            script,
            accept_delay_ms,
            reply_delay_ms,
        } => {
            let rules = match script {
                Some(path) => read_script(&path)?,
                None => Vec::new(),
            };
            bot(
                &engine,
                &reply,
                &rules,
                Duration::from_millis(accept_delay_ms),
                Duration::from_millis(reply_delay_ms),
            )
            .await?;
        }
    }
    Ok(())
}

async fn invite(engine: &Engine, login: &str, message: Option<&str>) -> anyhow::Result<()> {
    let entries = engine.search(login, DirectoryFilter::All).await?;
    let Some(target) = entries.iter().find(|e| e.login == login) else {
        bail!("no agent with the login {login:?} can receive IMs");
    };
    let mut events = engine.subscribe();
    let session = engine.invite(target.id, None, None).await?;
    println!("invited {} ({})", target.name, session.id);
    loop {
        match events.recv().await? {
            EngineEvent::Session(s) if s.info.id == session.id => match s.status {
                SessionStatus::Connected => {
                    println!("accepted");
                    if let Some(text) = message {
                        send(engine, &session.id, text).await?;
                    }
                    return Ok(());
                }
                SessionStatus::Ended(EndCause::Rejected { .. }) => bail!("rejected"),
                SessionStatus::Ended(EndCause::TimedOut) => bail!("not answered in time"),
                SessionStatus::Ended(cause) => bail!("ended: {cause:?}"),
                SessionStatus::Draft | SessionStatus::Inviting | SessionStatus::Invited => {}
            },
            EngineEvent::Connection(ConnectionState::SignedOut { reason }) => {
                bail!("signed out: {reason}")
            }
            _ => {}
        }
    }
}

async fn send(engine: &Engine, session: &str, text: &str) -> anyhow::Result<()> {
    let mut events = engine.subscribe();
    let queued = engine.send_message(session, text).await?;
    loop {
        match events.recv().await? {
            EngineEvent::Message(m) if m.id == queued.id => match m.delivery {
                Delivery::Sent => return Ok(()),
                Delivery::Failed => bail!(
                    "the hub refused the message: {}",
                    m.failure.unwrap_or_default()
                ),
                Delivery::Pending => {}
            },
            EngineEvent::Connection(ConnectionState::SignedOut { reason }) => {
                bail!("signed out: {reason}")
            }
            _ => {}
        }
    }
}

/// Ends the session in the way its state allows.
async fn end(engine: &Engine, session: &str) -> anyhow::Result<()> {
    let Some(status) = engine.session_status(session) else {
        bail!("no session {session} (see `huddle-agent sessions`)");
    };
    match status {
        SessionStatus::Connected => engine.end(session).await?,
        SessionStatus::Inviting => engine.cancel(session).await?,
        SessionStatus::Invited => engine.reject(session).await?,
        SessionStatus::Draft => bail!("the session was never sent"),
        SessionStatus::Ended(_) => bail!("the session has already ended"),
    }
    Ok(())
}

fn read_script(path: &std::path::Path) -> anyhow::Result<Vec<(String, String)>> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    let mut rules = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let Some((keyword, answer)) = line.split_once(':') else {
            bail!("{}:{}: expected `keyword: answer`", path.display(), n + 1);
        };
        rules.push((keyword.trim().to_lowercase(), answer.trim().to_string()));
    }
    Ok(rules)
}

fn answer_for<'a>(text: &str, rules: &'a [(String, String)], fallback: &'a str) -> &'a str {
    let text = text.to_lowercase();
    rules
        .iter()
        .find(|(k, _)| k == "*" || text.contains(k.as_str()))
        .map(|(_, a)| a.as_str())
        .unwrap_or(fallback)
}

async fn bot(
    engine: &Engine,
    reply: &str,
    rules: &[(String, String)],
    accept_delay: Duration,
    reply_delay: Duration,
) -> anyhow::Result<()> {
    let me = engine.agent().id;
    let mut events = engine.subscribe();
    eprintln!(
        "{} is answering; Ctrl+C to stop",
        engine.agent().display_name
    );
    // Invitations that arrived before the subscription are in the cache.
    for s in engine.sessions() {
        if s.status == SessionStatus::Invited {
            accept_later(engine.clone(), s.info.id, accept_delay);
        }
    }
    loop {
        let event = tokio::select! {
            e = events.recv() => e,
            _ = tokio::signal::ctrl_c() => {
                engine.sign_out().await;
                return Ok(());
            }
        };
        match event {
            Ok(EngineEvent::Session(s)) if s.status == SessionStatus::Invited => {
                accept_later(engine.clone(), s.info.id, accept_delay);
            }
            Ok(EngineEvent::Message(m)) if m.from != me && m.seq.is_some() => {
                let (engine, answer) = (
                    engine.clone(),
                    answer_for(&m.text, rules, reply).to_string(),
                );
                tokio::spawn(async move {
                    tokio::time::sleep(reply_delay).await;
                    if let Err(e) = engine.send_message(&m.session_id, &answer).await {
                        eprintln!("cannot answer: {e}");
                    }
                });
            }
            Ok(EngineEvent::Connection(ConnectionState::SignedOut { reason })) => {
                bail!("signed out: {reason}")
            }
            Ok(_) => {}
            Err(tokio::sync::broadcast::error::RecvError::Lagged(n)) => {
                eprintln!("missed {n} events")
            }
            Err(e) => return Err(e.into()),
        }
    }
}

fn accept_later(engine: Engine, session_id: String, delay: Duration) {
    tokio::spawn(async move {
        tokio::time::sleep(delay).await;
        if let Err(e) = engine.accept(&session_id).await {
            eprintln!("cannot accept {session_id}: {e}");
        }
    });
}
