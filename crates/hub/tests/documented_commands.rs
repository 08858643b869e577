//! Every `huddle-hub` command line the docs show, run as shown: each shell block of the
//! README and of `docs/` that holds one runs in a scratch place of its own, with a hub
//! serving there and the packaged config file where the docs name the installed one. Only
//! the machine's paths and addresses are swapped for scratch ones; the commands, their
//! options and their order are the docs' own. A command the CLI refuses fails the test.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use common::process::{add_agent, self_signed, spawn_serving, HubProcess};

const TOKEN: &str = "documented-commands-token-0123456789";
/// The PostgreSQL database the docs' examples name.
const DOCUMENTED_POSTGRES: &str = "postgres://huddle@db.example.com:5432/huddle";
const PASSWORD: &str = "a-password-from-the-docs";

/// The workspace's root, where the README and `docs/` are.
fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The shell blocks of a Markdown file that run `huddle-hub`, each as its command lines
/// (continued lines joined), with the line number where the block starts.
fn blocks(markdown: &str) -> Vec<(usize, Vec<String>)> {
    let mut found = Vec::new();
    let mut current: Option<(usize, Vec<String>)> = None;
    let mut continued = String::new();
    for (n, line) in markdown.lines().enumerate() {
        match (&mut current, line.trim_end()) {
            (None, "```sh") => current = Some((n + 1, Vec::new())),
            (Some(_), "```") => {
                if let Some((start, lines)) = current.take() {
                    if lines.iter().any(|l| runs_hub(l)) {
                        found.push((start, lines));
                    }
                }
            }
            (Some((_, lines)), text) => {
                if let Some(head) = text.strip_suffix('\\') {
                    continued.push_str(head);
                } else {
                    continued.push_str(text);
                    lines.push(std::mem::take(&mut continued));
                }
            }
            (None, _) => {}
        }
    }
    found
}

/// A line without its trailing comment.
fn command(line: &str) -> &str {
    line.split(" #").next().unwrap_or_default()
}

/// Whether a line runs `huddle-hub` (perhaps fed by `echo … |`).
fn runs_hub(line: &str) -> bool {
    let line = command(line);
    let last = line.rsplit_once(" | ").map_or(line, |(_, after)| after);
    last.trim_start().starts_with("huddle-hub ")
}

/// Whether a line starts the hub serving.
fn serves(line: &str) -> bool {
    runs_hub(line) && command(line).split_whitespace().any(|word| word == "serve")
}

/// A scratch place: its own data directory, config file and certificate.
struct Scratch {
    dir: tempfile::TempDir,
}

impl Scratch {
    fn new() -> Self {
        let scratch = Self {
            dir: tempfile::tempdir().unwrap(),
        };
        for sub in ["data/huddle-hub", "var-lib", "etc/tls", "backups"] {
            std::fs::create_dir_all(scratch.path(sub)).unwrap();
        }
        self_signed(&scratch.path("etc/tls"));
        // The packaged config file, as installed, with this place's paths.
        let packaged = std::fs::read_to_string(root().join("packaging/huddle-hub.toml")).unwrap();
        std::fs::write(scratch.path("etc/hub.toml"), scratch.localize(&packaged)).unwrap();
        scratch
    }

    fn path(&self, relative: &str) -> PathBuf {
        self.dir.path().join(relative)
    }

    /// The default database (in the data directory).
    fn database(&self) -> PathBuf {
        self.path("data/huddle-hub/hub.db")
    }

    /// The docs' machine paths and addresses, swapped for this place's.
    fn localize(&self, text: &str) -> String {
        let at = |p: &str| self.path(p).display().to_string();
        let mut text = text
            .replace("/etc/huddle-hub/hub.toml", &at("etc/hub.toml"))
            .replace("/etc/huddle-hub/tls/fullchain.pem", &at("etc/tls/hub.crt"))
            .replace("/etc/huddle-hub/tls/privkey.pem", &at("etc/tls/hub.key"))
            .replace("/var/lib/huddle-hub/", &(at("var-lib") + "/"))
            .replace("/var/backups/huddle/", &(at("backups") + "/"))
            // Every address, on a free port.
            .replace("0.0.0.0:7878", "0.0.0.0:0")
            // A hub elsewhere on the network: the one serving this place.
            .replace("http://10.0.0.5:7878", "\"$HUDDLE_HUB_URL\"");
        // The docs' PostgreSQL server: a database of this place's own on a throwaway one.
        if text.contains(DOCUMENTED_POSTGRES) {
            let url = common::postgres_for(&self.path("postgres"));
            text = text.replace(DOCUMENTED_POSTGRES, &url);
        }
        // `serve` without an address listens on 127.0.0.1:7878, which may be taken here.
        if serves(&text) && !text.contains("--listen") {
            text = text.replacen(" serve", " serve --listen 127.0.0.1:0", 1);
        }
        text
    }

