//! `huddle-hub store copy`: a hub that has served agents (sessions, messages, events,
//! tokens, favorites, groups, contacts with history, interactions, a voice consultation) is
//! copied from its SQLite file into a throwaway PostgreSQL server, and every row of every
//! table is compared. A second copy into the same database, a missing file and a wrong URL
//! are refused and change nothing.

mod common;

use std::path::Path;
use std::process::Command;

use common::postgres::Postgres;
use common::{connected, hub_with, Client};
use huddle_hub::config::Secret;
use huddle_hub::http_client::HttpClient;
use serde_json::json;
use sqlx::{AssertSqlSafe, Connection, PgConnection, Row, SqliteConnection};

const TOKEN: &str = "store-copy-integration-token-0123";

/// A hub's file after a day of work: returns its path (the hub has stopped).
async fn a_hub_that_served(dir: &Path) -> std::path::PathBuf {
    let hub = hub_with(|c| c.integration_token = Some(Secret::new(TOKEN))).await;
    let api = HttpClient::new(&format!("http://{}", hub.hub.addr)).unwrap();
    let call = |method: &'static str, path: String, body: serde_json::Value| {
        let api = &api;
        async move {
            let (status, answer) = api.json(method, &path, TOKEN, &body).await.unwrap();
            assert!(status < 300, "{method} {path}: {status} {answer}");
        }
    };
    call(
        "PUT",
        "/integration/v1/contacts/c-1".into(),
        json!({"first_name": "Zoë", "last_name": "Lefèvre", "phones": ["+33 1 55 55 01 01"],
               "history": [{"id": "h-1", "at": 1_700_000_000_000_i64, "media": "voice",
                            "subject": "Remboursement", "outcome": "Rappel", "notes": "Très mécontente"}]}),
    )
    .await;
    let mut ana = Client::login(&hub, "ana").await;
    let mut ben = Client::login(&hub, "ben").await;
    call(
        "POST",
        "/integration/v1/interactions".into(),
        json!({"id": "i-1", "agent": "ana", "media": "voice", "contact_id": "c-1",
               "subject": "Where is my order?",
               "case_data": [{"key": "order", "label": "Order", "value": "5521"}]}),
    )
    .await;
    call(
        "PATCH",
        "/integration/v1/interactions/i-1".into(),
        json!({"state": "active"}),
    )
    .await;
    ana.interaction_event("i-1", "active").await;
    connected(&mut ana, &mut ben, "s-1").await;
    for (n, text) in ["Hello Ben", "Can you take a look?\nOrder 5521"]
        .iter()
        .enumerate()
    {
        let sent = ana
            .request(json!({"type": "send", "session_id": "s-1", "message_id": format!("m-{n}"), "text": text}))
            .await;
        assert_eq!(sent["type"], "sent", "{sent}");
    }
    let consult = ana
        .request(
            json!({"type": "invite", "session_id": "s-2", "target": ben.id,
                        "context": {"interaction_id": "i-1"}}),
        )
        .await;
    assert_eq!(consult["type"], "session", "{consult}");
    ben.session_event("s-2", "inviting").await;
    let accepted = ben
        .request(json!({"type": "accept", "session_id": "s-2"}))
        .await;
    assert_eq!(accepted["type"], "ok", "{accepted}");
    let voice = ana
        .request(json!({"type": "start_voice_consultation", "session_id": "s-2"}))
        .await;
    assert_eq!(voice["type"], "voice_consultation", "{voice}");
    let favorite = ana
        .request(json!({"type": "set_favorite", "agent_id": ben.id, "favorite": true}))
        .await;
    assert_eq!(favorite["type"], "ok", "{favorite}");
    hub.hub.stop().await.unwrap();
    let database = hub.dir.path().join("hub.db");
    let kept = dir.join("hub.db");
    std::fs::copy(&database, &kept).unwrap();
    for log in ["hub.db-wal", "hub.db-shm"] {
        if hub.dir.path().join(log).exists() {
            std::fs::copy(hub.dir.path().join(log), dir.join(log)).unwrap();
        }
    }
    // An administrator's groups and account changes.
    let group = huddle_hub_command(&kept, &["group", "set", "Billing", "ben", "cho"]);
    assert!(group.status.success(), "{group:?}");
    let disabled = huddle_hub_command(&kept, &["agent", "disable", "cho"]);
    assert!(disabled.status.success(), "{disabled:?}");
    kept
}

fn huddle_hub_command(database: &Path, args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_huddle-hub"))
        .arg("--database")
        .arg(database)
        .args(args)
        .output()
        .unwrap()
}

/// Every row of every copied table, each value as text (blobs in hex), in a stable order.
type Rows = Vec<(String, Vec<Vec<Option<String>>>)>;

/// A `SELECT` of every row of `table`, each column (named with its type) as `as_text` says,
/// ordered by all of them.
fn every_row_as_text(
    table: &str,
    columns: &[(String, String)],
    as_text: impl Fn(&str, &str) -> String,
) -> String {
    let select: Vec<String> = columns
        .iter()
        .map(|(name, kind)| as_text(name, kind))
        .collect();
    let order: Vec<String> = (1..=columns.len()).map(|n| n.to_string()).collect();
    format!(
        "SELECT {} FROM {table} ORDER BY {}",
        select.join(", "),
        order.join(", ")
    )
}

