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
    /// The PostgreSQL database to serve from instead of the SQLite file, as
    /// `postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE` (its tables are created if missing).
    pub postgres: Option<Secret>,
    /// How long a session token stays valid, in days.
    pub token_ttl_days: u32,
    /// How long after an agent's last connection is gone the agent shows Offline, in seconds.
    pub offline_grace_secs: u64,
    /// With several nodes on one PostgreSQL database: how long a node may stay silent
    /// before the others take it for dead and show its agents offline, in seconds.
    pub node_timeout_secs: u64,
    /// How long an invitation waits for an answer, in seconds.
    pub invite_timeout_secs: u64,
    /// How long events are kept for replay after a reconnect, in days.
    pub event_retention_days: u32,
    /// Limits on what clients may send.
    pub limits: Limits,
    /// The bearer token the contact center's systems present to the integration API; without
    /// one, the integration API is off.
    pub integration_token: Option<Secret>,
    /// Case-data keys never sent to agents (compared ignoring ASCII case).
    pub hidden_case_data_keys: Vec<String>,
    /// The PEM certificate chain (leaf first) of the listener; with `tls_private_key`, the hub
    /// speaks TLS (`wss://`, `https://`) instead of plain HTTP.
    pub tls_certificate: Option<PathBuf>,
    /// The PEM private key of `tls_certificate`.
    pub tls_private_key: Option<PathBuf>,
    /// Serve plain HTTP on an address other machines reach (the network between the agents
    /// and the hub is trusted, or a TLS proxy on another machine stands in front).
    pub allow_plaintext: bool,
}

/// The shortest integration token accepted: a short one could be guessed.
pub const MIN_TOKEN_CHARS: usize = 16;

/// A setting that must never reach a log: its `Debug` form hides it.
#[derive(Clone, PartialEq, Eq, Deserialize)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    /// Wraps a secret value.
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    /// The secret itself, for comparing; never log it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(..)")
    }
}

/// Limits on what a client may send.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Limits {
    /// Largest text frame answered normally; a larger one gets a `frame_too_large` error.
    pub max_frame_bytes: usize,
    /// Longest message text, in characters.
    pub max_message_chars: usize,
    /// Messages per second one agent may send on average, across all their connections.
    pub messages_per_second: u32,
    /// Messages one agent may send in a burst.
    pub message_burst: u32,
    /// Costly reads (searches, snapshots, interactions' details and history) per second one
    /// agent may make on average, across all their connections.
    pub reads_per_second: u32,
    /// Costly reads one agent may make in a burst.
    pub read_burst: u32,
    /// Connections one agent may be signed in on at once.
    pub max_devices_per_agent: u32,
    /// The most missed events replayed to a device that resumes; more, and it takes a
    /// snapshot instead.
    pub max_replay_events: u32,
    /// Invitations per minute one agent may send.
    pub invitations_per_minute: u32,
    /// Seconds without any frame (pongs included) after which a connection is closed.
    pub idle_timeout_secs: u64,
    /// Open (inviting or connected) sessions one agent may be part of.
    pub max_open_sessions: u32,
    /// Agents one connection may follow the presence of.
    pub max_followed: u32,
    /// Connections the hub holds at once, signed in or not.
    pub max_connections: u32,
    /// Connections the hub holds at once from one source address.
    pub max_connections_per_address: u32,
    /// Seconds a client has to finish its TLS handshake.
    pub tls_handshake_secs: u64,
    /// Seconds a client has to send an HTTP request's head (the first, and each next one on
    /// a kept-alive connection).
    pub request_head_secs: u64,
    /// Seconds a WebSocket has to say hello and sign in.
    pub sign_in_secs: u64,
    /// Passwords checked at once (0: one fewer than the cores, at least one).
    pub password_hashers: u32,
    /// Password checks that may wait for a hasher; more are refused with `busy`.
    pub password_queue: u32,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_frame_bytes: 64 * 1024,
            max_message_chars: 4000,
            messages_per_second: 10,
            message_burst: 20,
            reads_per_second: 10,
            read_burst: 40,
            max_devices_per_agent: 10,
            max_replay_events: 5000,
            invitations_per_minute: 20,
            idle_timeout_secs: 60,
            max_open_sessions: 50,
            max_followed: 500,
            max_connections: 20_000,
            max_connections_per_address: 200,
            tls_handshake_secs: 10,
            request_head_secs: 10,
            sign_in_secs: 15,
            password_hashers: 0,
            password_queue: 64,
        }
    }
}