    /// Serves the default database with the integration API on, as the hub the commands of
    /// a block talk to; `agents` are added first.
    fn serve(&self, agents: &[&str]) -> HubProcess {
        for login in agents {
            add_agent(&self.database(), login);
        }
        let mut command = Command::new(env!("CARGO_BIN_EXE_huddle-hub"));
        command
            .arg("--database")
            .arg(self.database())
            .args(["serve", "--listen", "127.0.0.1:0"])
            .env("HUDDLE_HUB_LOG", "info")
            .env("HUDDLE_HUB_INTEGRATION_TOKEN", TOKEN);
        spawn_serving(command)
    }

    /// Runs a block's lines in `sh -e`, each `huddle-hub` line with its own standard input
    /// (a password, for the commands that ask for one) and `serve` lines until they listen.
    /// Returns the shell's exit status and output.
    fn run(&self, lines: &[String], hub: Option<&HubProcess>) -> (bool, String) {
        let mut script = String::from(SHELL_PRELUDE);
        for line in lines {
            let line = self.localize(line);
            let piped = command(&line).contains(" | ");
            if serves(&line) {
                script.push_str(&format!("serve_until_listening {line}\n"));
            } else if runs_hub(&line) && !piped {
                script.push_str(&format!("printf '%s\\n' \"$PASSWORD\" | {line}\n"));
            } else {
                script.push_str(&line);
                script.push('\n');
            }
        }
        let bin = Path::new(env!("CARGO_BIN_EXE_huddle-hub"))
            .parent()
            .unwrap();
        let path = format!(
            "{}:{}",
            bin.display(),
            std::env::var("PATH").unwrap_or_default()
        );
        let url = hub.map(|h| {
            h.url
                .replace("ws://", "http://")
                .trim_end_matches(huddle_protocol::WS_PATH)
                .to_string()
        });
        let mut command = Command::new("sh");
        command
            .args(["-ec", &script])
            .current_dir(self.dir.path())
            .env("PATH", path)
            .env("HOME", self.dir.path())
            .env("XDG_DATA_HOME", self.path("data"))
            .env("TOKEN", TOKEN)
            .env("PASSWORD", PASSWORD)
            .env("HUDDLE_HUB_LOG", "info")
            .env_remove("HUDDLE_HUB_INTEGRATION_TOKEN")
            .stdin(Stdio::null());
        if let Some(url) = &url {
            command.env("HUDDLE_HUB_URL", url);
        }
        let out = command.output().unwrap();
        let text = format!(
            "{script}\n--- stdout\n{}\n--- stderr\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        (out.status.success(), text)
    }
}

/// `serve_until_listening CMD…`: starts a serving command, waits until it logs the address it
/// listens on, and stops it; fails if it ends or does not listen within 10 seconds.
const SHELL_PRELUDE: &str = r#"
serve_until_listening() {
    log=$(mktemp)
    "$@" 2>"$log" &
    pid=$!
    tries=0
    until grep -q 'addr=' "$log"; do
        if ! kill -0 "$pid" 2>/dev/null; then cat "$log" >&2; return 1; fi
        tries=$((tries + 1))
        if [ "$tries" -gt 200 ]; then cat "$log" >&2; kill "$pid"; return 1; fi
        sleep 0.05
    done
    kill "$pid"
    wait "$pid" || true
    echo "served: $*"
}
"#;

#[test]
fn every_hub_command_line_in_the_docs_runs_as_shown() {
    if common::on_postgres() {
        // Only for SQLite: the pages' commands name the SQLite file (backups, copies), as administrators run them.
        return;
    }
    let mut files = vec![root().join("README.md")];
    let mut docs: Vec<PathBuf> = std::fs::read_dir(root().join("docs"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "md"))
        .collect();
    docs.sort();
    files.extend(docs);

    let mut ran = 0;
    for file in files {
        let markdown = std::fs::read_to_string(&file).unwrap();
        for (start, lines) in blocks(&markdown) {
            let scratch = Scratch::new();
            let starts_hub = lines.iter().any(|l| serves(l));
            let adds_agents = lines.iter().any(|l| l.contains("agent add"));
            // A hub to talk to, except for blocks that start their own; with the agents the
            // block names but does not add.
            let agents: &[&str] = if adds_agents { &[] } else { &["ana", "ben"] };
            let hub = (!starts_hub).then(|| scratch.serve(agents));
            let (ok, output) = scratch.run(&lines, hub.as_ref());
            assert!(
                ok,
                "{}, the block at line {start}, fails:\n{output}",
                file.display()
            );
            ran += lines.iter().filter(|l| runs_hub(l)).count();
        }
    }
    assert!(ran >= 20, "only {ran} documented command lines found");
}
