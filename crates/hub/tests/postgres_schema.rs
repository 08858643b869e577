//! The PostgreSQL schema against a real PostgreSQL server: it applies from nothing, holds
//! the same tables and columns as the SQLite schema (so that a hub's rows can move between
//! them as they are), and searches contact history ignoring case and accents as SQLite's
//! index does.

mod common;

use std::collections::{BTreeMap, BTreeSet};

use common::postgres::Postgres;
use sqlx::{Connection, PgConnection};

type Columns = BTreeMap<String, BTreeSet<String>>;

async fn sqlite_columns() -> Columns {
    let dir = tempfile::tempdir().unwrap();
    let db = huddle_hub::store::open(&dir.path().join("hub.db"))
        .await
        .unwrap();
    let pairs = sqlx::query_as(
        "SELECT m.name, p.name FROM sqlite_master m, pragma_table_info(m.name) p
          WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%'
            AND m.name NOT LIKE '_sqlx_%' AND m.name NOT LIKE '%_fts%'",
    )
    .fetch_all(&db)
    .await
    .unwrap();
    by_table(pairs)
}

/// Each table's columns, from (table, column) pairs.
fn by_table(pairs: Vec<(String, String)>) -> Columns {
    let mut columns = Columns::new();
    for (table, column) in pairs {
        columns.entry(table).or_default().insert(column);
    }
    columns
}

async fn postgres_columns(db: &mut PgConnection) -> Columns {
    let pairs = sqlx::query_as(
        "SELECT table_name::text, column_name::text FROM information_schema.columns
          WHERE table_schema = 'public' AND table_name NOT LIKE '_sqlx_%'",
    )
    .fetch_all(&mut *db)
    .await
    .unwrap();
    by_table(pairs)
}

#[tokio::test]
async fn the_postgres_schema_matches_sqlites_and_searches_alike() {
    let server = tokio::task::spawn_blocking(Postgres::start).await.unwrap();
    let url = server.database("hub");
    let mut db = PgConnection::connect(&url).await.unwrap();
    sqlx::migrate!("./migrations-postgres")
        .run(&mut db)
        .await
        .unwrap();

    assert_eq!(postgres_columns(&mut db).await, sqlite_columns().await);

    let history: String = sqlx::query_scalar("SELECT value FROM hub_meta WHERE key = 'history'")
        .fetch_one(&mut db)
        .await
        .unwrap();
    assert_eq!(history.len(), 32, "{history}");

    sqlx::query(
        "INSERT INTO contacts (id, first_name, last_name, updated_at) VALUES ('c-1', 'Zoë', 'Lefèvre', 0)",
    )
    .execute(&mut db)
    .await
    .unwrap();
    sqlx::query(
        "INSERT INTO contact_history (contact_id, id, at, media, subject, outcome, notes)
         VALUES ('c-1', 'h-1', 0, 'voice', 'Remboursement refusé', 'Rappel', 'Client très mécontent')",
    )
    .execute(&mut db)
    .await
    .unwrap();
    let found: Vec<String> = sqlx::query_scalar(
        "SELECT id FROM contact_history
          WHERE huddle_search_text(subject, outcome, notes)
                @@ plainto_tsquery('simple', public.unaccent($1))",
    )
    .bind("REFUSE mecontent")
    .fetch_all(&mut db)
    .await
    .unwrap();
    assert_eq!(found, ["h-1"]);
    // A JSON column holds arrays only, as in SQLite.
    let refused = sqlx::query("UPDATE contacts SET phones = '{}' WHERE id = 'c-1'")
        .execute(&mut db)
        .await;
    assert!(refused.is_err());
}