impl Default for Config {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 7878)),
            database: default_database_path(),
            postgres: None,
            token_ttl_days: 30,
            offline_grace_secs: 30,
            node_timeout_secs: 15,
            invite_timeout_secs: 60,
            event_retention_days: 7,
            limits: Limits::default(),
            integration_token: None,
            hidden_case_data_keys: Vec::new(),
            tls_certificate: None,
            tls_private_key: None,
            allow_plaintext: false,
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

    /// The certificate and key files when TLS is on.
    pub fn tls_files(&self) -> Option<(&Path, &Path)> {
        Some((
            self.tls_certificate.as_deref()?,
            self.tls_private_key.as_deref()?,
        ))
    }

    /// Checks what the types alone cannot: run before serving.
    pub fn check(&self) -> anyhow::Result<()> {
        anyhow::ensure!(
            self.tls_certificate.is_some() == self.tls_private_key.is_some(),
            "TLS needs both tls_certificate and tls_private_key (only {} is set)",
            if self.tls_certificate.is_some() {
                "tls_certificate"
            } else {
                "tls_private_key"
            }
        );
        anyhow::ensure!(
            self.tls_certificate.is_some()
                || self.listen.ip().is_loopback()
                || self.allow_plaintext,
            "the hub would carry passwords, tokens and messages unencrypted on {}, which other \
             machines reach: give it a TLS certificate (tls_certificate and tls_private_key), or \
             listen on 127.0.0.1 behind a TLS proxy, or set allow_plaintext = true \
             (--allow-plaintext) if the network between the agents and the hub is trusted",
            self.listen
        );
        anyhow::ensure!(
            self.node_timeout_secs >= 1,
            "node_timeout_secs must be at least 1"
        );
        let l = &self.limits;
        anyhow::ensure!(
            l.max_connections >= 1 && l.max_connections_per_address >= 1,
            "limits.max_connections and limits.max_connections_per_address must be at least 1"
        );
        if let Some(token) = &self.integration_token {
            let chars = token.expose().chars().count();
            anyhow::ensure!(
                chars >= MIN_TOKEN_CHARS,
                "integration_token must have at least {MIN_TOKEN_CHARS} characters (it has {chars}); \
                 generate one with, for example, `openssl rand -base64 32`"
            );
            anyhow::ensure!(
                token.expose().chars().all(|c| c.is_ascii_graphic()),
                "integration_token must be printable ASCII without spaces"
            );
        }
        Ok(())
    }

    /// Whether a case-data key is one agents never see.
    pub fn is_hidden_key(&self, key: &str) -> bool {
        self.hidden_case_data_keys
            .iter()
            .any(|hidden| hidden.eq_ignore_ascii_case(key))
    }

    /// Applies `HUDDLE_HUB_<KEY>` environment variables: `HUDDLE_HUB_LISTEN`,
    /// `HUDDLE_HUB_DATABASE`, `HUDDLE_HUB_TOKEN_TTL_DAYS`, …, and `HUDDLE_HUB_LIMITS_<KEY>` for
    /// the limits (for example `HUDDLE_HUB_LIMITS_MAX_FRAME_BYTES`).
    /// `HUDDLE_HUB_HIDDEN_CASE_DATA_KEYS` is a comma-separated list.
    pub fn apply_env(
        &mut self,
        vars: impl IntoIterator<Item = (String, String)>,
    ) -> anyhow::Result<()> {
        for (name, value) in vars {
            let Some(key) = name.strip_prefix("HUDDLE_HUB_") else {
                continue;
            };
            let key = key.to_ascii_lowercase();
            let parsed = |what: &str| format!("{name}={value:?} is not a valid {what}");
            let l = &mut self.limits;
            match key.as_str() {
                "listen" => self.listen = value.parse().with_context(|| parsed("address"))?,
                "database" => self.database = PathBuf::from(&value),
                "postgres" => self.postgres = Some(Secret::new(value)),
                "token_ttl_days" => {
                    self.token_ttl_days = value.parse().with_context(|| parsed("number"))?
                }
                "offline_grace_secs" => {
                    self.offline_grace_secs = value.parse().with_context(|| parsed("number"))?
                }
                "node_timeout_secs" => {
                    self.node_timeout_secs = value.parse().with_context(|| parsed("number"))?
                }
                "invite_timeout_secs" => {
                    self.invite_timeout_secs = value.parse().with_context(|| parsed("number"))?
                }
                "event_retention_days" => {
                    self.event_retention_days = value.parse().with_context(|| parsed("number"))?
                }
                "limits_max_frame_bytes" => {
                    l.max_frame_bytes = value.parse().with_context(|| parsed("number"))?
                }
                "limits_max_message_chars" => {
                    l.max_message_chars = value.parse().with_context(|| parsed("number"))?
                }
                "limits_messages_per_second" => {
                    l.messages_per_second = value.parse().with_context(|| parsed("number"))?
                }
                "limits_message_burst" => {
                    l.message_burst = value.parse().with_context(|| parsed("number"))?
                }
                "limits_reads_per_second" => {
                    l.reads_per_second = value.parse().with_context(|| parsed("number"))?
                }
                "limits_read_burst" => {
                    l.read_burst = value.parse().with_context(|| parsed("number"))?
                }
                "limits_max_devices_per_agent" => {
                    l.max_devices_per_agent = value.parse().with_context(|| parsed("number"))?
                }
                "limits_max_replay_events" => {
                    l.max_replay_events = value.parse().with_context(|| parsed("number"))?
                }
                "limits_invitations_per_minute" => {
                    l.invitations_per_minute = value.parse().with_context(|| parsed("number"))?
                }
                "limits_idle_timeout_secs" => {
                    l.idle_timeout_secs = value.parse().with_context(|| parsed("number"))?
                }
                "limits_max_open_sessions" => {
                    l.max_open_sessions = value.parse().with_context(|| parsed("number"))?
                }
                "limits_max_followed" => {
                    l.max_followed = value.parse().with_context(|| parsed("number"))?
                }
                "limits_max_connections" => {
                    l.max_connections = value.parse().with_context(|| parsed("number"))?
                }
                "limits_max_connections_per_address" => {
                    l.max_connections_per_address =
                        value.parse().with_context(|| parsed("number"))?
                }
                "limits_tls_handshake_secs" => {
                    l.tls_handshake_secs = value.parse().with_context(|| parsed("number"))?
                }
                "limits_request_head_secs" => {
                    l.request_head_secs = value.parse().with_context(|| parsed("number"))?
                }
                "limits_sign_in_secs" => {
                    l.sign_in_secs = value.parse().with_context(|| parsed("number"))?
                }
                "limits_password_hashers" => {
                    l.password_hashers = value.parse().with_context(|| parsed("number"))?
                }
                "limits_password_queue" => {
                    l.password_queue = value.parse().with_context(|| parsed("number"))?
                }
                "integration_token" => self.integration_token = Some(Secret::new(value)),
                "tls_certificate" => self.tls_certificate = Some(PathBuf::from(&value)),
                "tls_private_key" => self.tls_private_key = Some(PathBuf::from(&value)),
                "allow_plaintext" => {
                    self.allow_plaintext = value.parse().with_context(|| parsed("true or false"))?
                }
                "hidden_case_data_keys" => {
                    self.hidden_case_data_keys = value
                        .split(',')
                        .map(str::trim)
                        .filter(|k| !k.is_empty())
                        .map(String::from)
                        .collect()
                }
                // Read by the command line itself (`url`: the hub `simulate` talks to).
                "config" | "log" | "log_format" | "url" => {}
                _ => anyhow::bail!("unknown setting {name}"),
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn plain_http_where_other_machines_reach_the_hub_must_be_asked_for() {
        let on = |listen: &str, tls: bool, allow: bool| {
            let mut config = Config {
                listen: listen.parse().unwrap(),
                allow_plaintext: allow,
                ..Config::default()
            };
            if tls {
                config.tls_certificate = Some("cert.pem".into());
                config.tls_private_key = Some("key.pem".into());
            }
            config.check()
        };
        let refused = on("0.0.0.0:7878", false, false).unwrap_err().to_string();
        assert!(refused.contains("unencrypted on 0.0.0.0:7878"), "{refused}");
        assert!(on("10.1.2.3:7878", false, false).is_err());
        assert!(on("127.0.0.1:7878", false, false).is_ok());
        assert!(on("[::1]:7878", false, false).is_ok());
        assert!(on("0.0.0.0:7878", true, false).is_ok());
        assert!(on("0.0.0.0:7878", false, true).is_ok());
        let mut config = Config::default();
        config
            .apply_env([("HUDDLE_HUB_ALLOW_PLAINTEXT".to_string(), "true".to_string())])
            .unwrap();
        assert!(config.allow_plaintext);
    }

    #[test]
    fn the_packaged_sample_config_is_valid_and_says_what_it_means() {
        let sample = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../packaging/huddle-hub.toml"
        );
        let config = Config::from_file(Path::new(sample)).unwrap();
        config.check().unwrap();
        assert_eq!(config.listen.to_string(), "0.0.0.0:7878");
        assert_eq!(config.database, Path::new("/var/lib/huddle-hub/hub.db"));
        assert!(config.is_hidden_key("internal_score"));
        assert_eq!(
            config.tls_files(),
            Some((
                Path::new("/etc/huddle-hub/tls/fullchain.pem"),
                Path::new("/etc/huddle-hub/tls/privkey.pem")
            ))
        );
        // The token is a secret: it belongs in the service's environment file.
        assert!(config.integration_token.is_none());
    }

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
    fn environment_variables_override_the_file() {
        let mut c = Config::from_toml("invite_timeout_secs = 5\n").unwrap();
        c.apply_env([
            (
                "HUDDLE_HUB_INVITE_TIMEOUT_SECS".to_string(),
                "9".to_string(),
            ),
            (
                "HUDDLE_HUB_LIMITS_MAX_MESSAGE_CHARS".to_string(),
                "10".to_string(),
            ),
            ("PATH".to_string(), "/bin".to_string()),
        ])
        .unwrap();
        assert_eq!(c.invite_timeout_secs, 9);
        assert_eq!(c.limits.max_message_chars, 10);
        let e = c
            .apply_env([(
                "HUDDLE_HUB_LIMITS_MAX_MESSAGE_CHARS".to_string(),
                "ten".to_string(),
            )])
            .unwrap_err();
        assert!(
            e.to_string()
                .contains("HUDDLE_HUB_LIMITS_MAX_MESSAGE_CHARS"),
            "{e}"
        );
        assert!(c
            .apply_env([("HUDDLE_HUB_LISTN".to_string(), "x".to_string())])
            .is_err());
    }

    #[test]
    fn the_integration_settings_come_from_the_file_or_the_environment() {
        let c = Config::from_toml(
            "integration_token = \"0123456789abcdef\"\nhidden_case_data_keys = [\"internal_score\"]\n",
        )
        .unwrap();
        assert_eq!(
            c.integration_token.as_ref().map(Secret::expose),
            Some("0123456789abcdef")
        );
        assert!(c.is_hidden_key("Internal_Score"));
        assert!(!c.is_hidden_key("order_id"));
        c.check().unwrap();
        assert!(
            !format!("{c:?}").contains("0123456789abcdef"),
            "the token never shows in debug output"
        );

        let mut c = Config::default();
        c.apply_env([
            (
                "HUDDLE_HUB_INTEGRATION_TOKEN".to_string(),
                "short".to_string(),
            ),
            (
                "HUDDLE_HUB_HIDDEN_CASE_DATA_KEYS".to_string(),
                " internal_score, fraud_flag ,,".to_string(),
            ),
        ])
        .unwrap();
        assert_eq!(c.hidden_case_data_keys, ["internal_score", "fraud_flag"]);
        let e = c.check().unwrap_err().to_string();
        assert!(e.contains("at least 16"), "{e}");
        assert!(!e.contains("short"), "{e}");
    }

    #[test]
    fn tls_needs_both_files() {
        let mut c = Config::from_toml("tls_certificate = \"/etc/huddle-hub/hub.crt\"\n").unwrap();
        let e = c.check().unwrap_err().to_string();
        assert!(e.contains("tls_private_key"), "{e}");
        assert_eq!(c.tls_files(), None);
        c.apply_env([(
            "HUDDLE_HUB_TLS_PRIVATE_KEY".to_string(),
            "/etc/huddle-hub/hub.key".to_string(),
        )])
        .unwrap();
        c.check().unwrap();
        assert_eq!(
            c.tls_files(),
            Some((
                Path::new("/etc/huddle-hub/hub.crt"),
                Path::new("/etc/huddle-hub/hub.key")
            ))
        );
    }

    #[test]
    fn an_unknown_key_is_an_error_not_ignored() {
        let e = Config::from_toml("listn = \"0.0.0.0:9000\"\n").unwrap_err();
        assert!(format!("{e:#}").contains("listn"), "{e:#}");
    }
}
