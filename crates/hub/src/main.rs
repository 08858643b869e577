//! `huddle-hub`: runs the hub, provisions agents, and simulates the contact center's
//! systems for demos.

use std::io::{BufRead, IsTerminal};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context;
use clap::{Args, Parser, Subcommand};
use huddle_hub::http_client::HttpClient;
use huddle_hub::tls::TlsCertificate;
use huddle_hub::{accounts, simulate, Config};
use huddle_protocol::Media;

#[derive(Parser)]
#[command(name = "huddle-hub", version, about = "The Huddle hub server")]
struct Cli {
    /// TOML config file.
    #[arg(long, short, global = true, env = "HUDDLE_HUB_CONFIG")]
    config: Option<PathBuf>,
    /// SQLite database file [default: huddle-hub/hub.db in the data directory].
    #[arg(long, global = true)]
    database: Option<PathBuf>,
    /// Serve from this PostgreSQL database instead of the SQLite file, as
    /// postgres://USER@HOST[:PORT]/DATABASE (a password belongs in HUDDLE_HUB_POSTGRES or the
    /// config file, not on a command line others can list).
    #[arg(long, global = true)]
    postgres: Option<String>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve clients until interrupted.
    Serve {
        /// Address to listen on [default: 127.0.0.1:7878].
        #[arg(long)]
        listen: Option<SocketAddr>,
        /// Speak TLS with this PEM certificate chain (with --tls-private-key); SIGHUP reads
        /// the files again.
        #[arg(long, requires = "tls_private_key")]
        tls_certificate: Option<PathBuf>,
        /// The PEM private key of --tls-certificate.
        #[arg(long, requires = "tls_certificate")]
        tls_private_key: Option<PathBuf>,
        /// Serve plain HTTP on an address other machines reach (a trusted network, or a TLS
        /// proxy in front on another machine).
        #[arg(long)]
        allow_plaintext: bool,
    },
    /// Provision agents.
    #[command(subcommand)]
    Agent(AgentCommand),
    /// Manage groups of agents (listed in the directory).
    #[command(subcommand)]
    Group(GroupCommand),
    /// Act as the contact center's systems towards a running hub (demos and tests).
    Simulate(SimulateArgs),
    /// Write a consistent copy of the database to FILE, also while the hub serves.
    Backup {
        /// The backup file to create (never overwritten).
        file: PathBuf,
    },
    /// Move the hub's data between stores.
    #[command(subcommand)]
    Store(StoreCommand),
}

#[derive(Subcommand)]
enum StoreCommand {
    /// Copy every row of a SQLite database into an empty PostgreSQL database, creating its
    /// tables (one transaction: a failed copy leaves it as it was).
    Copy {
        /// The SQLite file [default: the configured database].
        #[arg(long)]
        from: Option<PathBuf>,
        /// The PostgreSQL database, as postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE.
        #[arg(long)]
        to: String,
    },
}

#[derive(Args)]
struct SimulateArgs {
    /// The running hub's base URL (http:// or https://). Before or after what to simulate.
    #[arg(
        long,
        global = true,
        env = "HUDDLE_HUB_URL",
        default_value = "http://127.0.0.1:7878"
    )]
    hub: String,
    /// The certificate authority (PEM) of an https:// hub's certificate, if the system does
    /// not already trust it.
    #[arg(long, global = true)]
    ca_file: Option<PathBuf>,
    /// The hub's integration token [default: HUDDLE_HUB_INTEGRATION_TOKEN, or
    /// integration_token in the config file].
    #[arg(long, global = true)]
    token: Option<String>,
    #[command(subcommand)]
    what: SimulateCommand,
}

#[derive(Subcommand)]
enum SimulateCommand {
    /// Deliver a customer's call to an agent.
    Call(DeliverArgs),
    /// Deliver a customer's email to an agent.
    Email(DeliverArgs),
    /// Deliver a customer's chat to an agent.
    Chat(DeliverArgs),
    /// Load the demo contacts with their history (again: it replaces theirs).
    SeedContacts,
}

#[derive(Args)]
struct DeliverArgs {
    /// The agent's login.
    #[arg(long)]
    agent: String,
    /// The contact's id [default: one of the demo contacts].
    #[arg(long)]
    contact: Option<String>,
}

