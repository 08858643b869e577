//! The hub's SQLite database: opening it and bringing its schema up to date, backups,
//! watching whether it can still store changes, and copying it to PostgreSQL.

pub mod copy;
pub mod health;
pub mod listen;
pub mod sql;

use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use anyhow::Context;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{PgPool, SqlitePool};

/// Opens (creating if needed) the database at `path` and applies pending migrations.
///
/// The journal is WAL so readers never wait for the writer, and every commit is synced
/// (`synchronous = FULL`) because the hub acknowledges only what it has committed.
pub async fn open(path: &Path) -> anyhow::Result<SqlitePool> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)
            .with_context(|| format!("cannot create the database folder {}", dir.display()))?;
    }
    let options = SqliteConnectOptions::from_str("sqlite:")?
        .filename(path)
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Full)
        .foreign_keys(true)
        .busy_timeout(Duration::from_secs(5))
        // The pages busy agents' sessions and events touch stay in memory (16 MiB a
        // connection, taken as used); the default 2 MiB sent the writer to the disk for
        // pages it had just written.
        .pragma("cache_size", "-16384")
        .pragma("temp_store", "memory")
        // The writer copies the log into the database itself, after answering a batch
        // (`writer`): SQLite would do it inside the commit that crosses a thousand pages,
        // holding that commit's answers while it writes every page a second time.
        .pragma("wal_autocheckpoint", "0");
    let pool = SqlitePoolOptions::new()
        .max_connections(4)
        .connect_with(options)
        .await
        .with_context(|| format!("cannot open the database {}", path.display()))?;
    sqlx::migrate!("./migrations")
        .run(&pool)
        .await
        .with_context(|| format!("cannot migrate the database {}", path.display()))?;
    Ok(pool)
}

/// Connects to the PostgreSQL database at `url` and applies pending migrations.
pub async fn open_postgres(url: &str) -> anyhow::Result<PgPool> {
    let options = PgConnectOptions::from_str(url)
        .with_context(|| format!("{} is not a PostgreSQL address", copy::redacted(url)))?;
    let pool = PgPoolOptions::new()
        .max_connections(8)
        .connect_with(options)
        .await
        .with_context(|| format!("cannot connect to {}", copy::redacted(url)))?;
    // A node of the previous version may start while a newer one has already brought the
    // schema further (a rolling upgrade): migrations only add, so it serves on it.
    let mut migrations = sqlx::migrate!("./migrations-postgres");
    migrations.set_ignore_missing(true);
    migrations
        .run(&pool)
        .await
        .with_context(|| format!("cannot migrate the database {}", copy::redacted(url)))?;
    Ok(pool)
}

/// The store the configuration names: the PostgreSQL database of `postgres` when it is set,
/// the SQLite file `database` otherwise. Either is brought up to date first.
pub async fn open_configured(config: &crate::config::Config) -> anyhow::Result<sql::Store> {
    Ok(match &config.postgres {
        Some(url) => sql::Store::Postgres(open_postgres(url.expose()).await?),
        None => sql::Store::Sqlite(open(&config.database).await?),
    })
}

/// The name of the history that agents' event numbers in this store belong to.
pub async fn history(db: &sql::Store) -> sqlx::Result<String> {
    db.value(sql::statement!(
        "SELECT value FROM hub_meta WHERE key = 'history'"
    ))
    .await
}

/// Writes a consistent copy of the database at `database` to `target`, while the hub may be
/// serving (SQLite's `VACUUM INTO` reads one snapshot), then checks the copy. Refuses to
/// overwrite an existing file.
///
/// The copy gets a history of its own: once it is restored, the event numbers that clients
/// hold (from the hub as it went on after the backup) are not those of the restored hub,
/// and the hub has them take a snapshot instead of trusting them.
pub async fn backup(database: &Path, target: &Path) -> anyhow::Result<()> {
    if !database.exists() {
        anyhow::bail!("there is no database at {}", database.display());
    }
    if target.exists() {
        anyhow::bail!(
            "{} already exists; give a new file name (a backup never overwrites)",
            target.display()
        );
    }
    let target_name = target
        .to_str()
        .with_context(|| format!("{} is not a UTF-8 path", target.display()))?;
    let source = SqliteConnectOptions::from_str("sqlite:")?
        .filename(database)
        .read_only(true)
        .busy_timeout(Duration::from_secs(30));
    let pool = SqlitePoolOptions::new()
        .max_connections(1)
        .connect_with(source)
        .await
        .with_context(|| format!("cannot open the database {}", database.display()))?;
    let copied = sqlx::query("VACUUM INTO ?")
        .bind(target_name)
        .execute(&pool)
        .await
        .with_context(|| format!("cannot write the backup {}", target.display()));
    pool.close().await;
    copied?;
    // A single file, as a backup should be: no log beside it.
    let copy = SqliteConnectOptions::from_str("sqlite:")?
        .filename(target)
        .journal_mode(SqliteJournalMode::Delete);
    let pool = SqlitePoolOptions::new()
        .max_connections(1)
        .connect_with(copy)
        .await
        .with_context(|| format!("cannot open the backup {}", target.display()))?;
    sqlx::query("UPDATE hub_meta SET value = lower(hex(randomblob(16))) WHERE key = 'history'")
        .execute(&pool)
        .await
        .with_context(|| format!("cannot name the backup's history {}", target.display()))?;
    let check: String = sqlx::query_scalar("PRAGMA quick_check")
        .fetch_one(&pool)
        .await
        .with_context(|| format!("cannot check the backup {}", target.display()))?;
    pool.close().await;
    if check != "ok" {
        anyhow::bail!("the backup {} failed its check: {check}", target.display());
    }
    Ok(())
}

/// Seconds since the Unix epoch.
pub fn now_unix() -> i64 {
    now_millis() / 1000
}

/// Milliseconds since the Unix epoch, the unit of time on the wire.
pub fn now_millis() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

/// The throwaway PostgreSQL server of the tests.
#[cfg(test)]
#[allow(dead_code)]
#[path = "../../tests/common/postgres.rs"]
mod postgres_server;

/// Both stores, each with the hub's schema, for the services' tests: a SQLite file and a
/// throwaway PostgreSQL server, kept while this lives.
#[cfg(test)]
pub(crate) struct TestStores {
    /// SQLite first, then PostgreSQL.
    pub stores: Vec<sql::Store>,
    _server: postgres_server::Postgres,
    _dir: tempfile::TempDir,
}

#[cfg(test)]
pub(crate) async fn test_stores() -> TestStores {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let sqlite = open(&dir.path().join("hub.db"))
        .await
        .expect("a SQLite store");
    let server = tokio::task::spawn_blocking(postgres_server::Postgres::start)
        .await
        .expect("a PostgreSQL server");
    let postgres = open_postgres(&server.database("hub"))
        .await
        .expect("a PostgreSQL store");
    TestStores {
        stores: vec![sql::Store::Sqlite(sqlite), sql::Store::Postgres(postgres)],
        _server: server,
        _dir: dir,
    }
}
