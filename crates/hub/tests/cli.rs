//! The `huddle-hub` command line: provisioning agents, serving, and simulating the contact
//! center's systems against a running hub.

mod common;

use std::io::Write;
use std::process::{Command, Output, Stdio};

use common::{hub_with, Client, TestHub};
use huddle_hub::config::Secret;
use serde_json::json;

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

const TOKEN: &str = "cli-integration-token-0123";

async fn integration_hub() -> TestHub {
    hub_with(|c| {
        c.integration_token = Some(Secret::new(TOKEN));
        c.hidden_case_data_keys = vec!["internal_score".into()];
    })
    .await
}

/// Runs `huddle-hub simulate --hub <hub> [--token <token>] <args>`.
async fn simulate(hub: &str, token: Option<&str>, args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut command = tokio::process::Command::new(env!("CARGO_BIN_EXE_huddle-hub"));
    command.args(["simulate", "--hub", hub]);
    if let Some(token) = token {
        command.args(["--token", token]);
    }
    command
        .args(args)
        .env("HUDDLE_HUB_LOG", "warn")
        .env_remove("HUDDLE_HUB_INTEGRATION_TOKEN")
        .envs(env.iter().copied())
        .stdin(Stdio::null())
        .output()
        .await
        .unwrap()
}

#[tokio::test]
async fn the_simulator_seeds_contacts_and_delivers_interactions_to_agents() {
    let hub = integration_hub().await;
    let url = format!("http://{}", hub.hub.addr);
    let mut ana = Client::login(&hub, "ana").await;

    let out = simulate(&url, Some(TOKEN), &["seed-contacts"], &[]).await;
    assert!(out.status.success(), "{}", text(&out.stderr));
    let seeded = text(&out.stdout);
    assert_eq!(seeded.lines().count(), 5, "{seeded}");
    assert!(
        seeded.starts_with("c-1001\tMaria Souza\t4 history entries\n"),
        "{seeded}"
    );

    // The token may come from the environment, as the hub's own setting does.
    let out = simulate(
        &url,
        None,
        &["call", "--agent", "ana"],
        &[("HUDDLE_HUB_INTEGRATION_TOKEN", TOKEN)],
    )
    .await;
    assert!(out.status.success(), "{}", text(&out.stderr));
    let said = text(&out.stdout);
    assert!(
        said.starts_with("delivered sim-") && said.contains("(voice) to ana: "),
        "{said}"
    );
    let id = said.split_whitespace().nth(1).unwrap().to_string();
    let event = ana.interaction_event(&id, "ringing").await;
    let keys: Vec<&str> = event["interaction"]["case_data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["key"].as_str().unwrap())
        .collect();
    assert_eq!(
        keys,
        ["segment", "order_id", "reason", "ivr_path"],
        "the score is hidden"
    );
    let details = ana
        .request(json!({"type": "interaction_details", "interaction_id": id}))
        .await;
    let history = details["details"]["history"].as_array().unwrap();
    assert!((3..=6).contains(&history.len()), "{details}");

    let out = simulate(
        &url,
        Some(TOKEN),
        &["email", "--agent", "ana", "--contact", "c-1003"],
        &[],
    )
    .await;
    assert!(out.status.success(), "{}", text(&out.stderr));
    let said = text(&out.stdout);
    assert!(
        said.contains("(email) to ana: Zoë Lefèvre, \"Item arrived damaged\""),
        "{said}"
    );
    let id = said.split_whitespace().nth(1).unwrap().to_string();
    let event = ana.interaction_event(&id, "active").await;
    assert_eq!(event["interaction"]["contact"]["name"], "Zoë Lefèvre");

    let out = simulate(&url, Some(TOKEN), &["seed-contacts"], &[]).await;
    assert!(
        out.status.success(),
        "seeding again is fine: {}",
        text(&out.stderr)
    );
}

#[tokio::test]
async fn the_simulator_says_what_went_wrong() {
    let hub = integration_hub().await;
    let url = format!("http://{}", hub.hub.addr);
    let cases: [(&str, Option<&str>, &[&str], &str); 6] = [
        (
            &url,
            Some("not-the-token-at-all"),
            &["seed-contacts"],
            "401 unauthorized",
        ),
        (
            &url,
            Some(TOKEN),
            &["chat", "--agent", "zoe"],
            "unknown_agent",
        ),
        (
            &url,
            Some(TOKEN),
            &["chat", "--agent", "ana", "--contact", "c-9"],
            "unknown_contact",
        ),
        (&url, None, &["call", "--agent", "ana"], "integration token"),
        (
            "http://127.0.0.1:1",
            Some(TOKEN),
            &["seed-contacts"],
            "cannot reach the hub",
        ),
        (
            "ftp://hub.example",
            Some(TOKEN),
            &["seed-contacts"],
            "only http:// and https://",
        ),
    ];
    for (hub, token, args, said) in cases {
        let out = simulate(hub, token, args, &[]).await;
        let stderr = text(&out.stderr);
        assert!(!out.status.success(), "{args:?}");
        assert!(stderr.contains(said), "{args:?}: {stderr}");
        assert!(!stderr.contains(TOKEN), "the token never shows: {stderr}");
    }
}
