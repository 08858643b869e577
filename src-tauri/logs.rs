//! The app's log: standard error, and a file a day in the OS's log folder for the app
//! (`~/.local/share/app.huddle.desktop/logs` on Linux, `~/Library/Logs/app.huddle.desktop` on
//! macOS, `%LOCALAPPDATA%\app.huddle.desktop\logs` on Windows), of which the last
//! [`KEEP_FILES`] are kept. Log lines name logins, hubs, ids and outcomes; never passwords,
//! tokens or message texts.

use std::path::{Path, PathBuf};

use huddle_client::private_files;
use tauri::{AppHandle, Manager, Runtime};
use tracing_appender::rolling::{RollingFileAppender, Rotation};
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{fmt, EnvFilter};

/// How many daily log files stay in the folder.
pub const KEEP_FILES: usize = 7;

/// The folder of the app's log files.
pub fn dir<R: Runtime>(app: &AppHandle<R>) -> tauri::Result<PathBuf> {
    app.path().app_log_dir()
}

/// Starts logging to standard error and to the day's file in `dir`. The level comes from
/// `HUDDLE_LOG` (default `info`). When the folder cannot be written, the app still runs and
/// logs to standard error, saying why.
pub fn init(dir: &Path) {
    let filter = || {
        let mut filter =
            EnvFilter::try_from_env("HUDDLE_LOG").unwrap_or_else(|_| EnvFilter::new("info"));
        for target in huddle_protocol::WIRE_LOGGERS {
            if let Ok(cap) = format!("{target}=info").parse() {
                filter = filter.add_directive(cap);
            }
        }
        filter
    };
    let stderr = fmt::layer()
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()));
    let file = appender(dir);
    let registry = tracing_subscriber::registry().with(filter()).with(stderr);
    match file {
        Ok(file) => {
            let _ = registry
                .with(fmt::layer().with_ansi(false).with_writer(file))
                .try_init();
        }
        Err(e) => {
            let _ = registry.try_init();
            tracing::warn!(folder = %dir.display(), error = %e, "cannot write the log file");
        }
    }
    tracing::info!(
        version = env!("CARGO_PKG_VERSION"),
        os = std::env::consts::OS,
        arch = std::env::consts::ARCH,
        logs = %dir.display(),
        "Huddle starting"
    );
}

/// The day's log file (`huddle.YYYY-MM-DD.log`); older ones beyond [`KEEP_FILES`] are removed
/// as it opens. Writes go straight to the file, so nothing is lost when the app exits. The
/// folder is the user's alone, and so are the files (those of older versions too).
fn appender(dir: &Path) -> Result<RollingFileAppender, Box<dyn std::error::Error>> {
    private_files::private_dir(dir)?;
    let file = RollingFileAppender::builder()
        .rotation(Rotation::DAILY)
        .filename_prefix("huddle")
        .filename_suffix("log")
        .max_log_files(KEEP_FILES)
        .build(dir)?;
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default();
        if name.starts_with("huddle.") && name.ends_with(".log") {
            private_files::restrict_if_present(&path)?;
        }
    }
    Ok(file)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_folder_keeps_the_last_week_and_nothing_else_is_touched() {
        let dir = tempfile::tempdir().unwrap();
        for day in 1..=12 {
            let name = format!("huddle.2026-11-{day:02}.log");
            std::fs::write(dir.path().join(name), "old\n").unwrap();
        }
        std::fs::write(dir.path().join("notes.txt"), "mine\n").unwrap();
        let mut file = appender(dir.path()).unwrap();
        std::io::Write::write_all(&mut file, b"today\n").unwrap();

        let names: Vec<String> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        let logs = names.iter().filter(|n| n.ends_with(".log")).count();
        assert_eq!(logs, KEEP_FILES, "{names:?}");
        assert!(names.iter().any(|n| n == "notes.txt"), "{names:?}");
    }

    #[cfg(unix)]
    #[test]
    fn the_logs_are_readable_by_their_user_only() {
        use std::os::unix::fs::PermissionsExt;
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        let root = tempfile::tempdir().unwrap();
        let dir = root.path().join("logs");
        std::fs::create_dir(&dir).unwrap();
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).unwrap();
        let old = dir.join("huddle.2026-11-30.log");
        std::fs::write(&old, "yesterday\n").unwrap();
        std::fs::set_permissions(&old, std::fs::Permissions::from_mode(0o644)).unwrap();
        let mut file = appender(&dir).unwrap();
        std::io::Write::write_all(&mut file, b"today\n").unwrap();
        assert_eq!(mode(&dir), 0o700);
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            assert_eq!(mode(&path), 0o600, "{}", path.display());
        }
    }
}
