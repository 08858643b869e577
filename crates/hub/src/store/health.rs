//! Whether the hub can store changes: the writer says so after each batch and each probe,
//! and `/healthz` reports it, so that a load balancer or a monitor sees a full disk at once.

use std::path::Path;
use std::sync::Mutex;

/// How much room the database's disk must have again before a hub that could not store
/// changes says it is healthy: a small write may fit in space SQLite reuses while the disk
/// is still full, and the next batch would fail again.
pub const ROOM_TO_RECOVER: u64 = 1 << 20;

/// The bytes free for this process on the disk that holds `file`, where the system says.
#[cfg(unix)]
pub fn free_bytes(file: &Path) -> Option<u64> {
    use std::os::unix::ffi::OsStrExt;
    let dir = file
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let path = std::ffi::CString::new(dir.as_os_str().as_bytes()).ok()?;
    let mut stat = std::mem::MaybeUninit::<libc::statvfs>::uninit();
    // SAFETY: `path` is a NUL-terminated string and `stat` is written by statvfs before it
    // is read, only when it succeeds.
    let stat = unsafe {
        if libc::statvfs(path.as_ptr(), stat.as_mut_ptr()) != 0 {
            return None;
        }
        stat.assume_init()
    };
    // The fields' widths differ between systems (32 bits on some).
    #[allow(clippy::useless_conversion)]
    let (blocks, size) = (u64::from(stat.f_bavail), u64::from(stat.f_frsize));
    Some(blocks.saturating_mul(size))
}

/// The bytes free on the disk that holds `file`: not known on this system.
#[cfg(not(unix))]
pub fn free_bytes(_file: &Path) -> Option<u64> {
    None
}

/// The last thing the writer learnt about storing changes.
#[derive(Default)]
pub struct StoreHealth {
    /// Why the last write failed, while writes fail.
    failing: Mutex<Option<String>>,
}

impl StoreHealth {
    fn lock(&self) -> std::sync::MutexGuard<'_, Option<String>> {
        self.failing.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// A write failed; changes cannot be stored until one succeeds.
    pub fn failed(&self, why: &str) {
        let mut failing = self.lock();
        if failing.is_none() {
            tracing::error!(
                error = why,
                "the hub cannot store changes; it refuses them until it can"
            );
        }
        *failing = Some(why.to_string());
    }

    /// A write succeeded.
    pub fn stored(&self) {
        if self.lock().take().is_some() {
            tracing::info!("the hub stores changes again");
        }
    }

    /// Why writes fail, if they do.
    pub fn failure(&self) -> Option<String> {
        self.lock().clone()
    }
}

/// The bytes free on the store's disk, where the hub can tell: the SQLite file's (at
/// `database`); a PostgreSQL server's disk is its own to watch.
pub fn store_free_bytes(store: &crate::store::sql::Store, database: &Path) -> Option<u64> {
    match store.dialect() {
        crate::store::sql::Dialect::Sqlite => free_bytes(database),
        crate::store::sql::Dialect::Postgres => None,
    }
}

/// Whether the database answers a query at all.
pub async fn reachable(db: &crate::store::sql::Store) -> sqlx::Result<()> {
    db.value::<i64>(crate::store::sql::statement!("SELECT CAST(1 AS BIGINT)"))
        .await
        .map(|_| ())
}
