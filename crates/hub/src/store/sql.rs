//! One way for the services to ask either store: a statement with its arguments, run on a
//! SQLite or a PostgreSQL connection through sqlx. A statement is written once, in the SQL
//! both understand, with numbered parameters (`$1`, `$2`, … in the order they first appear);
//! where the two differ, the caller asks [`Conn::dialect`].

use sqlx::pool::PoolConnection;
use sqlx::postgres::{PgConnection, PgPool, PgRow};
use sqlx::sqlite::{SqliteConnection, SqlitePool, SqliteRow};
use sqlx::{FromRow, Postgres, Sqlite};

/// Which SQL a store speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    /// The embedded SQLite file.
    Sqlite,
    /// A PostgreSQL server.
    Postgres,
}

/// A value bound to a statement's parameter: the store's columns hold integers (flags too),
/// texts and byte strings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Arg {
    /// An integer, or NULL.
    Int(Option<i64>),
    /// A text, or NULL.
    Text(Option<String>),
    /// A byte string.
    Bytes(Vec<u8>),
}

impl From<i64> for Arg {
    fn from(v: i64) -> Self {
        Self::Int(Some(v))
    }
}

impl From<Option<i64>> for Arg {
    fn from(v: Option<i64>) -> Self {
        Self::Int(v)
    }
}

impl From<bool> for Arg {
    fn from(v: bool) -> Self {
        Self::Int(Some(i64::from(v)))
    }
}

impl From<&str> for Arg {
    fn from(v: &str) -> Self {
        Self::Text(Some(v.to_string()))
    }
}

impl From<&String> for Arg {
    fn from(v: &String) -> Self {
        Self::Text(Some(v.clone()))
    }
}

impl From<String> for Arg {
    fn from(v: String) -> Self {
        Self::Text(Some(v))
    }
}

impl From<Option<String>> for Arg {
    fn from(v: Option<String>) -> Self {
        Self::Text(v)
    }
}

impl From<Option<&str>> for Arg {
    fn from(v: Option<&str>) -> Self {
        Self::Text(v.map(str::to_string))
    }
}

impl From<Vec<u8>> for Arg {
    fn from(v: Vec<u8>) -> Self {
        Self::Bytes(v)
    }
}

/// A statement and its arguments, in the order of its numbered parameters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Statement {
    sql: &'static str,
    args: Vec<Arg>,
}

impl Statement {
    /// A statement with these arguments.
    pub fn new(sql: &'static str, args: Vec<Arg>) -> Self {
        Self { sql, args }
    }
}

/// A [`Statement`] from its SQL and arguments: `statement!("… $1 …", value)`.
macro_rules! statement {
    ($sql:expr $(, $arg:expr)* $(,)?) => {
        $crate::store::sql::Statement::new(
            $sql,
            vec![$($crate::store::sql::Arg::from($arg)),*],
        )
    };
}
pub(crate) use statement;

/// A row type that either store can produce (`#[derive(sqlx::FromRow)]`, or a tuple).
pub trait Record:
    for<'r> FromRow<'r, SqliteRow> + for<'r> FromRow<'r, PgRow> + Send + Unpin
{
}

impl<T> Record for T where
    T: for<'r> FromRow<'r, SqliteRow> + for<'r> FromRow<'r, PgRow> + Send + Unpin
{
}

/// Binds a statement's arguments to a query of either store.
macro_rules! bound {
    ($query:expr, $args:expr) => {{
        let mut query = $query;
        for arg in $args {
            query = match arg {
                Arg::Int(v) => query.bind(v),
                Arg::Text(v) => query.bind(v),
                Arg::Bytes(v) => query.bind(v),
            };
        }
        query
    }};
}

