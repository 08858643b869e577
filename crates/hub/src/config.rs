//! The hub's settings: defaults, a TOML file, then `HUDDLE_HUB_*` environment variables and
//! command-line flags, each overriding the one before.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use anyhow::Context;
use serde::Deserialize;

/// Everything `huddle-hub serve` needs to run.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// Address and port to listen on.
    pub listen: SocketAddr,
    /// Path of the SQLite database file (created if missing).
    pub database: PathBuf,
    /// Limits on what clients may send.
    pub limits: Limits,
}

/// Limits on what a client may send.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Limits {
    /// Largest text frame answered normally; a larger one gets a `frame_too_large` error.
    pub max_frame_bytes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_frame_bytes: 64 * 1024,
        }
    }
}

impl Default for Config {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 7878)),
            database: default_database_path(),
            limits: Limits::default(),
        }
    }
}

/// The database path used when none is configured: `huddle-hub/hub.db` in the platform's
/// data directory (for example `~/.local/share` on Linux).
pub fn default_database_path() -> PathBuf {
    dirs::data_dir()
        .unwrap_or_else(|| PathBuf::from("."))
        .join("huddle-hub")
        .join("hub.db")
}

impl Config {
    /// Reads a TOML config file; missing keys keep their defaults, unknown keys are errors.
    pub fn from_file(path: &Path) -> anyhow::Result<Self> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read the config file {}", path.display()))?;
        Self::from_toml(&text).with_context(|| format!("in the config file {}", path.display()))
    }

    /// Parses TOML config text.
    pub fn from_toml(text: &str) -> anyhow::Result<Self> {
        Ok(toml::from_str(text)?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_partial_file_keeps_the_other_defaults() {
        let c = Config::from_toml("listen = \"0.0.0.0:9000\"\n[limits]\nmax_frame_bytes = 100\n")
            .unwrap();
        assert_eq!(c.listen.port(), 9000);
        assert_eq!(c.limits.max_frame_bytes, 100);
        assert_eq!(c.database, default_database_path());
    }

    #[test]
    fn an_unknown_key_is_an_error_not_ignored() {
        let e = Config::from_toml("listn = \"0.0.0.0:9000\"\n").unwrap_err();
        assert!(format!("{e:#}").contains("listn"), "{e:#}");
    }
}
