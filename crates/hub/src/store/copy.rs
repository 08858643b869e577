//! Moving a hub's data from its SQLite file to PostgreSQL: every row of every table, as it
//! is, in one PostgreSQL transaction, so that a failed copy leaves the target as it was. The
//! SQLite file is only read, from one snapshot, so the copy may run while the hub serves
//! (what the hub stores after the snapshot is not copied: stop it for the final copy).

use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use anyhow::Context;
use futures_util::TryStreamExt;
use sqlx::postgres::{PgConnectOptions, PgConnection};
use sqlx::sqlite::{SqliteConnectOptions, SqliteConnection, SqliteRow};
use sqlx::{AssertSqlSafe, Connection, Postgres, QueryBuilder, Row};

/// The hub's tables, each after those it refers to, with the columns PostgreSQL numbers
/// itself (an identity) whose sequence must go on after the copied rows.
const TABLES: &[(&str, Option<&str>)] = &[
    ("agents", Some("id")),
    ("tokens", None),
    ("favorites", None),
    ("agent_groups", Some("id")),
    ("group_members", None),
    ("im_sessions", None),
    ("messages", None),
    ("events", None),
    ("contacts", None),
    ("contact_history", Some("entry")),
    ("interactions", None),
    ("voice_consultations", None),
    ("account_changes", Some("seq")),
    ("hub_meta", None),
];

/// Rows inserted by one statement (PostgreSQL takes at most 65,535 parameters).
const ROWS_PER_INSERT: usize = 500;

/// A column's values as SQLite declares them.
#[derive(Clone, Copy)]
enum Kind {
    Integer,
    Text,
    Blob,
}

/// One value read from SQLite, bound as it is for PostgreSQL.
enum Value {
    Integer(Option<i64>),
    Text(Option<String>),
    Blob(Option<Vec<u8>>),
}

/// How many rows of each table were copied.
pub type Copied = Vec<(&'static str, u64)>;

/// Copies the hub at the SQLite file `from` into the PostgreSQL database at `to`, whose
/// schema is created or brought up to date first. Refuses a file whose schema is older than
/// this hub's (start the hub on it once), and a database that already holds a hub.
pub async fn copy(from: &Path, to: &str) -> anyhow::Result<Copied> {
    let mut source = open_source(from).await?;
    let options = PgConnectOptions::from_str(to)
        .with_context(|| format!("{} is not a PostgreSQL URL", redacted(to)))?;
    let mut target = PgConnection::connect_with(&options)
        .await
        .with_context(|| format!("cannot connect to {}", redacted(to)))?;
    sqlx::migrate!("./migrations-postgres")
        .run(&mut target)
        .await
        .with_context(|| format!("cannot create the hub's tables in {}", redacted(to)))?;
    let agents: i64 = sqlx::query_scalar("SELECT count(*) FROM agents")
        .fetch_one(&mut target)
        .await?;
    if agents > 0 {
        anyhow::bail!(
            "{} already holds a hub ({agents} agents); copy into an empty database",
            redacted(to)
        );
    }

    // One snapshot of the file, one transaction in PostgreSQL.
    let mut read = source.begin().await?;
    let mut write = target.begin().await?;
    let mut copied = Vec::with_capacity(TABLES.len());
    for (table, identity) in TABLES {
        let columns = columns(&mut read, table).await?;
        let rows = copy_table(&mut read, &mut write, table, &columns).await?;
        if let Some(column) = identity {
            // The next rows PostgreSQL numbers itself come after the copied ones.
            // Names from TABLES, never from input.
            sqlx::query(AssertSqlSafe(format!(
                "SELECT setval(pg_get_serial_sequence('{table}', '{column}'),
                        coalesce((SELECT max({column}) FROM {table}), 1),
                        (SELECT max({column}) FROM {table}) IS NOT NULL)"
            )))
            .execute(&mut *write)
            .await
            .with_context(|| format!("cannot number the next rows of {table}"))?;
        }
        copied.push((*table, rows));
    }
    write
        .commit()
        .await
        .with_context(|| format!("cannot commit the copy to {}", redacted(to)))?;
    read.rollback().await?;
    Ok(copied)
}

/// The SQLite file, read-only, checked to have this hub's whole schema.
async fn open_source(from: &Path) -> anyhow::Result<SqliteConnection> {
    if !from.is_file() {
        anyhow::bail!("there is no database at {}", from.display());
    }
    let options = SqliteConnectOptions::from_str("sqlite:")?
        .filename(from)
        .read_only(true)
        .busy_timeout(Duration::from_secs(30));
    let mut source = SqliteConnection::connect_with(&options)
        .await
        .with_context(|| format!("cannot open the database {}", from.display()))?;
    let latest = sqlx::migrate!("./migrations")
        .iter()
        .map(|m| m.version)
        .max()
        .unwrap_or(0);
    let applied: Option<i64> =
        sqlx::query_scalar("SELECT max(version) FROM _sqlx_migrations WHERE success")
            .fetch_one(&mut source)
            .await
            .with_context(|| format!("{} is not a hub's database", from.display()))?;
    if applied != Some(latest) {
        anyhow::bail!(
            "{} has an older schema than this hub's; start the hub on it once, then copy",
            from.display()
        );
    }
    Ok(source)
}