async fn sqlite_rows(database: &Path) -> Rows {
    let mut db = SqliteConnection::connect(&format!("sqlite:{}", database.display()))
        .await
        .unwrap();
    let tables: Vec<String> = sqlx::query_scalar(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'
           AND name NOT LIKE '_sqlx_%' AND name NOT LIKE '%_fts%' ORDER BY name",
    )
    .fetch_all(&mut db)
    .await
    .unwrap();
    let mut all = Rows::new();
    for table in tables {
        let columns: Vec<(String, String)> =
            sqlx::query_as("SELECT name, upper(type) FROM pragma_table_info(?) ORDER BY name")
                .bind(&table)
                .fetch_all(&mut db)
                .await
                .unwrap();
        let sql = every_row_as_text(&table, &columns, |name, kind| match kind {
            "BLOB" => format!("lower(hex({name}))"),
            _ => format!("CAST({name} AS TEXT)"),
        });
        let rows = sqlx::query(AssertSqlSafe(sql))
            .fetch_all(&mut db)
            .await
            .unwrap();
        let rows = rows
            .iter()
            .map(|r| (0..columns.len()).map(|i| r.get(i)).collect())
            .collect();
        all.push((table, rows));
    }
    all
}

async fn postgres_rows(db: &mut PgConnection) -> Rows {
    let tables: Vec<String> = sqlx::query_scalar(
        "SELECT table_name::text FROM information_schema.tables
          WHERE table_schema = 'public' AND table_name NOT LIKE '_sqlx_%' ORDER BY 1",
    )
    .fetch_all(&mut *db)
    .await
    .unwrap();
    let mut all = Rows::new();
    for table in tables {
        let columns: Vec<(String, String)> = sqlx::query_as(
            "SELECT column_name::text, data_type::text FROM information_schema.columns
              WHERE table_schema = 'public' AND table_name = $1 ORDER BY column_name",
        )
        .bind(&table)
        .fetch_all(&mut *db)
        .await
        .unwrap();
        let sql = every_row_as_text(&table, &columns, |name, kind| match kind {
            "bytea" => format!("encode({name}, 'hex')"),
            _ => format!("{name}::text"),
        });
        let rows = sqlx::query(AssertSqlSafe(sql))
            .fetch_all(&mut *db)
            .await
            .unwrap();
        let rows = rows
            .iter()
            .map(|r| (0..columns.len()).map(|i| r.get(i)).collect())
            .collect();
        all.push((table, rows));
    }
    all
}

#[tokio::test]
async fn a_hub_moves_to_postgres_with_every_row() {
    if common::on_postgres() {
        // Only for SQLite: the copy starts from a hub on a SQLite file.
        return;
    }
    let server = tokio::task::spawn_blocking(Postgres::start).await.unwrap();
    let url = server.database("hub");
    let dir = tempfile::tempdir().unwrap();
    let database = a_hub_that_served(dir.path()).await;
    let source = sqlite_rows(&database).await;
    let count = |table: &str| {
        source
            .iter()
            .find(|(t, _)| t == table)
            .map_or(0, |(_, rows)| rows.len())
    };
    // What the copy has to carry, so that the comparison means something.
    for table in [
        "agents",
        "tokens",
        "favorites",
        "agent_groups",
        "group_members",
        "im_sessions",
        "messages",
        "events",
        "contacts",
        "contact_history",
        "interactions",
        "voice_consultations",
        "account_changes",
        "hub_meta",
    ] {
        assert!(count(table) > 0, "the hub left no row in {table}");
    }

    let copied = huddle_hub_command(
        &database,
        &[
            "store",
            "copy",
            "--from",
            &database.to_string_lossy(),
            "--to",
            &url,
        ],
    );
    let said = String::from_utf8_lossy(&copied.stdout);
    assert!(
        copied.status.success(),
        "{said}{}",
        String::from_utf8_lossy(&copied.stderr)
    );
    assert!(
        said.contains(&format!("messages: {} rows", count("messages"))),
        "{said}"
    );

    let mut db = PgConnection::connect(&url).await.unwrap();
    assert_eq!(postgres_rows(&mut db).await, source);

    // What PostgreSQL numbers itself next comes after the copied rows.
    let next: i64 = sqlx::query_scalar(
        "INSERT INTO agents (login, display_name, password_hash, created_at)
         VALUES ('new', 'New', 'x', 0) RETURNING id",
    )
    .fetch_one(&mut db)
    .await
    .unwrap();
    assert_eq!(next, count("agents") as i64 + 1);
    sqlx::query("DELETE FROM agents WHERE login = 'new'")
        .execute(&mut db)
        .await
        .unwrap();

    // A second copy into a database that holds a hub is refused and changes nothing.
    let again = huddle_hub_command(
        &database,
        &[
            "store",
            "copy",
            "--from",
            &database.to_string_lossy(),
            "--to",
            &url,
        ],
    );
    assert!(!again.status.success());
    let error = String::from_utf8_lossy(&again.stderr);
    assert!(error.contains("already holds a hub"), "{error}");
    assert_eq!(postgres_rows(&mut db).await, source);

    // A file that is not there, and a URL with a password that does not belong in a log.
    let missing = huddle_hub_command(
        &database,
        &["store", "copy", "--from", "/nowhere/hub.db", "--to", &url],
    );
    assert!(String::from_utf8_lossy(&missing.stderr).contains("there is no database at"));
    let wrong = huddle_hub_command(
        &database,
        &[
            "store",
            "copy",
            "--to",
            &format!(
                "postgres://huddle:hunter2@127.0.0.1:{}/nothing",
                server.port
            ),
        ],
    );
    assert!(!wrong.status.success());
    let error = String::from_utf8_lossy(&wrong.stderr);
    assert!(error.contains("cannot connect to"), "{error}");
    assert!(!error.contains("hunter2"), "{error}");
    let check: i64 = sqlx::query_scalar("SELECT count(*) FROM messages")
        .fetch_one(&mut db)
        .await
        .unwrap();
    assert_eq!(check, count("messages") as i64);
}
