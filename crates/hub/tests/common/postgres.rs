//! A throwaway PostgreSQL server from the system's packages, started and stopped by the test
//! itself: a cluster of its own in a temporary folder, on a free loopback port, with trust
//! authentication for its one user. PostgreSQL will not run as root; under root the cluster
//! belongs to `nobody` instead.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// A running cluster; dropping it stops the server and removes its files.
pub struct Postgres {
    bin: PathBuf,
    data: PathBuf,
    /// Where the server listens: `postgres://huddle@127.0.0.1:PORT/`.
    pub port: u16,
    owner: Option<&'static str>,
    _dir: tempfile::TempDir,
}

/// The newest `bin` folder of the installed PostgreSQL versions (Debian keeps each under
/// /usr/lib/postgresql/VERSION), or one given by `HUDDLE_PG_BIN`.
fn bin() -> PathBuf {
    if let Some(bin) = std::env::var_os("HUDDLE_PG_BIN") {
        return PathBuf::from(bin);
    }
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .expect("PostgreSQL is not installed (scripts/deps.sh installs it)")
        .flatten()
        .filter_map(|e| {
            let version = e.file_name().to_str()?.parse().ok()?;
            Some((version, e.path().join("bin")))
        })
        .filter(|(_, bin)| bin.join("initdb").exists())
        .collect();
    versions.sort();
    versions
        .pop()
        .map(|(_, bin)| bin)
        .expect("no PostgreSQL version with initdb under /usr/lib/postgresql")
}

fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("a free port");
    listener.local_addr().expect("its address").port()
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}

/// Runs a PostgreSQL tool as the cluster's owner.
fn run(owner: Option<&str>, program: &Path, args: &[&str]) -> Output {
    let mut command = match owner {
        Some(user) => {
            let mut c = Command::new("runuser");
            c.args(["-u", user, "--"]).arg(program);
            c
        }
        None => Command::new(program),
    };
    let output = command
        .args(args)
        .output()
        .expect("cannot run a PostgreSQL tool");
    assert!(
        output.status.success(),
        "{} {args:?} failed: {}{}",
        program.display(),
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    output
}

impl Postgres {
    /// Creates a cluster and starts its server; returns once it accepts connections.
    pub fn start() -> Self {
        let bin = bin();
        let owner = is_root().then_some("nobody");
        let dir = tempfile::tempdir().expect("a temporary folder");
        let data = dir.path().join("data");
        let sockets = dir.path().join("sockets");
        std::fs::create_dir(&sockets).expect("the socket folder");
        if let Some(user) = owner {
            // The cluster's owner must reach its files through the temporary folder.
            let chown = Command::new("chown")
                .args(["-R", user])
                .arg(dir.path())
                .status()
                .expect("chown");
            assert!(chown.success());
        }
        let data_arg = data.to_string_lossy().to_string();
        run(
            owner,
            &bin.join("initdb"),
            &[
                "-D",
                &data_arg,
                "-U",
                "huddle",
                "-A",
                "trust",
                "-E",
                "UTF8",
                "--no-sync",
            ],
        );
        let port = free_port();
        let options = format!(
            "-p {port} -k {} -c listen_addresses=127.0.0.1 -c fsync=off",
            sockets.display()
        );
        let log = dir.path().join("server.log").to_string_lossy().to_string();
        run(
            owner,
            &bin.join("pg_ctl"),
            &["-D", &data_arg, "-l", &log, "-o", &options, "-w", "start"],
        );
        Self {
            bin,
            data,
            port,
            owner,
            _dir: dir,
        }
    }

    /// A URL for a database of this cluster.
    pub fn url(&self, database: &str) -> String {
        format!("postgres://huddle@127.0.0.1:{}/{database}", self.port)
    }

    /// Creates a database and returns its URL.
    pub fn database(&self, name: &str) -> String {
        run(
            self.owner,
            &self.bin.join("createdb"),
            &[
                "-h",
                "127.0.0.1",
                "-p",
                &self.port.to_string(),
                "-U",
                "huddle",
                name,
            ],
        );
        self.url(name)
    }
}

impl Drop for Postgres {
    fn drop(&mut self) {
        self.stop();
    }
}

impl Postgres {
    /// Stops the server at once.
    pub fn stop(&self) {
        let data = self.data.to_string_lossy().to_string();
        let mut command = match self.owner {
            Some(user) => {
                let mut c = Command::new("runuser");
                c.args(["-u", user, "--"]).arg(self.bin.join("pg_ctl"));
                c
            }
            None => Command::new(self.bin.join("pg_ctl")),
        };
        // Immediate: nothing of a throwaway cluster needs to reach its disk.
        let _ = command
            .args(["-D", &data, "-m", "immediate", "stop"])
            .output();
    }
}