#[derive(Subcommand)]
enum GroupCommand {
    /// Create a group, or set its members.
    Set {
        /// The group's name.
        name: String,
        /// Logins of its members.
        members: Vec<String>,
    },
    /// List the groups and their members.
    List,
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum YesNo {
    Yes,
    No,
}

impl From<YesNo> for bool {
    fn from(v: YesNo) -> bool {
        matches!(v, YesNo::Yes)
    }
}

#[derive(Subcommand)]
enum AgentCommand {
    /// Add an agent; the password is asked for, or read from standard input.
    Add {
        /// Login name (a-z, 0-9, '.', '_', '-').
        login: String,
        /// Name shown to other agents.
        #[arg(long)]
        name: String,
    },
    /// List the agents.
    List,
    /// Disable an agent's account; their sessions end.
    Disable { login: String },
    /// Enable a disabled account again.
    Enable { login: String },
    /// Set a new password; it is asked for, or read from standard input. The agent's
    /// sessions end.
    Passwd { login: String },
    /// End every session of an agent: their apps are disconnected (within a second, when a
    /// hub serves this database) and must sign in with the password again.
    Revoke { login: String },
    /// Set what an agent may do with internal IM.
    Set {
        login: String,
        /// Whether the agent may use internal IM at all.
        #[arg(long)]
        im: Option<YesNo>,
        /// Whether the agent may start IMs (and not only receive them).
        #[arg(long)]
        start_im: Option<YesNo>,
    },
}

fn main() -> ExitCode {
    let mut filter = tracing_subscriber::EnvFilter::try_from_env("HUDDLE_HUB_LOG")
        .unwrap_or_else(|_| "info".into());
    for target in huddle_protocol::WIRE_LOGGERS {
        if let Ok(cap) = format!("{target}=info").parse() {
            filter = filter.add_directive(cap);
        }
    }
    let logs = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal());
    // One JSON object per line for log collectors; readable text otherwise.
    if std::env::var("HUDDLE_HUB_LOG_FORMAT").is_ok_and(|f| f == "json") {
        logs.json().init();
    } else {
        logs.init();
    }
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: cannot start the runtime: {e}");
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

fn load_config(cli: &Cli) -> anyhow::Result<Config> {
    let mut config = match &cli.config {
        Some(path) => Config::from_file(path)?,
        None => Config::default(),
    };
    config.apply_env(std::env::vars())?;
    if let Some(db) = &cli.database {
        config.database = db.clone();
    }
    if let Some(url) = &cli.postgres {
        config.postgres = Some(huddle_hub::config::Secret::new(url.clone()));
    }
    Ok(config)
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    let mut config = load_config(&cli)?;
    match cli.command {
        Command::Serve {
            listen,
            tls_certificate,
            tls_private_key,
            allow_plaintext,
        } => {
            if let Some(listen) = listen {
                config.listen = listen;
            }
            config.allow_plaintext |= allow_plaintext;
            if let (Some(certificate), Some(key)) = (tls_certificate, tls_private_key) {
                config.tls_certificate = Some(certificate);
                config.tls_private_key = Some(key);
            }
            tracing::info!(database = %config.database.display(), "starting");
            let hub = huddle_hub::start(config).await?;
            if let Some(certificate) = hub.certificate() {
                reload_on_hangup(certificate)?;
            }
            let stopper = hub.stopper();
            tokio::spawn(async move {
                match shutdown_signal().await {
                    Ok(()) => tracing::info!("shutting down"),
                    Err(e) => tracing::error!(error = %e, "cannot wait for signals; stopping"),
                }
                stopper.stop();
            });
            hub.wait().await
        }
        Command::Store(StoreCommand::Copy { from, to }) => {
            let from = from.unwrap_or_else(|| config.database.clone());
            let copied = huddle_hub::store::copy::copy(&from, &to).await?;
            for (table, rows) in &copied {
                println!("{table}: {rows} rows");
            }
            println!("copied {} to PostgreSQL", from.display());
            Ok(())
        }
        Command::Backup { file } => {
            huddle_hub::store::backup(&config.database, &file).await?;
            println!(
                "backed up {} to {}",
                config.database.display(),
                file.display()
            );
            Ok(())
        }
        Command::Agent(command) => {
            let db = huddle_hub::store::open_configured(&config).await?;
            match command {
                AgentCommand::Add { login, name } => {
                    let password = read_password(&format!("Password for {login}: "))?;
                    let account = accounts::add(&db, &login, &name, &password).await?;
                    println!("added {} ({})", account.login, account.display_name);
                }
                AgentCommand::List => {
                    for a in accounts::list(&db).await? {
                        let state = if a.disabled { "disabled" } else { "enabled" };
                        let im = match (a.im_enabled, a.can_start_im) {
                            (false, _) => "no-im",
                            (true, false) => "receive-only",
                            (true, true) => "im",
                        };
                        println!("{}\t{}\t{}\t{}", a.login, a.display_name, state, im);
                    }
                }
                AgentCommand::Disable { login } => {
                    accounts::set_disabled(&db, &login, true).await?;
                    println!("disabled {login}");
                }
                AgentCommand::Enable { login } => {
                    accounts::set_disabled(&db, &login, false).await?;
                    println!("enabled {login}");
                }
                AgentCommand::Set {
                    login,
                    im,
                    start_im,
                } => {
                    anyhow::ensure!(
                        im.is_some() || start_im.is_some(),
                        "say what to set: --im yes|no and/or --start-im yes|no"
                    );
                    accounts::set_im_permissions(
                        &db,
                        &login,
                        im.map(bool::from),
                        start_im.map(bool::from),
                    )
                    .await?;
                    println!("updated {login}");
                }
                AgentCommand::Revoke { login } => {
                    accounts::revoke(&db, &login).await?;
                    println!("ended every session of {login}");
                }
                AgentCommand::Passwd { login } => {
                    let password = read_password(&format!("New password for {login}: "))?;
                    accounts::set_password(&db, &login, &password).await?;
                    println!("password changed for {login}");
                }
            }
            db.close().await;
            Ok(())
        }
        Command::Simulate(args) => {
            let token = args
                .token
                .or_else(|| config.integration_token.map(|t| t.expose().to_string()))
                .context(
                    "give the hub's integration token with --token, HUDDLE_HUB_INTEGRATION_TOKEN \
                     or integration_token in the config file",
                )?;
            let hub = HttpClient::with_ca_file(&args.hub, args.ca_file.as_deref())?;
            let (media, deliver) = match args.what {
                SimulateCommand::SeedContacts => {
                    for line in simulate::seed_contacts(&hub, &token).await? {
                        println!("{line}");
                    }
                    return Ok(());
                }
                SimulateCommand::Call(d) => (Media::Voice, d),
                SimulateCommand::Email(d) => (Media::Email, d),
                SimulateCommand::Chat(d) => (Media::Chat, d),
            };
            let done = simulate::deliver(
                &hub,
                &token,
                media,
                &deliver.agent,
                deliver.contact.as_deref(),
            )
            .await?;
            let who = done.contact_name.unwrap_or(done.contact_id);
            println!(
                "delivered {} ({}) to {}: {who}, \"{}\"",
                done.id,
                media.as_str(),
                deliver.agent,
                done.subject
            );
            Ok(())
        }
        Command::Group(command) => {
            let db = huddle_hub::store::open_configured(&config).await?;
            match command {
                GroupCommand::Set { name, members } => {
                    accounts::set_group(&db, &name, &members).await?;
                    println!("group {name} has {} members", members.len());
                }
                GroupCommand::List => {
                    for (name, members) in accounts::groups(&db).await? {
                        println!("{name}\t{}", members.join(","));
                    }
                }
            }
            db.close().await;
            Ok(())
        }
    }
}

/// Asks at the terminal without echo, twice; or reads one line from piped standard input.
fn read_password(prompt: &str) -> anyhow::Result<String> {
    if std::io::stdin().is_terminal() {
        let first = rpassword::prompt_password(prompt)?;
        let again = rpassword::prompt_password("Again: ")?;
        anyhow::ensure!(first == again, "the two passwords differ");
        Ok(first)
    } else {
        let mut line = String::new();
        std::io::stdin()
            .lock()
            .read_line(&mut line)
            .context("cannot read the password from standard input")?;
        let password = line.trim_end_matches(['\r', '\n']).to_string();
        anyhow::ensure!(!password.is_empty(), "no password on standard input");
        Ok(password)
    }
}

/// Reads the TLS certificate again at each SIGHUP (`systemctl reload huddle-hub` after a
/// renewal); a bad pair of files is logged and the certificate in use stays.
#[cfg(unix)]
fn reload_on_hangup(certificate: Arc<TlsCertificate>) -> anyhow::Result<()> {
    use tokio::signal::unix::{signal, SignalKind};
    let mut hangups = signal(SignalKind::hangup()).context("cannot wait for SIGHUP")?;
    tokio::spawn(async move {
        while hangups.recv().await.is_some() {
            match certificate.reload() {
                Ok(()) => tracing::info!("TLS certificate reloaded"),
                Err(e) => {
                    tracing::error!(error = %e, "TLS certificate not reloaded; the old one stays")
                }
            }
        }
    });
    Ok(())
}

/// Without SIGHUP, a new certificate takes a restart.
#[cfg(not(unix))]
fn reload_on_hangup(_certificate: Arc<TlsCertificate>) -> anyhow::Result<()> {
    Ok(())
}

async fn shutdown_signal() -> anyhow::Result<()> {
    #[cfg(unix)]
    {
        let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
        tokio::select! {
            r = tokio::signal::ctrl_c() => r?,
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    tokio::signal::ctrl_c().await?;
    Ok(())
}
