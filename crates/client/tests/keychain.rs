//! The agent's credentials in the real keychain of this desktop session: the Secret Service,
//! which `scripts/with-desktop.sh` provides by starting an unlocked gnome-keyring with
//! `scripts/keyring-session.sh`. Without it this test fails and says so: skipping would hide
//! that credentials are never tried against a real keychain.
#![cfg(target_os = "linux")]

use std::future::Future;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use huddle_client::{Keychain, KeychainError, Secret};

/// Longer than any D-Bus round trip; a call still running then waits for a prompt nobody
/// will answer (a locked keychain or a missing login keyring).
const CALL_LIMIT: Duration = Duration::from_secs(20);

const NEEDS: &str = "This test needs an unlocked Secret Service in its D-Bus session: run it \
                     inside scripts/with-desktop.sh, which starts gnome-keyring with an \
                     unlocked login keyring through scripts/keyring-session.sh.";

#[test]
fn secret_service_stores_loads_overwrites_and_forgets_without_files() {
    // Every place a program writes its files goes to an empty folder, checked at the end.
    let sandbox = tempfile::tempdir().expect("a temporary folder");
    for var in [
        "HOME",
        "XDG_CONFIG_HOME",
        "XDG_DATA_HOME",
        "XDG_CACHE_HOME",
        "TMPDIR",
    ] {
        let dir = sandbox.path().join(var.to_lowercase());
        std::fs::create_dir(&dir).expect("a folder in the sandbox");
        // Set before the runtime starts any thread that could read the environment.
        std::env::set_var(var, dir);
    }

    let runtime = tokio::runtime::Runtime::new().expect("a tokio runtime");
    let outcome = runtime.block_on(scenario());
    // A call stuck on a prompt must not hold the test up once it has failed.
    runtime.shutdown_background();
    if let Err(why) = outcome {
        panic!("{why}");
    }

    let files = files_under(sandbox.path());
    assert!(
        files.is_empty(),
        "the keychain calls wrote files: {files:?}"
    );
}

async fn scenario() -> Result<(), String> {
    let credentials = within("opening the keychain", Keychain::open())
        .await?
        .map_err(|error| explain("opening the keychain", error))?;

    // Unique, so that a real desktop's own entries are never touched.
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.as_nanos());
    let hub = format!(
        "ws://keychain-test-{}-{nanos}.invalid:7878/v1/ws",
        std::process::id()
    );
    let login = "keychain-test";
    let first = Secret {
        token: format!("token-{nanos}"),
        password: None,
        proxy_password: None,
    };
    let second = Secret {
        token: format!("token-2-{nanos}"),
        password: Some(format!("password-{nanos}")),
        proxy_password: None,
    };

    within("storing", credentials.store(&hub, login, &first))
        .await?
        .map_err(|error| explain("storing", error))?;
    let loaded = within("loading", credentials.load(&hub, login)).await?;
    assert_eq!(loaded, Ok(Some(first)));

    within("overwriting", credentials.store(&hub, login, &second))
        .await?
        .map_err(|error| explain("overwriting", error))?;
    let loaded = within("loading again", credentials.load(&hub, login)).await?;
    assert_eq!(loaded, Ok(Some(second)));

    let forgotten = within("forgetting", credentials.forget(&hub, login)).await?;
    assert_eq!(forgotten, Ok(()));
    let loaded = within("loading what was forgotten", credentials.load(&hub, login)).await?;
    assert_eq!(loaded, Ok(None));
    Ok(())
}

fn explain(what: &str, error: KeychainError) -> String {
    format!("{what} failed: {error}\n{NEEDS} The keychain said: {error:?}")
}

async fn within<T>(what: &str, call: impl Future<Output = T>) -> Result<T, String> {
    tokio::time::timeout(CALL_LIMIT, call).await.map_err(|_| {
        format!(
            "{what} took more than {CALL_LIMIT:?}: the Secret Service is probably waiting for \
             someone to unlock the keychain or create its login keyring.\n{NEEDS}"
        )
    })
}

fn files_under(dir: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    entries
        .flatten()
        .flat_map(|entry| {
            let path = entry.path();
            if path.is_dir() {
                files_under(&path)
            } else {
                vec![path]
            }
        })
        .collect()
}
