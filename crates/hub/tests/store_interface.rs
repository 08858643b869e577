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
