//! The real `huddle-hub` binary, started as administrators start it.

use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Child, Command, Stdio};

pub struct HubProcess {
    pub child: Child,
    pub url: String,
    pub log: std::sync::Arc<std::sync::Mutex<String>>,
    /// Signalled at each new log line.
    logged: std::sync::Arc<std::sync::Condvar>,
}

impl HubProcess {
    /// Waits until a log line contains `needle`.
    pub fn wait_for_log(&self, needle: &str) {
        let deadline = std::time::Instant::now() + super::DEADLINE;
        let mut log = self.log.lock().unwrap();
        while !log.contains(needle) {
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            assert!(!left.is_zero(), "no {needle:?} in the log:\n{log}");
            log = self.logged.wait_timeout(log, left).unwrap().0;
        }
    }
}

impl Drop for HubProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub fn hub_command(db: &Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_huddle-hub"));
    if super::on_postgres() {
        c.env("HUDDLE_HUB_POSTGRES", super::postgres_for(db));
    }
    c.arg("--database")
        .arg(db)
        .env("HUDDLE_HUB_LOG", "info")
        // The burst below is faster than an agent types.
        .env("HUDDLE_HUB_LIMITS_MESSAGES_PER_SECOND", "1000")
        .env("HUDDLE_HUB_LIMITS_MESSAGE_BURST", "1000");
    c
}

pub fn add_agent(db: &Path, login: &str) {
    let mut child = hub_command(db)
        .args(["agent", "add", login, "--name", login])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    writeln!(child.stdin.take().unwrap(), "{login}-password").unwrap();
    assert!(child.wait().unwrap().success());
}

/// Starts `huddle-hub serve` on a free port and reads the address it logs.
pub fn serve(db: &Path) -> HubProcess {
    serve_with(db, &[])
}

pub fn serve_with(db: &Path, env: &[(&str, &str)]) -> HubProcess {
    serve_args(db, &[], env)
}

pub fn serve_args(db: &Path, args: &[&str], env: &[(&str, &str)]) -> HubProcess {
    let mut command = hub_command(db);
    command
        .args(["serve", "--listen", "127.0.0.1:0"])
        .args(args)
        .envs(env.iter().copied());
    spawn_serving(command)
}

/// Starts a command that ends in `huddle-hub serve` and reads the address it logs.
pub fn spawn_serving(mut command: Command) -> HubProcess {
    // A test that ends without dropping its hub (a panic elsewhere, a killed test run) must
    // not leave the hub serving: it dies with the thread that started it.
    #[cfg(target_os = "linux")]
    {
        use std::os::unix::process::CommandExt;
        // SAFETY: prctl is async-signal-safe and only sets this child's death signal.
        unsafe {
            command.pre_exec(|| {
                if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL) == 0 {
                    Ok(())
                } else {
                    Err(std::io::Error::last_os_error())
                }
            });
        }
    }
    let mut child = command
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = child.stderr.take().unwrap();
    let (found, addr) = std::sync::mpsc::channel();
    let log = std::sync::Arc::new(std::sync::Mutex::new(String::new()));
    let logged = std::sync::Arc::new(std::sync::Condvar::new());
    let (kept, signal) = (log.clone(), logged.clone());
    // Reads the log until the address shows, and keeps it all (draining the pipe so that
    // the hub never blocks on it).
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if let Ok(mut kept) = kept.lock() {
                kept.push_str(&line);
                kept.push('\n');
            }
            signal.notify_all();
            // `addr=127.0.0.1:1234` in text logs, `"addr":"127.0.0.1:1234"` in JSON ones.
            let after = line
                .split("addr=")
                .nth(1)
                .or_else(|| line.split("\"addr\":\"").nth(1));
            if let Some(rest) = after {
                let addr = rest.split([' ', '"']).next().unwrap_or_default();
                let _ = found.send(addr.to_string());
            }
        }
    });
    let mut hub = HubProcess {
        child,
        url: String::new(),
        log,
        logged,
    };
    // On failure, dropping `hub` ends the process.
    let addr = addr
        .recv_timeout(super::DEADLINE)
        .expect("the hub did not log its address in time");
    hub.url = format!("ws://{addr}/v1/ws");
    hub
}

/// Writes a self-signed certificate for `localhost` (`hub.crt`) and its key (`hub.key`)
/// into `dir`; returns the certificate.
pub fn self_signed(dir: &Path) -> String {
    let key = rcgen::KeyPair::generate().unwrap();
    let cert = rcgen::CertificateParams::new(vec!["localhost".to_string()])
        .unwrap()
        .self_signed(&key)
        .unwrap();
    std::fs::write(dir.join("hub.crt"), cert.pem()).unwrap();
    std::fs::write(dir.join("hub.key"), key.serialize_pem()).unwrap();
    cert.pem()
}