/// A connection to either store.
pub enum Conn<'c> {
    /// SQLite.
    Sqlite(&'c mut SqliteConnection),
    /// PostgreSQL.
    Postgres(&'c mut PgConnection),
}

impl Conn<'_> {
    /// The SQL this connection's store speaks.
    pub fn dialect(&self) -> Dialect {
        match self {
            Self::Sqlite(_) => Dialect::Sqlite,
            Self::Postgres(_) => Dialect::Postgres,
        }
    }

    /// Runs a statement; returns how many rows it changed.
    pub async fn execute(&mut self, s: Statement) -> sqlx::Result<u64> {
        Ok(match self {
            Self::Sqlite(c) => bound!(sqlx::query::<Sqlite>(s.sql), s.args)
                .execute(&mut **c)
                .await?
                .rows_affected(),
            Self::Postgres(c) => bound!(sqlx::query::<Postgres>(s.sql), s.args)
                .execute(&mut **c)
                .await?
                .rows_affected(),
        })
    }

    /// The one row a query returns (an error if none).
    pub async fn one<T: Record>(&mut self, s: Statement) -> sqlx::Result<T> {
        match self {
            Self::Sqlite(c) => {
                bound!(sqlx::query_as::<Sqlite, T>(s.sql), s.args)
                    .fetch_one(&mut **c)
                    .await
            }
            Self::Postgres(c) => {
                bound!(sqlx::query_as::<Postgres, T>(s.sql), s.args)
                    .fetch_one(&mut **c)
                    .await
            }
        }
    }

    /// The first row a query returns, if any.
    pub async fn optional<T: Record>(&mut self, s: Statement) -> sqlx::Result<Option<T>> {
        match self {
            Self::Sqlite(c) => {
                bound!(sqlx::query_as::<Sqlite, T>(s.sql), s.args)
                    .fetch_optional(&mut **c)
                    .await
            }
            Self::Postgres(c) => {
                bound!(sqlx::query_as::<Postgres, T>(s.sql), s.args)
                    .fetch_optional(&mut **c)
                    .await
            }
        }
    }

    /// Every row a query returns.
    pub async fn all<T: Record>(&mut self, s: Statement) -> sqlx::Result<Vec<T>> {
        match self {
            Self::Sqlite(c) => {
                bound!(sqlx::query_as::<Sqlite, T>(s.sql), s.args)
                    .fetch_all(&mut **c)
                    .await
            }
            Self::Postgres(c) => {
                bound!(sqlx::query_as::<Postgres, T>(s.sql), s.args)
                    .fetch_all(&mut **c)
                    .await
            }
        }
    }

    /// The single value of the one row a query returns.
    pub async fn value<T>(&mut self, s: Statement) -> sqlx::Result<T>
    where
        (T,): Record,
    {
        self.one::<(T,)>(s).await.map(|(v,)| v)
    }
}

/// The hub's store: a pool of connections to either.
#[derive(Clone, Debug)]
pub enum Store {
    /// The embedded SQLite file.
    Sqlite(SqlitePool),
    /// A PostgreSQL server.
    Postgres(PgPool),
}

impl From<SqlitePool> for Store {
    fn from(pool: SqlitePool) -> Self {
        Self::Sqlite(pool)
    }
}

impl From<PgPool> for Store {
    fn from(pool: PgPool) -> Self {
        Self::Postgres(pool)
    }
}

/// A connection taken from the store's pool, given back when dropped.
pub enum Pooled {
    /// SQLite.
    Sqlite(PoolConnection<Sqlite>),
    /// PostgreSQL.
    Postgres(PoolConnection<Postgres>),
}

impl Pooled {
    /// The connection, to run statements on.
    pub fn conn(&mut self) -> Conn<'_> {
        match self {
            Self::Sqlite(c) => Conn::Sqlite(c),
            Self::Postgres(c) => Conn::Postgres(c),
        }
    }
}

/// A transaction on either store: rolled back when dropped unless committed.
pub enum Tx<'c> {
    /// SQLite.
    Sqlite(sqlx::Transaction<'c, Sqlite>),
    /// PostgreSQL.
    Postgres(sqlx::Transaction<'c, Postgres>),
}

impl Tx<'_> {
    /// The transaction's connection, to run statements on.
    pub fn conn(&mut self) -> Conn<'_> {
        match self {
            Self::Sqlite(t) => Conn::Sqlite(t),
            Self::Postgres(t) => Conn::Postgres(t),
        }
    }

    /// Commits the transaction.
    pub async fn commit(self) -> sqlx::Result<()> {
        match self {
            Self::Sqlite(t) => t.commit().await,
            Self::Postgres(t) => t.commit().await,
        }
    }

    /// Rolls the transaction back.
    pub async fn rollback(self) -> sqlx::Result<()> {
        match self {
            Self::Sqlite(t) => t.rollback().await,
            Self::Postgres(t) => t.rollback().await,
        }
    }
}

