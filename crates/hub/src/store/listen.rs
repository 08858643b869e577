//! PostgreSQL's notifications, by which the nodes serving one database tell one another
//! what to read: a notification carries numbers and names only, never what happened (that
//! is in the tables, so a missed notification loses nothing).

use sqlx::postgres::PgListener;
use sqlx::PgPool;

use crate::store::sql::{statement, Statement};

/// The channel every node listens on.
const CHANNEL: &str = "huddle";

/// The longest payload PostgreSQL carries is 8,000 bytes; this leaves room.
pub const MAX_PAYLOAD: usize = 7_000;

/// A connection that listens for the nodes' notifications.
pub struct Listener(PgListener);

impl Listener {
    /// Connects and starts listening.
    pub async fn start(pool: &PgPool) -> sqlx::Result<Self> {
        let mut listener = PgListener::connect_with(pool).await?;
        listener.listen(CHANNEL).await?;
        Ok(Self(listener))
    }

    /// The next notification's payload. `None` says the connection was lost, and
    /// notifications may have been missed meanwhile; the next call connects again.
    pub async fn next(&mut self) -> sqlx::Result<Option<String>> {
        Ok(self.0.try_recv().await?.map(|n| n.payload().to_string()))
    }
}

/// The statement that sends `payload` to every listening node, at the commit of the
/// transaction it runs in (at once outside one).
pub fn notify(payload: String) -> Statement {
    statement!("SELECT pg_notify('huddle', $1)::text", payload)
}
