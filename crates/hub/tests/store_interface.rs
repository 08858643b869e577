//! The store interface on both stores, a SQLite file and a real PostgreSQL server: the same
//! statements, written once, give the same answers.

mod common;

use common::postgres::Postgres;
use huddle_hub::store::sql::{Arg, Dialect, Statement, Store};
use huddle_hub::tokens;

/// Both stores, with the hub's schema, and the server that holds the PostgreSQL one.
async fn both() -> (Vec<Store>, Postgres, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let sqlite = huddle_hub::store::open(&dir.path().join("hub.db"))
        .await
        .unwrap();
    let server = tokio::task::spawn_blocking(Postgres::start).await.unwrap();
    let postgres = huddle_hub::store::open_postgres(&server.database("hub"))
        .await
        .unwrap();
    (
        vec![Store::Sqlite(sqlite), Store::Postgres(postgres)],
        server,
        dir,
    )
}

/// An agent, added as the command line would.
async fn agent(store: &Store, login: &str) -> i64 {
    store
        .value(Statement::new(
            "INSERT INTO agents (login, display_name, password_hash, created_at)
             VALUES ($1, $2, $3, $4) RETURNING id",
            vec![
                Arg::from(login),
                Arg::from(format!("Agent {login}")),
                Arg::from("unusable"),
                Arg::from(0_i64),
            ],
        ))
        .await
        .unwrap()
}

#[tokio::test]
async fn tokens_work_alike_on_both_stores() {
    let (stores, _server, _dir) = both().await;
    assert_eq!(
        stores.iter().map(Store::dialect).collect::<Vec<_>>(),
        [Dialect::Sqlite, Dialect::Postgres]
    );
    for store in &stores {
        let ana = agent(store, "ana").await;
        let issued = tokens::issue(store, ana, 30).await.unwrap();
        let (agent_id, expires_at) = tokens::check(store, &issued.token)
            .await
            .unwrap()
            .unwrap_or_else(|| panic!("{:?}: the token was not found", store.dialect()));
        assert_eq!((agent_id, expires_at), (ana, issued.expires_at));
        assert_eq!(tokens::check(store, "forged").await.unwrap(), None);
        tokens::revoke(store, &issued.token).await.unwrap();
        assert_eq!(tokens::check(store, &issued.token).await.unwrap(), None);
        let expired = tokens::issue(store, ana, 0).await.unwrap();
        assert_eq!(tokens::check(store, &expired.token).await.unwrap(), None);
        assert_eq!(
            tokens::prune(store).await.unwrap(),
            1,
            "{:?}",
            store.dialect()
        );
    }
}

#[tokio::test]
async fn rows_read_alike_on_both_stores_nulls_and_bytes_included() {
    let (stores, _server, _dir) = both().await;
    for store in &stores {
        let ben = agent(store, "ben").await;
        let hash = vec![0_u8, 255, 7];
        let changed = store
            .execute(Statement::new(
                "INSERT INTO tokens (hash, agent_id, created_at, expires_at) VALUES ($1, $2, $3, $4)",
                vec![Arg::from(hash.clone()), Arg::from(ben), Arg::from(1_i64), Arg::from(2_i64)],
            ))
            .await
            .unwrap();
        assert_eq!(changed, 1);
        let row: (Vec<u8>, i64, String) = store
            .one(Statement::new(
                "SELECT t.hash, t.expires_at, a.login FROM tokens t JOIN agents a ON a.id = t.agent_id
                  WHERE t.agent_id = $1",
                vec![Arg::from(ben)],
            ))
            .await
            .unwrap();
        assert_eq!(row, (hash, 2, "ben".to_string()));
        let missing: Option<(i64,)> = store
            .optional(Statement::new(
                "SELECT id FROM agents WHERE login = $1",
                vec![Arg::from(None::<String>)],
            ))
            .await
            .unwrap();
        assert_eq!(missing, None, "{:?}: NULL equals nothing", store.dialect());
        let logins: Vec<(String,)> = store
            .all(Statement::new(
                "SELECT login FROM agents WHERE id >= $1 ORDER BY login",
                vec![Arg::from(0_i64)],
            ))
            .await
            .unwrap();
        assert_eq!(logins, [("ben".to_string(),)]);
    }
}

#[tokio::test]
async fn accounts_and_groups_work_alike_on_both_stores() {
    use huddle_hub::accounts;
    let (stores, _server, _dir) = both().await;
    for store in &stores {
        let d = store.dialect();
        let ana = accounts::add(store, "Ana", "Ana Lima", "password-1")
            .await
            .unwrap();
        let ben = accounts::add(store, "ben", "Ben Okafor", "password-2")
            .await
            .unwrap();
        assert!(!ana.disabled && ana.im_enabled && ana.can_start_im, "{d:?}");
        assert!(matches!(
            accounts::add(store, "ANA", "Other", "password-3").await,
            Err(accounts::AccountError::LoginTaken(_))
        ));
        let before = accounts::last_change(store).await.unwrap();
        accounts::set_disabled(store, "ana", true).await.unwrap();
        accounts::set_im_permissions(store, "ben", None, Some(false))
            .await
            .unwrap();
        let listed = accounts::list(store).await.unwrap();
        assert_eq!(
            listed
                .iter()
                .map(|a| (a.login.as_str(), a.disabled, a.im_enabled, a.can_start_im))
                .collect::<Vec<_>>(),
            [("ana", true, true, true), ("ben", false, true, false)],
            "{d:?}"
        );
        let (changed, last) = accounts::changes_after(store, before).await.unwrap();
        assert_eq!(
            changed.iter().map(|c| c.0).collect::<Vec<_>>(),
            [ana.id, ben.id],
            "{d:?}"
        );
        assert_eq!(last, accounts::last_change(store).await.unwrap());
        accounts::set_group(store, "Billing", &["ben".into(), "ana".into()])
            .await
            .unwrap();
        accounts::set_group(store, "Empty", &[]).await.unwrap();
        let mut groups = accounts::groups(store).await.unwrap();
        groups[0].1.sort();
        assert_eq!(
            groups,
            [
                (
                    "Billing".to_string(),
                    vec!["ana".to_string(), "ben".to_string()]
                ),
                ("Empty".to_string(), Vec::new())
            ],
            "{d:?}"
        );
        assert!(matches!(
            accounts::set_group(store, "Ghosts", &["nobody".into()]).await,
            Err(accounts::AccountError::NoSuchAgent(_))
        ));
        assert_eq!(
            accounts::by_id(store, ben.id)
                .await
                .unwrap()
                .map(|a| a.login),
            Some("ben".to_string())
        );
    }
}
