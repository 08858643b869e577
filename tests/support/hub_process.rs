//! A real `huddle-hub` process for the journeys that kill it (SIGKILL) and start it again on
//! the same address and database, as an operator's restart does.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{bail, Context};

use super::DEADLINE;

/// The integration API's token of every hub process started here.
pub const INTEGRATION_TOKEN: &str = "integration-token-for-tests";

/// A hub process with its own database, listening on one loopback port for its whole life.
pub struct HubProcess {
    child: Option<Child>,
    port: u16,
    _dir: tempfile::TempDir,
    database: PathBuf,
}

impl HubProcess {
    /// Provisions the agents, given as (login, name, password), then starts the hub.
    pub async fn start(agents: &[(&str, &str, &str)]) -> anyhow::Result<Self> {
        let dir = tempfile::tempdir()?;
        let database = dir.path().join("hub.db");
        super::provision(&database, agents).await?;
        let port = TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
        let mut hub = Self {
            child: None,
            port,
            _dir: dir,
            database,
        };
        hub.restart().await?;
        Ok(hub)
    }

    /// The address an agent types into the login form.
    pub fn address(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// The database file.
    pub fn database(&self) -> &Path {
        &self.database
    }

    /// Ends the hub at once, as a crash does: no connection is closed properly.
    pub fn kill(&mut self) -> anyhow::Result<()> {
        if let Some(mut child) = self.child.take() {
            child.kill().context("cannot kill the hub")?;
            child.wait()?;
        }
        Ok(())
    }

    /// Starts the hub (again) on its address and database; returns once it answers.
    pub async fn restart(&mut self) -> anyhow::Result<()> {
        self.kill()?;
        let child = Command::new(binary("huddle-hub")?)
            .arg("--database")
            .arg(&self.database)
            .args(["serve", "--listen", &self.address()])
            .env("HUDDLE_HUB_LOG", "warn")
            .env("HUDDLE_HUB_INTEGRATION_TOKEN", INTEGRATION_TOKEN)
            .env("HUDDLE_HUB_HIDDEN_CASE_DATA_KEYS", "internal_score")
            .env("HUDDLE_HUB_OFFLINE_GRACE_SECS", "1")
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .context("cannot start huddle-hub")?;
        self.child = Some(child);
        let start = Instant::now();
        while start.elapsed() < DEADLINE {
            if std::net::TcpStream::connect(("127.0.0.1", self.port)).is_ok() {
                return Ok(());
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        bail!("the hub did not listen on {} in time", self.address())
    }

    /// Makes every session token the hub has issued to `login` expire now.
    pub async fn expire_tokens(&self, login: &str) -> anyhow::Result<()> {
        let db = huddle_hub::store::open(&self.database).await?;
        sqlx::query(
            "UPDATE tokens SET expires_at = 0
              WHERE agent_id = (SELECT id FROM agents WHERE login = ?)",
        )
        .bind(login)
        .execute(&db)
        .await?;
        db.close().await;
        Ok(())
    }
}

impl Drop for HubProcess {
    fn drop(&mut self) {
        let _ = self.kill();
    }
}

/// One of the workspace's binaries, built beside the app's by `cargo test --workspace`.
pub fn binary(name: &str) -> anyhow::Result<PathBuf> {
    let app = PathBuf::from(super::app_binary());
    let path = app.with_file_name(format!("{name}{}", std::env::consts::EXE_SUFFIX));
    if !path.exists() {
        bail!(
            "{} is missing: build the workspace's binaries with `cargo build --workspace --bins`",
            path.display()
        );
    }
    Ok(path)
}