/// A connection of its own, outside the pool: the writer's, kept from batch to batch.
pub enum Own {
    /// SQLite.
    Sqlite(SqliteConnection),
    /// PostgreSQL.
    Postgres(PgConnection),
}

impl Own {
    /// The SQL this connection's store speaks.
    pub fn dialect(&self) -> Dialect {
        match self {
            Self::Sqlite(_) => Dialect::Sqlite,
            Self::Postgres(_) => Dialect::Postgres,
        }
    }

    /// The connection, to run statements on.
    pub fn conn(&mut self) -> Conn<'_> {
        match self {
            Self::Sqlite(c) => Conn::Sqlite(c),
            Self::Postgres(c) => Conn::Postgres(c),
        }
    }

    /// Begins a transaction that will write: SQLite takes its write lock at once, so that
    /// the transaction never fails half-way for want of it.
    pub async fn begin_writing(&mut self) -> sqlx::Result<Tx<'_>> {
        use sqlx::Connection;
        Ok(match self {
            Self::Sqlite(c) => Tx::Sqlite(c.begin_with("BEGIN IMMEDIATE").await?),
            Self::Postgres(c) => Tx::Postgres(c.begin().await?),
        })
    }

    /// Closes the connection.
    pub async fn close(self) -> sqlx::Result<()> {
        use sqlx::Connection;
        match self {
            Self::Sqlite(c) => c.close().await,
            Self::Postgres(c) => c.close().await,
        }
    }
}

impl Store {
    /// The SQL this store speaks.
    pub fn dialect(&self) -> Dialect {
        match self {
            Self::Sqlite(_) => Dialect::Sqlite,
            Self::Postgres(_) => Dialect::Postgres,
        }
    }

    /// Opens a connection of its own, with the pool's settings.
    pub async fn connect(&self) -> sqlx::Result<Own> {
        use sqlx::ConnectOptions;
        Ok(match self {
            Self::Sqlite(pool) => Own::Sqlite(pool.connect_options().connect().await?),
            Self::Postgres(pool) => Own::Postgres(pool.connect_options().connect().await?),
        })
    }

    /// Begins a transaction on a connection of the pool.
    pub async fn begin(&self) -> sqlx::Result<Tx<'static>> {
        Ok(match self {
            Self::Sqlite(pool) => Tx::Sqlite(pool.begin().await?),
            Self::Postgres(pool) => Tx::Postgres(pool.begin().await?),
        })
    }

    /// Takes a connection from the pool.
    pub async fn acquire(&self) -> sqlx::Result<Pooled> {
        Ok(match self {
            Self::Sqlite(pool) => Pooled::Sqlite(pool.acquire().await?),
            Self::Postgres(pool) => Pooled::Postgres(pool.acquire().await?),
        })
    }

    /// Runs a statement on a connection of the pool; returns how many rows it changed.
    pub async fn execute(&self, s: Statement) -> sqlx::Result<u64> {
        self.acquire().await?.conn().execute(s).await
    }

    /// The one row a query returns (an error if none).
    pub async fn one<T: Record>(&self, s: Statement) -> sqlx::Result<T> {
        self.acquire().await?.conn().one(s).await
    }

    /// The first row a query returns, if any.
    pub async fn optional<T: Record>(&self, s: Statement) -> sqlx::Result<Option<T>> {
        self.acquire().await?.conn().optional(s).await
    }

    /// Every row a query returns.
    pub async fn all<T: Record>(&self, s: Statement) -> sqlx::Result<Vec<T>> {
        self.acquire().await?.conn().all(s).await
    }

    /// The single value of the one row a query returns.
    pub async fn value<T>(&self, s: Statement) -> sqlx::Result<T>
    where
        (T,): Record,
    {
        self.acquire().await?.conn().value(s).await
    }

    /// Whether the store has been closed (the hub is stopping).
    pub fn is_closed(&self) -> bool {
        match self {
            Self::Sqlite(pool) => pool.is_closed(),
            Self::Postgres(pool) => pool.is_closed(),
        }
    }

    /// Closes every connection.
    pub async fn close(&self) {
        match self {
            Self::Sqlite(pool) => pool.close().await,
            Self::Postgres(pool) => pool.close().await,
        }
    }
}