/// A table's columns and how SQLite declares them.
async fn columns(
    source: &mut SqliteConnection,
    table: &str,
) -> anyhow::Result<Vec<(String, Kind)>> {
    let rows = sqlx::query("SELECT name, upper(type) AS type FROM pragma_table_info(?)")
        .bind(table)
        .fetch_all(&mut *source)
        .await?;
    rows.iter()
        .map(|row| {
            let name: String = row.get("name");
            // Names go into statements: only those the hub's schema uses are taken.
            if name.is_empty()
                || !name
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
            {
                anyhow::bail!("{table} has a column the hub's schema does not: {name:?}");
            }
            let kind = match row.get::<String, _>("type").as_str() {
                "INTEGER" => Kind::Integer,
                "TEXT" => Kind::Text,
                "BLOB" => Kind::Blob,
                other => anyhow::bail!("{table}.{name} has a type the copy does not know: {other}"),
            };
            Ok((name, kind))
        })
        .collect()
}

/// Copies one table's rows, a few hundred per statement; returns how many.
async fn copy_table(
    source: &mut SqliteConnection,
    target: &mut PgConnection,
    table: &str,
    columns: &[(String, Kind)],
) -> anyhow::Result<u64> {
    let names: Vec<&str> = columns.iter().map(|(name, _)| name.as_str()).collect();
    let list = names.join(", ");
    let select = format!("SELECT {list} FROM {table}");
    // Names from TABLES and checked column names (see `columns`).
    let mut rows = sqlx::query(AssertSqlSafe(select)).fetch(&mut *source);
    let mut batch: Vec<Vec<Value>> = Vec::with_capacity(ROWS_PER_INSERT);
    let mut copied = 0;
    while let Some(row) = rows.try_next().await? {
        batch.push(values(&row, columns)?);
        if batch.len() == ROWS_PER_INSERT {
            copied += insert(target, table, &list, std::mem::take(&mut batch)).await?;
        }
    }
    if !batch.is_empty() {
        copied += insert(target, table, &list, batch).await?;
    }
    Ok(copied)
}

fn values(row: &SqliteRow, columns: &[(String, Kind)]) -> anyhow::Result<Vec<Value>> {
    columns
        .iter()
        .enumerate()
        .map(|(i, (_, kind))| {
            Ok(match kind {
                Kind::Integer => Value::Integer(row.try_get(i)?),
                Kind::Text => Value::Text(row.try_get(i)?),
                Kind::Blob => Value::Blob(row.try_get(i)?),
            })
        })
        .collect()
}

async fn insert(
    target: &mut PgConnection,
    table: &str,
    list: &str,
    rows: Vec<Vec<Value>>,
) -> anyhow::Result<u64> {
    // Identity columns take the copied numbers; the hub's facts replace those a new
    // schema starts with.
    let mut insert: QueryBuilder<Postgres> = QueryBuilder::new(format!(
        "INSERT INTO {table} ({list}) OVERRIDING SYSTEM VALUE "
    ));
    insert.push_values(rows, |mut row, values| {
        for value in values {
            match value {
                Value::Integer(v) => row.push_bind(v),
                Value::Text(v) => row.push_bind(v),
                Value::Blob(v) => row.push_bind(v),
            };
        }
    });
    if table == "hub_meta" {
        insert.push(" ON CONFLICT (key) DO UPDATE SET value = excluded.value");
    }
    let done = insert
        .build()
        .execute(&mut *target)
        .await
        .with_context(|| format!("cannot copy the rows of {table}"))?;
    Ok(done.rows_affected())
}

/// A URL as it may be shown: without its password.
pub(crate) fn redacted(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut parsed) if parsed.password().is_some() => {
            let _ = parsed.set_password(Some("…"));
            parsed.to_string()
        }
        Ok(parsed) => parsed.to_string(),
        Err(_) => "the given URL".to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_never_reach_messages() {
        assert_eq!(
            redacted("postgres://huddle:secret@db:5432/hub"),
            "postgres://huddle:%E2%80%A6@db:5432/hub"
        );
        assert_eq!(redacted("postgres://db/hub"), "postgres://db/hub");
        assert_eq!(redacted("not a url secret"), "the given URL");
    }
}
