//! An administrator's changes to an account act at once on the agent's live connections,
//! made from another process (the command line) while the hub serves: disabling, taking IM
//! away, changing the password and revoking end the agent's devices and sessions; taking
//! away the right to start IMs restricts them.

mod common;

use common::{connected, hub, invite, Client, TestHub};
use huddle_hub::accounts;
use serde_json::json;

/// The hub's database, opened beside the serving hub as the command line does.
async fn admin(hub: &TestHub) -> huddle_hub::store::sql::Store {
    hub.store().await
}

/// A new connection's answer to resuming with `token`.
async fn resume(hub: &TestHub, token: &str) -> serde_json::Value {
    let mut c = Client::connect(&hub.hub.ws_url()).await;
    c.request(json!({"type": "resume", "token": token, "last_seq": 0}))
        .await
}

/// A new connection's answer to logging in.
async fn login(hub: &TestHub, login: &str, password: &str) -> serde_json::Value {
    let mut c = Client::connect(&hub.hub.ws_url()).await;
    c.request(json!({"type": "login", "login": login, "password": password}))
        .await
}

#[tokio::test]
async fn disabling_an_agent_ends_their_devices_and_sessions_at_once() {
    let hub = hub().await;
    let mut ana = Client::login(&hub, "ana").await;
    let mut laptop = Client::login(&hub, "ana").await;
    let mut ben = Client::login(&hub, "ben").await;
    connected(&mut ana, &mut ben, "s-1").await;
    let db = admin(&hub).await;
    accounts::set_disabled(&db, "ana", true).await.unwrap();
    for device in [&mut ana, &mut laptop] {
        let (code, reason) = device.close_frame().await.expect("a close frame");
        assert_eq!(code, 1008);
        assert!(reason.contains("administrator"), "{reason}");
    }
    assert_eq!(resume(&hub, &ana.token).await["code"], "token_invalid");
    assert_eq!(
        login(&hub, "ana", "ana-password").await["code"],
        "agent_disabled"
    );
    // Ben goes on, and can no longer reach her in the session.
    let answer = ben.request(json!({"type": "search", "query": "ana"})).await;
    assert_eq!(answer["type"], "directory", "{answer}");
    // Enabled again, she signs in with her password.
    accounts::set_disabled(&db, "ana", false).await.unwrap();
    assert_eq!(
        login(&hub, "ana", "ana-password").await["type"],
        "logged_in"
    );
}

#[tokio::test]
async fn a_new_password_ends_every_session_of_the_old_one() {
    let hub = hub().await;
    let mut ana = Client::login(&hub, "ana").await;
    let db = admin(&hub).await;
    accounts::set_password(&db, "ana", "a-brand-new-password")
        .await
        .unwrap();
    assert_eq!(ana.close_frame().await.map(|c| c.0), Some(1008));
    assert_eq!(resume(&hub, &ana.token).await["code"], "token_invalid");
    assert_eq!(
        login(&hub, "ana", "ana-password").await["code"],
        "wrong_password"
    );
    assert_eq!(
        login(&hub, "ana", "a-brand-new-password").await["type"],
        "logged_in"
    );
}

#[tokio::test]
async fn taking_im_away_ends_the_sessions_and_taking_starting_away_restricts_them() {
    let hub = hub().await;
    let mut ana = Client::login(&hub, "ana").await;
    let ben = Client::login(&hub, "ben").await;
    let db = admin(&hub).await;

    accounts::set_im_permissions(&db, "ana", None, Some(false))
        .await
        .unwrap();
    assert_eq!(ana.close_frame().await.map(|c| c.0), Some(1008));
    // Her token still works, under her new rights: she may answer IMs, not start them.
    let mut again = Client::connect(&hub.hub.ws_url()).await;
    let resumed = again
        .request(json!({"type": "resume", "token": ana.token, "last_seq": 0}))
        .await;
    assert_eq!(resumed["type"], "resumed", "{resumed}");
    let refused = invite(&mut again, "s-1", ben.id).await;
    assert_eq!(refused["code"], "start_not_permitted", "{refused}");

    accounts::set_im_permissions(&db, "ana", Some(false), None)
        .await
        .unwrap();
    assert_eq!(again.close_frame().await.map(|c| c.0), Some(1008));
    assert_eq!(resume(&hub, &ana.token).await["code"], "token_invalid");
    assert_eq!(
        login(&hub, "ana", "ana-password").await["code"],
        "im_not_permitted"
    );
}

#[tokio::test]
async fn revoke_on_the_command_line_ends_every_device_of_the_agent() {
    let hub = hub().await;
    let mut desk = Client::login(&hub, "ana").await;
    let mut laptop = Client::login(&hub, "ana").await;
    let mut ben = Client::login(&hub, "ben").await;
    let out = common::process::hub_command(&hub.dir.path().join("hub.db"))
        .args(["agent", "revoke", "ana"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for device in [&mut desk, &mut laptop] {
        assert_eq!(device.close_frame().await.map(|c| c.0), Some(1008));
    }
    assert_eq!(resume(&hub, &desk.token).await["code"], "token_invalid");
    // The password still signs her in; Ben was never touched.
    assert_eq!(
        login(&hub, "ana", "ana-password").await["type"],
        "logged_in"
    );
    let answer = ben.request(json!({"type": "search", "query": ""})).await;
    assert_eq!(answer["type"], "directory", "{answer}");
}

#[tokio::test]
async fn a_change_made_before_a_device_signs_in_leaves_that_device_alone() {
    let hub = hub().await;
    let db = admin(&hub).await;
    // Made before Ana signs in: what she signs in with already holds it.
    accounts::set_im_permissions(&db, "ana", None, Some(false))
        .await
        .unwrap();
    let mut ana = Client::login(&hub, "ana").await;
    let mut ben = Client::login(&hub, "ben").await;
    // A later change, to Ben: once his device is closed, the hub has acted on Ana's too.
    accounts::revoke(&db, "ben").await.unwrap();
    assert_eq!(ben.close_frame().await.map(|c| c.0), Some(1008));
    let still = ana.request(json!({"type": "snapshot"})).await;
    assert_eq!(still["type"], "snapshot", "{still}");
}
