//! The desktop's D-Bus services for the end-to-end tests: a notification server, a tray
//! watcher and a dock's launcher that record what the app shows, run by `desktop_bus.py` on the session bus that
//! `scripts/with-desktop.sh` provides.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use serde_json::Value;

use super::DEADLINE;

const SCRIPT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/support/desktop_bus.py");
/// The system's python, which has the D-Bus bindings (a python on PATH may not).
const PYTHON: &str = "/usr/bin/python3";

/// A fake desktop service, recording what the app asks of it.
pub struct Service {
    child: Child,
    log: PathBuf,
}

impl Service {
    /// A notification server (`org.freedesktop.Notifications`).
    pub async fn notifications(dir: &Path) -> anyhow::Result<Self> {
        Self::start("notifications", dir).await
    }

    /// A dock listening for launcher counts (`com.canonical.Unity.LauncherEntry`).
    pub async fn launcher(dir: &Path) -> anyhow::Result<Self> {
        Self::start("launcher", dir).await
    }

    /// A tray watcher (`org.kde.StatusNotifierWatcher`). Start it before the app.
    pub async fn watcher(dir: &Path) -> anyhow::Result<Self> {
        Self::start("watcher", dir).await
    }

    async fn start(kind: &str, dir: &Path) -> anyhow::Result<Self> {
        let log = dir.join(format!("{kind}.jsonl"));
        let child = Command::new(PYTHON)
            .arg(SCRIPT)
            .arg(kind)
            .arg(&log)
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .with_context(|| format!("cannot start the fake {kind} service"))?;
        let service = Self { child, log };
        service
            .record(&format!("the {kind} service to start"), |r| {
                r["event"] == "ready"
            })
            .await?;
        Ok(service)
    }

    /// Everything recorded so far.
    pub fn records(&self) -> Vec<Value> {
        std::fs::read_to_string(&self.log)
            .unwrap_or_default()
            .lines()
            .filter_map(|l| serde_json::from_str(l).ok())
            .collect()
    }

    /// Waits until the latest record is one `want` takes, and returns it.
    pub async fn latest(&self, what: &str, want: impl Fn(&Value) -> bool) -> anyhow::Result<Value> {
        let start = Instant::now();
        while start.elapsed() < DEADLINE {
            if let Some(last) = self.records().pop().filter(|r| want(r)) {
                return Ok(last);
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        bail!("{what} never came; recorded: {:?}", self.records())
    }

    /// Waits for a record that `want` accepts, and returns it.
    pub async fn record(&self, what: &str, want: impl Fn(&Value) -> bool) -> anyhow::Result<Value> {
        let start = Instant::now();
        while start.elapsed() < DEADLINE {
            if let Some(found) = self.records().into_iter().find(|r| want(r)) {
                return Ok(found);
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        bail!("never saw {what}; recorded: {:?}", self.records())
    }
}

impl Drop for Service {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn run(args: &[&str]) -> anyhow::Result<String> {
    let out = Command::new(PYTHON).arg(SCRIPT).args(args).output()?;
    if !out.status.success() {
        bail!(
            "desktop_bus.py {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// Makes the notification server report a click on action `key` of notification `id`.
pub fn invoke(id: u64, key: &str) -> anyhow::Result<()> {
    run(&["invoke", &id.to_string(), key]).map(|_| ())
}

/// A tray item registered with the watcher.
pub struct TrayItem {
    service: String,
    path: String,
}

impl TrayItem {
    /// The item the app registered.
    pub async fn of(watcher: &Service) -> anyhow::Result<Self> {
        let record = watcher
            .record("the tray icon", |r| r["event"] == "item")
            .await?;
        Ok(Self {
            service: record["service"].as_str().unwrap_or_default().to_string(),
            path: record["path"].as_str().unwrap_or_default().to_string(),
        })
    }

    /// Its title, label, icon and menu.
    pub fn state(&self) -> anyhow::Result<Value> {
        Ok(serde_json::from_str(&run(&[
            "tray",
            &self.service,
            &self.path,
        ])?)?)
    }

    /// The labels of its menu's items.
    pub fn menu_labels(&self) -> anyhow::Result<Vec<String>> {
        Ok(self.state()?["menu"]
            .as_array()
            .map(|items| {
                items
                    .iter()
                    .filter_map(|i| i["label"].as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default())
    }

    /// Waits until its state satisfies `want`, and returns it.
    pub async fn state_when(
        &self,
        what: &str,
        want: impl Fn(&Value) -> bool,
    ) -> anyhow::Result<Value> {
        let start = Instant::now();
        let mut last = Value::Null;
        while start.elapsed() < DEADLINE {
            last = self.state()?;
            if want(&last) {
                return Ok(last);
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        bail!("the tray never showed {what}; last: {last}")
    }

    /// Clicks the menu item with this label.
    pub fn click(&self, label: &str) -> anyhow::Result<()> {
        run(&["click", &self.service, &self.path, label]).map(|_| ())
    }
}
