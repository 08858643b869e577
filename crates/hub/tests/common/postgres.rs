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
    dir: tempfile::TempDir,
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
    /// Creates a cluster and starts its server, which does not sync its writes to the disk
    /// (a test's data need not survive the machine); returns once it accepts connections.
    pub fn start() -> Self {
        Self::start_with(false)
    }

    /// [`Postgres::start`], with the server syncing every commit to the disk as a real one
    /// does when `durable` (for benchmarks).
    pub fn start_with(durable: bool) -> Self {
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
            "-p {port} -k {} -c listen_addresses=127.0.0.1 -c fsync={}",
            sockets.display(),
            if durable { "on" } else { "off" }
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
            dir,
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
    /// The server's process (the postmaster), whose children serve the connections.
    pub fn pid(&self) -> Option<u32> {
        let pid_file = std::fs::read_to_string(self.data.join("postmaster.pid")).ok()?;
        pid_file.lines().next()?.trim().parse().ok()
    }

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

    /// Stops the server and removes its files, for a server that is never dropped (one
    /// kept for a whole test binary, stopped at exit).
    pub fn stop_and_remove(&self) {
        self.stop();
        let _ = std::fs::remove_dir_all(self.dir.path());
    }
}
