//! A real hub on a loopback port for the client's tests.

#![allow(dead_code)] // Each test file uses its own part of this module.

use std::path::Path;
use std::time::Duration;

use huddle_client::{Credential, Engine, EngineEvent};
use tokio::sync::broadcast::Receiver;

/// How long any awaited thing may take before the test fails.
pub const DEADLINE: Duration = Duration::from_secs(20);
use huddle_hub::{accounts, Config, RunningHub};

/// Starts a hub with a fresh database holding these agents, as (login, name); each one's
/// password is `<login>-password`. The folder holds the database and room for caches.
pub async fn hub_with(agents: &[(&str, &str)]) -> (tempfile::TempDir, RunningHub) {
    let dir = tempfile::tempdir().unwrap();
    let database = dir.path().join("hub.db");
    let db = huddle_hub::store::open(&database).await.unwrap();
    for (login, name) in agents {
        accounts::add(
            &db.clone().into(),
            login,
            name,
            &format!("{login}-password"),
        )
        .await
        .unwrap();
    }
    db.close().await;
    let config = Config {
        listen: "127.0.0.1:0".parse().unwrap(),
        database,
        ..Config::default()
    };
    (dir, huddle_hub::start(config).await.unwrap())
}

/// Signs `login` in (password `<login>-password`) with its cache under `data`.
pub async fn sign_in(hub: &str, login: &str, data: &Path) -> Engine {
    let (engine, _token) = Engine::sign_in(
        hub,
        login,
        Credential::Password(format!("{login}-password")),
        data,
    )
    .await
    .unwrap();
    engine
}

/// Waits for the first event that `pick` maps to something.
pub async fn wait_for<T>(
    events: &mut Receiver<EngineEvent>,
    what: &str,
    pick: impl Fn(&EngineEvent) -> Option<T>,
) -> T {
    let found = tokio::time::timeout(DEADLINE, async {
        loop {
            match events.recv().await {
                Ok(event) => {
                    if let Some(found) = pick(&event) {
                        return found;
                    }
                }
                Err(e) => panic!("event stream failed: {e}"),
            }
        }
    })
    .await;
    found.unwrap_or_else(|_| panic!("never saw {what}"))
}
