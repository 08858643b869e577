//! Agents' accounts: provisioning by an administrator and checking a login.

use huddle_protocol::AgentProfile;

use crate::services::hashing::{Busy, Hashing};
use crate::services::password;
use crate::store;
use crate::store::sql::{statement, Conn, Dialect, Store};

/// Longest login, in characters.
pub const MAX_LOGIN_CHARS: usize = 64;
/// Longest display name, in characters.
pub const MAX_NAME_CHARS: usize = 100;

/// An agent's account as the administrator sees it.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Account {
    /// The hub's id of the agent.
    pub id: i64,
    /// The login, lowercase.
    pub login: String,
    /// The name shown to people.
    pub display_name: String,
    /// Whether an administrator has disabled the account.
    pub disabled: bool,
    /// Whether the agent may use internal IM at all.
    pub im_enabled: bool,
    /// Whether the agent may start IM sessions (and not only receive them).
    pub can_start_im: bool,
}

impl Account {
    /// The agent as other agents see it.
    pub fn profile(&self) -> AgentProfile {
        AgentProfile {
            id: self.id,
            login: self.login.clone(),
            display_name: self.display_name.clone(),
        }
    }
}

/// Why an administrator's change to accounts was refused.
#[derive(Debug, thiserror::Error)]
pub enum AccountError {
    /// The login does not follow the rules.
    #[error("invalid login {0:?}: use 1 to {MAX_LOGIN_CHARS} characters among a-z, 0-9, '.', '_' and '-', starting with a letter or digit")]
    InvalidLogin(String),
    /// The display name does not follow the rules.
    #[error("invalid display name: {0}")]
    InvalidName(&'static str),
    /// The password does not follow the rules.
    #[error("invalid password: {0}")]
    InvalidPassword(String),
    /// Another agent already has this login.
    #[error("an agent with the login {0:?} already exists")]
    LoginTaken(String),
    /// No agent has this login.
    #[error("no agent has the login {0:?}")]
    NoSuchAgent(String),
    /// The database failed.
    #[error(transparent)]
    Other(#[from] anyhow::Error),
}

impl From<sqlx::Error> for AccountError {
    fn from(e: sqlx::Error) -> Self {
        Self::Other(e.into())
    }
}

/// An update of one agent's row: no row changed means no such agent.
/// Lowercases and checks a login.
pub fn normalize_login(login: &str) -> Result<String, AccountError> {
    // Checked before anything is made of it: a login can be as long as a frame.
    if login.len() > MAX_LOGIN_CHARS * 4 {
        return Err(AccountError::InvalidLogin(format!(
            "{}…",
            login.chars().take(MAX_LOGIN_CHARS).collect::<String>()
        )));
    }
    let login = login.trim().to_lowercase();
    let valid_char = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit() || "._-".contains(c);
    let starts_well = login
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphanumeric());
    if starts_well && login.len() <= MAX_LOGIN_CHARS && login.chars().all(valid_char) {
        Ok(login)
    } else {
        Err(AccountError::InvalidLogin(login))
    }
}

fn check_name(name: &str) -> Result<String, AccountError> {
    let name = name.trim();
    if name.is_empty() {
        return Err(AccountError::InvalidName("it must not be empty"));
    }
    if name.chars().count() > MAX_NAME_CHARS {
        return Err(AccountError::InvalidName(
            "it must have at most 100 characters",
        ));
    }
    if name.chars().any(char::is_control) {
        return Err(AccountError::InvalidName(
            "it must not contain control characters",
        ));
    }
    Ok(name.to_string())
}

/// An [`Account`]'s columns of `agents`; the flags are read as comparisons, which both
/// stores give as booleans.
macro_rules! account_columns {
    () => {
        "id, login, display_name, (disabled <> 0) AS disabled, (im_enabled <> 0) AS im_enabled,
         (can_start_im <> 0) AS can_start_im"
    };
}

/// Creates an agent's account.
pub async fn add(
    db: &Store,
    login: &str,
    display_name: &str,
    password: &str,
) -> Result<Account, AccountError> {
    let login = normalize_login(login)?;
    let display_name = check_name(display_name)?;
    password::check_new(password).map_err(AccountError::InvalidPassword)?;
    let hash = hash_blocking(password).await?;
    let inserted: Option<Account> = db
        .optional(statement!(
            concat!(
                "INSERT INTO agents (login, display_name, password_hash, created_at)
                 VALUES ($1, $2, $3, $4) ON CONFLICT (login) DO NOTHING RETURNING ",
                account_columns!()
            ),
            &login,
            display_name,
            hash,
            store::now_unix(),
        ))
        .await?;
    inserted.ok_or(AccountError::LoginTaken(login))
}

/// Every account, by login.
pub async fn list(db: &Store) -> Result<Vec<Account>, AccountError> {
    Ok(db
        .all(statement!(concat!(
            "SELECT ",
            account_columns!(),
            " FROM agents ORDER BY login"
        )))
        .await?)
}

/// Disables or re-enables an account. Disabling revokes the agent's sessions: a serving hub
/// closes their connections within a second, and their tokens no longer resume.
pub async fn set_disabled(db: &Store, login: &str, disabled: bool) -> Result<(), AccountError> {
    let login = normalize_login(login)?;
    let mut tx = db.begin().await?;
    let id: Option<(i64,)> = tx
        .conn()
        .optional(statement!(
            "UPDATE agents SET disabled = $1 WHERE login = $2 RETURNING id",
            disabled,
            &login,
        ))
        .await?;
    let (id,) = id.ok_or(AccountError::NoSuchAgent(login))?;
    changed(&mut tx.conn(), id, disabled).await?;
    tx.commit().await?;
    Ok(())
}

/// Sets whether an agent may use internal IM, and whether they may start IMs. A serving hub
/// closes the agent's connections within a second: taken off IM, their sessions are revoked;
/// otherwise their apps sign in again by themselves, with the new rights.
pub async fn set_im_permissions(
    db: &Store,
    login: &str,
    im_enabled: Option<bool>,
    can_start_im: Option<bool>,
) -> Result<(), AccountError> {
    let login = normalize_login(login)?;
    let mut tx = db.begin().await?;
    let id: Option<(i64,)> = tx
        .conn()
        .optional(statement!(
            "UPDATE agents SET im_enabled = coalesce($1, im_enabled),
                    can_start_im = coalesce($2, can_start_im)
              WHERE login = $3 RETURNING id",
            im_enabled.map(i64::from),
            can_start_im.map(i64::from),
            &login,
        ))
        .await?;
    let (id,) = id.ok_or(AccountError::NoSuchAgent(login))?;
    changed(&mut tx.conn(), id, im_enabled == Some(false)).await?;
    tx.commit().await?;
    Ok(())
}

/// Ends every session of an agent: a serving hub closes their connections within a second,
/// and their tokens no longer resume (their password still signs them in).
pub async fn revoke(db: &Store, login: &str) -> Result<(), AccountError> {
    let login = normalize_login(login)?;
    let mut tx = db.begin().await?;
    let id: Option<(i64,)> = tx
        .conn()
        .optional(statement!("SELECT id FROM agents WHERE login = $1", &login))
        .await?;
    let (id,) = id.ok_or(AccountError::NoSuchAgent(login))?;
    changed(&mut tx.conn(), id, true).await?;
    tx.commit().await?;
    Ok(())
}

/// Records that an account changed, for a serving hub to act on; with `revoke_sessions`,
/// its tokens go too.
async fn changed(db: &mut Conn<'_>, agent_id: i64, revoke_sessions: bool) -> sqlx::Result<()> {
    if revoke_sessions {
        db.execute(statement!(
            "DELETE FROM tokens WHERE agent_id = $1",
            agent_id
        ))
        .await?;
    }
    db.execute(statement!(
        "INSERT INTO account_changes (agent_id, at) VALUES ($1, $2)",
        agent_id,
        store::now_millis(),
    ))
    .await?;
    Ok(())
}

/// The agents whose accounts changed after change number `after`, each with the number of
/// its latest change, and the last number.
pub async fn changes_after(db: &Store, after: i64) -> sqlx::Result<(Vec<(i64, i64)>, i64)> {
    let rows: Vec<(i64, i64)> = db
        .all(statement!(
            "SELECT seq, agent_id FROM account_changes WHERE seq > $1 ORDER BY seq LIMIT 1000",
            after
        ))
        .await?;
    let last = rows.last().map_or(after, |r| r.0);
    // In order of number: each agent keeps its latest.
    let agents: std::collections::BTreeMap<i64, i64> = rows
        .into_iter()
        .map(|(seq, agent_id)| (agent_id, seq))
        .collect();
    Ok((agents.into_iter().collect(), last))
}

/// The number of the last account change.
pub async fn last_change(db: &Store) -> sqlx::Result<i64> {
    db.value(statement!(
        "SELECT coalesce(max(seq), 0) FROM account_changes"
    ))
    .await
}

/// Creates a group or replaces its members.
pub async fn set_group(db: &Store, name: &str, members: &[String]) -> Result<(), AccountError> {
    let name = check_name(name)?;
    let mut tx = db.begin().await?;
    let mut conn = tx.conn();
    let id: i64 = conn
        .value(statement!(
            "INSERT INTO agent_groups (name) VALUES ($1)
             ON CONFLICT (name) DO UPDATE SET name = excluded.name RETURNING id",
            &name
        ))
        .await?;
    conn.execute(statement!(
        "DELETE FROM group_members WHERE group_id = $1",
        id
    ))
    .await?;
    for member in members {
        let login = normalize_login(member)?;
        let added = conn
            .execute(statement!(
                "INSERT INTO group_members (group_id, agent_id) SELECT $1, id FROM agents WHERE login = $2",
                id,
                &login,
            ))
            .await?;
        if added == 0 {
            return Err(AccountError::NoSuchAgent(login));
        }
    }
    tx.commit().await?;
    Ok(())
}

/// Every group with its members' logins.
pub async fn groups(db: &Store) -> Result<Vec<(String, Vec<String>)>, AccountError> {
    let query = match db.dialect() {
        Dialect::Sqlite => statement!(
            "SELECT g.name, group_concat(a.login, ',') FROM agent_groups g
               LEFT JOIN group_members m ON m.group_id = g.id LEFT JOIN agents a ON a.id = m.agent_id
              GROUP BY g.id ORDER BY g.name"
        ),
        Dialect::Postgres => statement!(
            "SELECT g.name, string_agg(a.login, ',') FROM agent_groups g
               LEFT JOIN group_members m ON m.group_id = g.id LEFT JOIN agents a ON a.id = m.agent_id
              GROUP BY g.id, g.name ORDER BY g.name"
        ),
    };
    let rows: Vec<(String, Option<String>)> = db.all(query).await?;
    Ok(rows
        .into_iter()
        .map(|(name, logins)| {
            let members = logins
                .map(|l| l.split(',').map(String::from).collect())
                .unwrap_or_default();
            (name, members)
        })
        .collect())
}

/// The account with this id.
pub async fn by_id(db: &Store, id: i64) -> sqlx::Result<Option<Account>> {
    db.optional(statement!(
        concat!("SELECT ", account_columns!(), " FROM agents WHERE id = $1"),
        id
    ))
    .await
}

/// Sets a new password.
pub async fn set_password(db: &Store, login: &str, password: &str) -> Result<(), AccountError> {
    let login = normalize_login(login)?;
    password::check_new(password).map_err(AccountError::InvalidPassword)?;
    let hash = hash_blocking(password).await?;
    let mut tx = db.begin().await?;
    let id: Option<(i64,)> = tx
        .conn()
        .optional(statement!(
            "UPDATE agents SET password_hash = $1 WHERE login = $2 RETURNING id",
            hash,
            &login,
        ))
        .await?;
    let (id,) = id.ok_or(AccountError::NoSuchAgent(login))?;
    // Whoever had the old password may hold a token from it.
    changed(&mut tx.conn(), id, true).await?;
    tx.commit().await?;
    Ok(())
}

/// The outcome of a login attempt.
#[derive(Debug, PartialEq, Eq)]
pub enum LoginCheck {
    /// The password matches an enabled account.
    Ok(Account),
    /// The login is unknown or the password does not match: which of the two is not told.
    Refused,
    /// The password matches but the account is disabled.
    Disabled,
    /// The password matches but the account may not use internal IM.
    ImNotPermitted,
}

/// An account with its stored password hash.
#[derive(sqlx::FromRow)]
struct Credentials {
    password_hash: String,
    #[sqlx(flatten)]
    account: Account,
}

/// Checks a login and password on the hub's hashing workers (refused with [`Busy`] when
/// they are all taken and their queue is full). An unknown login costs a hash too, so the
/// answer takes as long as for a real one. The disabled state is only revealed to someone
/// who knows the password.
pub async fn check_login(
    db: &Store,
    hashing: &Hashing,
    login: &str,
    password: &str,
) -> anyhow::Result<Result<LoginCheck, Busy>> {
    let Ok(login) = normalize_login(login) else {
        return Ok(Ok(LoginCheck::Refused));
    };
    if password.len() > password::MAX_PASSWORD_BYTES {
        return Ok(Ok(LoginCheck::Refused));
    }
    let found: Option<Credentials> = db
        .optional(statement!(
            concat!(
                "SELECT password_hash, ",
                account_columns!(),
                " FROM agents WHERE login = $1"
            ),
            &login
        ))
        .await?;
    let hash = found.as_ref().map(|c| c.password_hash.as_str());
    let matches = match hashing.verify(password, hash).await {
        Ok(matches) => matches,
        Err(busy) => return Ok(Err(busy)),
    };
    let account = match found {
        Some(found) if matches => found.account,
        _ => return Ok(Ok(LoginCheck::Refused)),
    };
    Ok(Ok(if account.disabled {
        LoginCheck::Disabled
    } else if !account.im_enabled {
        LoginCheck::ImNotPermitted
    } else {
        LoginCheck::Ok(account)
    }))
}

async fn hash_blocking(password: &str) -> anyhow::Result<String> {
    let password = password.to_owned();
    tokio::task::spawn_blocking(move || password::hash(&password)).await?
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn db() -> (tempfile::TempDir, Store) {
        let dir = tempfile::tempdir().unwrap();
        let pool = store::open(&dir.path().join("hub.db")).await.unwrap();
        (dir, Store::Sqlite(pool))
    }

    #[test]
    fn logins_are_lowercased_and_checked() {
        assert_eq!(normalize_login(" Ana.Lima ").unwrap(), "ana.lima");
        for bad in ["", ".ana", "ana lima", "ana@x", "ânå", &"a".repeat(65)] {
            assert!(normalize_login(bad).is_err(), "{bad:?}");
        }
    }

    #[tokio::test]
    async fn add_list_disable_and_change_password() {
        let hashing = Hashing::start(1, 8).unwrap();
        let (_dir, db) = db().await;
        let ana = add(&db, "Ana", "Ana Lima", "password-1").await.unwrap();
        assert_eq!(ana.login, "ana");
        assert!(matches!(
            add(&db, "ANA", "Other", "password-2").await,
            Err(AccountError::LoginTaken(_))
        ));
        assert!(matches!(
            add(&db, "bob", "  ", "password-2").await,
            Err(AccountError::InvalidName(_))
        ));
        assert!(matches!(
            add(&db, "bob", "Bob", "short").await,
            Err(AccountError::InvalidPassword(_))
        ));
        assert_eq!(list(&db).await.unwrap(), vec![ana.clone()]);

        assert_eq!(
            check_login(&db, &hashing, "ana", "password-1")
                .await
                .unwrap()
                .unwrap(),
            LoginCheck::Ok(ana)
        );
        assert_eq!(
            check_login(&db, &hashing, "ana", "password-x")
                .await
                .unwrap()
                .unwrap(),
            LoginCheck::Refused
        );
        assert_eq!(
            check_login(&db, &hashing, "zoe", "password-1")
                .await
                .unwrap()
                .unwrap(),
            LoginCheck::Refused
        );
        assert_eq!(
            check_login(&db, &hashing, &"z".repeat(60_000), "password-1")
                .await
                .unwrap()
                .unwrap(),
            LoginCheck::Refused
        );

        set_disabled(&db, "ana", true).await.unwrap();
        assert_eq!(
            check_login(&db, &hashing, "ana", "password-1")
                .await
                .unwrap()
                .unwrap(),
            LoginCheck::Disabled
        );
        assert_eq!(
            check_login(&db, &hashing, "ana", "password-x")
                .await
                .unwrap()
                .unwrap(),
            LoginCheck::Refused
        );
        set_disabled(&db, "ana", false).await.unwrap();

        set_im_permissions(&db, "ana", Some(false), None)
            .await
            .unwrap();
        assert_eq!(
            check_login(&db, &hashing, "ana", "password-1")
                .await
                .unwrap()
                .unwrap(),
            LoginCheck::ImNotPermitted
        );
        set_im_permissions(&db, "ana", Some(true), Some(false))
            .await
            .unwrap();
        match check_login(&db, &hashing, "ana", "password-1")
            .await
            .unwrap()
            .unwrap()
        {
            LoginCheck::Ok(a) => assert!(a.im_enabled && !a.can_start_im),
            other => panic!("{other:?}"),
        }

        set_password(&db, "ana", "password-2").await.unwrap();
        assert_eq!(
            check_login(&db, &hashing, "ana", "password-1")
                .await
                .unwrap()
                .unwrap(),
            LoginCheck::Refused
        );
        assert!(matches!(
            check_login(&db, &hashing, "ana", "password-2")
                .await
                .unwrap()
                .unwrap(),
            LoginCheck::Ok(_)
        ));
        assert!(matches!(
            set_password(&db, "zoe", "password-2").await,
            Err(AccountError::NoSuchAgent(_))
        ));
    }
}
