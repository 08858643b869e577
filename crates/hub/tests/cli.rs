//! The `huddle-hub` command line: provisioning agents and serving.

use std::io::Write;
use std::process::{Command, Output, Stdio};

fn hub(db: &std::path::Path, args: &[&str], stdin: &str) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_huddle-hub"))
        .arg("--database")
        .arg(db)
        .args(args)
        .env("HUDDLE_HUB_LOG", "warn")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn agents_are_added_listed_disabled_and_given_new_passwords() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("sub").join("hub.db");

    let out = hub(
        &db,
        &["agent", "add", "ana", "--name", "Ana Lima"],
        "ana-password\n",
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout), "added ana (Ana Lima)\n");

    let out = hub(
        &db,
        &["agent", "add", "ANA", "--name", "Again"],
        "other-password\n",
    );
    assert!(!out.status.success());
    assert!(
        text(&out.stderr).contains("already exists"),
        "{}",
        text(&out.stderr)
    );

    let out = hub(&db, &["agent", "add", "ben", "--name", "Ben"], "short\n");
    assert!(!out.status.success());
    assert!(
        text(&out.stderr).contains("at least 8 characters"),
        "{}",
        text(&out.stderr)
    );

    let out = hub(&db, &["agent", "disable", "ana"], "");
    assert!(out.status.success(), "{}", text(&out.stderr));
    let out = hub(&db, &["agent", "list"], "");
    assert_eq!(text(&out.stdout), "ana\tAna Lima\tdisabled\tim\n");

    let out = hub(&db, &["agent", "passwd", "ana"], "new-password\n");
    assert!(out.status.success(), "{}", text(&out.stderr));
    let out = hub(&db, &["agent", "passwd", "zoe"], "new-password\n");
    assert!(!out.status.success());
    assert!(
        text(&out.stderr).contains("no agent has the login \"zoe\""),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn a_bad_config_file_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("hub.toml");
    std::fs::write(&config, "listen = \"not an address\"\n").unwrap();
    let out = hub(
        &dir.path().join("hub.db"),
        &["--config", config.to_str().unwrap(), "serve"],
        "",
    );
    assert!(!out.status.success());
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("hub.toml") && stderr.contains("listen"),
        "{stderr}"
    );
}
