//! IM sessions over real WebSockets: invitations and their outcomes, messages, refusals,
//! several devices, and resuming without loss.

mod common;

use common::{connected, hub, hub_with, invite, unthrottled_hub, Client, DEADLINE};
use serde_json::json;

#[tokio::test]
async fn an_invitation_accepted_carries_messages_both_ways_in_order_until_ended() {
    let hub = hub().await;
    let mut ana = Client::login(&hub, "ana").await;
    let mut ben = Client::login(&hub, "ben").await;

    let reply = ana
        .request(
            json!({"type": "invite", "session_id": "s-1", "target": ben.id,
                        "first_message": {"id": "m-0", "text": "Got a minute?"}}),
        )
        .await;
    assert_eq!(reply["type"], "session", "{reply}");
    assert_eq!(reply["session"]["state"], "inviting");
    let invited = ben.session_event("s-1", "inviting").await;
    assert_eq!(invited["session"]["inviter"]["display_name"], "Ana Lima");
    assert_eq!(invited["session"]["first_message"]["text"], "Got a minute?");
    assert_eq!(invited["session"]["first_message"]["seq"], 1);
    ana.session_event("s-1", "inviting").await;

    assert_eq!(
        ben.request(json!({"type": "accept", "session_id": "s-1"}))
            .await["type"],
        "ok"
    );
    ana.session_event("s-1", "connected").await;
    ben.session_event("s-1", "connected").await;

    for (i, (who, text)) in [("ben", "Sure"), ("ana", "Thanks!"), ("ben", "What's up?")]
        .into_iter()
        .enumerate()
    {
        let sender = if who == "ana" { &mut ana } else { &mut ben };
        let id = format!("m-{}", i + 1);
        let sent = sender
            .request(json!({"type": "send", "session_id": "s-1", "message_id": id, "text": text}))
            .await;
        assert_eq!(sent["type"], "sent", "{sent}");
        assert_eq!(
            sent["message"]["seq"],
            i as i64 + 2,
            "the hub numbers messages in order"
        );
        for c in [&mut ana, &mut ben] {
            let event = c.message_event(&id).await;
            assert_eq!(event["message"]["text"], text);
            assert_eq!(event["message"]["seq"], sent["message"]["seq"]);
        }
    }

    assert_eq!(
        ben.request(json!({"type": "end", "session_id": "s-1"}))
            .await["type"],
        "ok"
    );
    let ben_id = ben.id;
    for c in [&mut ana, &mut ben] {
        let ended = c.session_event("s-1", "ended").await;
        assert_eq!(ended["session"]["end"]["reason"], "ended");
        assert_eq!(ended["session"]["end"]["by"], ben_id);
    }
    let late = ana
        .request(
            json!({"type": "send", "session_id": "s-1", "message_id": "m-9", "text": "hello?"}),
        )
        .await;
    assert_eq!(late["code"], "wrong_state", "{late}");
}

#[tokio::test]
async fn rejected_and_cancelled_invitations_tell_both_sides() {
    let hub = hub().await;
    let mut ana = Client::login(&hub, "ana").await;
    let mut ben = Client::login(&hub, "ben").await;

    invite(&mut ana, "s-r", ben.id).await;
    ben.session_event("s-r", "inviting").await;
    assert_eq!(
        ben.request(json!({"type": "reject", "session_id": "s-r"}))
            .await["type"],
        "ok"
    );
    let ended = ana.session_event("s-r", "ended").await;
    assert_eq!(ended["session"]["end"]["reason"], "rejected");
    assert_eq!(ended["session"]["end"]["by"], ben.id);

    invite(&mut ana, "s-c", ben.id).await;
    ben.session_event("s-c", "inviting").await;
    let wrong = ben
        .request(json!({"type": "cancel", "session_id": "s-c"}))
        .await;
    assert_eq!(
        wrong["code"], "wrong_state",
        "only the inviter cancels: {wrong}"
    );
    assert_eq!(
        ana.request(json!({"type": "cancel", "session_id": "s-c"}))
            .await["type"],
        "ok"
    );
    let ended = ben.session_event("s-c", "ended").await;
    assert_eq!(ended["session"]["end"]["reason"], "cancelled");
    let late = ben
        .request(json!({"type": "accept", "session_id": "s-c"}))
        .await;
    assert_eq!(late["code"], "wrong_state", "{late}");
}

#[tokio::test]
async fn an_unanswered_invitation_times_out_for_both() {
    let hub = hub_with(|c| c.invite_timeout_secs = 1).await;
    let mut ana = Client::login(&hub, "ana").await;
    let mut ben = Client::login(&hub, "ben").await;
    invite(&mut ana, "s-t", ben.id).await;
    for c in [&mut ana, &mut ben] {
        let ended = c.session_event("s-t", "ended").await;
        assert_eq!(ended["session"]["end"]["reason"], "timed_out");
        assert!(ended["session"]["end"]["by"].is_null());
    }
}

#[tokio::test]
async fn requests_about_other_sessions_or_in_the_wrong_state_change_nothing() {
    let hub = hub().await;
    let mut ana = Client::login(&hub, "ana").await;
    let mut ben = Client::login(&hub, "ben").await;
    let mut cho = Client::login(&hub, "cho").await;
    connected(&mut ana, &mut ben, "s-1").await;

    for frame in [
        json!({"type": "send", "session_id": "s-1", "message_id": "x", "text": "let me in"}),
        json!({"type": "end", "session_id": "s-1"}),
        json!({"type": "accept", "session_id": "s-1"}),
        json!({"type": "send", "session_id": "no-such", "message_id": "x", "text": "hi"}),
    ] {
        let reply = cho.request(frame).await;
        assert_eq!(reply["code"], "unknown_session", "{reply}");
    }
    let reply = ben
        .request(json!({"type": "accept", "session_id": "s-1"}))
        .await;
    assert_eq!(reply["code"], "wrong_state", "{reply}");
    let reply = ana
        .request(json!({"type": "cancel", "session_id": "s-1"}))
        .await;
    assert_eq!(reply["code"], "wrong_state", "{reply}");

    for (frame, code) in [
        (
            json!({"type": "invite", "session_id": "s-2", "target": ana.id}),
            "invalid_target",
        ),
        (
            json!({"type": "invite", "session_id": "s-2", "target": 9999}),
            "unknown_target",
        ),
        (
            json!({"type": "invite", "session_id": "bad id!", "target": ben.id}),
            "invalid_id",
        ),
        (
            json!({"type": "invite", "session_id": "s-1", "target": cho.id}),
            "id_conflict",
        ),
        (
            json!({"type": "send", "session_id": "s-1", "message_id": "m", "text": "   "}),
            "invalid_message",
        ),
        (
            json!({"type": "send", "session_id": "s-1", "message_id": "m", "text": "x".repeat(4001)}),
            "message_too_long",
        ),
        (
            json!({"type": "send", "session_id": "s-1", "message_id": "", "text": "hi"}),
            "invalid_id",
        ),
        (
            json!({"type": "set_presence", "presence": "offline"}),
            "invalid_presence",
        ),
        (
            json!({"type": "set_favorite", "agent_id": 9999, "favorite": true}),
            "unknown_target",
        ),
    ] {
        let reply = ana.request(frame.clone()).await;
        assert_eq!(reply["code"], code, "{frame}: {reply}");
    }
    // The session is untouched: the transcript is empty and it is still connected.
    let snapshot = ana.request(json!({"type": "snapshot"})).await;
    let sessions = snapshot["sessions"].as_array().unwrap();
    assert_eq!(sessions.len(), 1);
    assert_eq!(sessions[0]["session"]["state"], "connected");
    assert_eq!(sessions[0]["messages"], json!([]));
}

#[tokio::test]
async fn a_retried_message_is_stored_once_and_a_reused_id_is_refused() {
    let hub = hub().await;
    let mut ana = Client::login(&hub, "ana").await;
    let mut ben = Client::login(&hub, "ben").await;
    connected(&mut ana, &mut ben, "s-1").await;
    let frame = json!({"type": "send", "session_id": "s-1", "message_id": "m-1", "text": "once"});
    let first = ana.request(frame.clone()).await;
    let again = ana.request(frame).await;
    assert_eq!(first["type"], "sent", "{first}");
    assert_eq!(
        again["message"], first["message"],
        "the retry gets the same answer"
    );
    let conflict = ana
        .request(json!({"type": "send", "session_id": "s-1", "message_id": "m-1", "text": "other"}))
        .await;
    assert_eq!(conflict["code"], "id_conflict", "{conflict}");
    ben.message_event("m-1").await;
    let snapshot = ben.request(json!({"type": "snapshot"})).await;
    let messages = snapshot["sessions"][0]["messages"].as_array().unwrap();
    assert_eq!(messages.len(), 1);
}

#[tokio::test]
async fn permissions_set_by_the_administrator_are_enforced() {
    let hub = hub().await;
    let db = hub.store().await;
    huddle_hub::accounts::set_im_permissions(&db, "cho", None, Some(false))
        .await
        .unwrap();
    let mut cho = Client::login(&hub, "cho").await;
    let mut ana = Client::login(&hub, "ana").await;
    let reply = invite(&mut cho, "s-1", ana.id).await;
    assert_eq!(reply["code"], "start_not_permitted", "{reply}");
    // Receiving is still allowed.
    connected(&mut ana, &mut cho, "s-2").await;

    huddle_hub::accounts::set_im_permissions(&db, "ben", Some(false), None)
        .await
        .unwrap();
    let mut ben = Client::connect(&hub.hub.ws_url()).await;
    let reply = ben
        .request(json!({"type": "login", "login": "ben", "password": "ben-password"}))
        .await;
    assert_eq!(reply["code"], "im_not_permitted", "{reply}");
    let reply = invite(&mut ana, "s-3", 2).await;
    assert_eq!(
        reply["code"], "unknown_target",
        "ben cannot receive IMs: {reply}"
    );
    let found = ana.request(json!({"type": "search", "query": "ben"})).await;
    assert_eq!(
        found["entries"],
        json!([]),
        "ben is not offered as a target"
    );
}

#[tokio::test]
async fn every_device_of_an_agent_gets_every_event() {
    let hub = hub().await;
    let mut ana = Client::login(&hub, "ana").await;
    let mut ben_desk = Client::login(&hub, "ben").await;
    let mut ben_laptop = Client::login(&hub, "ben").await;
    invite(&mut ana, "s-1", ben_desk.id).await;
    ben_desk.session_event("s-1", "inviting").await;
    ben_laptop.session_event("s-1", "inviting").await;
    ben_laptop
        .request(json!({"type": "accept", "session_id": "s-1"}))
        .await;
    ben_desk.session_event("s-1", "connected").await;
    ana.request(
        json!({"type": "send", "session_id": "s-1", "message_id": "m-1", "text": "hi both"}),
    )
    .await;
    ben_desk.message_event("m-1").await;
    ben_laptop.message_event("m-1").await;
}

#[tokio::test]
async fn a_resumed_connection_gets_exactly_the_missed_events() {
    let hub = hub().await;
    let mut ana = Client::login(&hub, "ana").await;
    let mut ben = Client::login(&hub, "ben").await;
    connected(&mut ana, &mut ben, "s-1").await;
    ana.request(json!({"type": "send", "session_id": "s-1", "message_id": "m-1", "text": "seen"}))
        .await;
    ben.message_event("m-1").await;
    let (token, held, history) = (ben.token.clone(), ben.seq, ben.history.clone());
    drop(ben);
    for i in 2..=4 {
        ana.request(json!({"type": "send", "session_id": "s-1", "message_id": format!("m-{i}"), "text": "missed"}))
            .await;
    }
    let mut ben = Client::connect(&hub.hub.ws_url()).await;
    ben.seq = held;
    let resumed = ben
        .request(json!({"type": "resume", "token": token, "last_seq": held, "history": history}))
        .await;
    assert_eq!(resumed["type"], "resumed", "{resumed}");
    assert_eq!(resumed["resync_required"], false);
    assert_eq!(resumed["seq"], held + 3);
    // The client's checks refuse gaps and repeats; the three missed messages come in order.
    for i in 2..=4 {
        ben.message_event(&format!("m-{i}")).await;
    }
    assert_eq!(ben.seq, held + 3);
    ana.request(json!({"type": "send", "session_id": "s-1", "message_id": "m-5", "text": "live"}))
        .await;
    ben.message_event("m-5").await;
}

#[tokio::test]
async fn events_past_their_retention_ask_for_a_snapshot() {
    let hub = hub().await;
    let mut ana = Client::login(&hub, "ana").await;
    let mut ben = Client::login(&hub, "ben").await;
    connected(&mut ana, &mut ben, "s-1").await;
    ana.request(json!({"type": "send", "session_id": "s-1", "message_id": "m-1", "text": "kept"}))
        .await;
    let db = hub.store().await;
    db.execute(huddle_hub::store::sql::Statement::new(
        "DELETE FROM events",
        Vec::new(),
    ))
    .await
    .unwrap();
    let mut again = Client::connect(&hub.hub.ws_url()).await;
    let resumed = again
        .request(
            json!({"type": "resume", "token": ben.token, "last_seq": 0, "history": ben.history}),
        )
        .await;
    assert_eq!(resumed["resync_required"], true, "{resumed}");
    let snapshot = again.request(json!({"type": "snapshot"})).await;
    assert_eq!(snapshot["sessions"][0]["messages"][0]["text"], "kept");
}

#[tokio::test]
async fn tokens_resume_until_logout_and_forged_ones_never() {
    let hub = hub().await;
    let mut ana = Client::login(&hub, "ana").await;
    let token = ana.token.clone();
    let mut other = Client::connect(&hub.hub.ws_url()).await;
    let forged = other
        .request(json!({"type": "resume", "token": "forged", "last_seq": 0}))
        .await;
    assert_eq!(forged["code"], "token_invalid", "{forged}");
    let before = other.request(json!({"type": "search", "query": ""})).await;
    assert_eq!(before["code"], "not_logged_in", "{before}");
    let resumed = other
        .request(json!({"type": "resume", "token": token, "last_seq": 0}))
        .await;
    assert_eq!(resumed["type"], "resumed", "{resumed}");
    assert_eq!(
        ana.request(json!({"type": "logout"})).await["type"],
        "logged_out"
    );
    let mut third = Client::connect(&hub.hub.ws_url()).await;
    let after = third
        .request(json!({"type": "resume", "token": token, "last_seq": 0}))
        .await;
    assert_eq!(after["code"], "token_invalid", "{after}");
}

/// Reads `client`'s frames up to the answer to a search: none of them may be a presence frame
/// about `agent_id`.
async fn hears_nothing_of(client: &mut Client, agent_id: i64) {
    let answer = client
        .request(json!({"type": "search", "query": "nobody by this name"}))
        .await;
    assert_eq!(answer["type"], "directory", "{answer}");
    assert!(
        !client
            .inbox
            .iter()
            .any(|v| v["type"] == "presence" && v["agent_id"] == agent_id),
        "a presence frame about {agent_id} reached a device that does not list the agent: {:?}",
        client.inbox
    );
}

#[tokio::test]
async fn presence_reaches_the_devices_following_the_agent_and_offline_follows_the_last_connection()
{
    let hub = hub_with(|c| c.offline_grace_secs = 0).await;
    let mut ana = Client::login(&hub, "ana").await;
    let mut chloe = Client::login(&hub, "cho").await;
    let mut ben = Client::login(&hub, "ben").await;
    // Ana's device follows Ben; Chloe's follows no one yet. The answer's presences come
    // first, as a frame of their own.
    assert_eq!(
        ana.follow(&[ben.id]).await,
        json!([{"agent_id": ben.id, "presence": "ready"}])
    );
    // A search alone follows no one: the client says whom it follows.
    chloe
        .request(json!({"type": "search", "query": "ben"}))
        .await;
    assert_eq!(
        ben.request(json!({"type": "set_presence", "presence": "busy"}))
            .await["type"],
        "ok"
    );
    let seen = ana
        .wait_for("ben busy", |v| {
            v["type"] == "presence" && v["agent_id"] == ben.id && v["presence"] == "busy"
        })
        .await;
    assert_eq!(seen["presence"], "busy");
    hears_nothing_of(&mut chloe, ben.id).await;
    let found = ana.request(json!({"type": "search", "query": "ben"})).await;
    assert_eq!(found["entries"][0]["presence"], "busy");

    let ben_id = ben.id;
    drop(ben);
    ana.wait_for("ben offline", |v| {
        v["type"] == "presence" && v["agent_id"] == ben_id && v["presence"] == "offline"
    })
    .await;
    // Back online, with the presence chosen before.
    let _ben = Client::login(&hub, "ben").await;
    ana.wait_for("ben back", |v| {
        v["type"] == "presence" && v["agent_id"] == ben_id && v["presence"] == "busy"
    })
    .await;

    // A new set that leaves Ben out stops his news; Chloe's that names him starts it.
    ana.follow(&[chloe.id]).await;
    chloe.follow(&[ben_id]).await;
    ana.inbox.clear();
    let mut ben = Client::login(&hub, "ben").await;
    ben.request(json!({"type": "set_presence", "presence": "away"}))
        .await;
    chloe
        .wait_for("ben away", |v| {
            v["type"] == "presence" && v["agent_id"] == ben_id && v["presence"] == "away"
        })
        .await;
    hears_nothing_of(&mut ana, ben_id).await;
}

#[tokio::test]
async fn following_is_bounded_and_names_only_agents_that_exist() {
    let hub = hub_with(|c| c.limits.max_followed = 3).await;
    let mut ana = Client::login(&hub, "ana").await;
    let ben = Client::login(&hub, "ben").await;
    // Unknown ids are left out, repeats count once.
    assert_eq!(
        ana.follow(&[ben.id, 9999, ben.id]).await,
        json!([{"agent_id": ben.id, "presence": "ready"}])
    );
    // More than the limit is refused, and the set before stays.
    let refused = ana
        .request(json!({"type": "follow", "agents": [1, 2, 3, 4]}))
        .await;
    assert_eq!(refused["code"], "limit_exceeded", "{refused}");
    // Before signing in, nobody may follow anyone.
    let mut stranger = Client::connect(&hub.hub.ws_url()).await;
    let refused = stranger
        .request(json!({"type": "follow", "agents": [ben.id]}))
        .await;
    assert_eq!(refused["code"], "not_logged_in", "{refused}");
    // The limit is told at hello, so that a client keeps within it.
    assert_eq!(stranger.welcome["limits"]["max_followed"], 3);
}

#[tokio::test]
async fn the_directory_finds_by_any_part_ignoring_case_and_accents_and_ranks() {
    let hub = hub().await;
    let mut ana = Client::login(&hub, "ana").await;
    let names = |v: &serde_json::Value| -> Vec<String> {
        v["entries"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["name"].as_str().unwrap().to_string())
            .collect()
    };
    let found = ana
        .request(json!({"type": "search", "query": "CHLOE"}))
        .await;
    assert_eq!(names(&found), ["Chloé Martin"]);
    let found = ana.request(json!({"type": "search", "query": "art"})).await;
    assert_eq!(names(&found), ["Chloé Martin"], "inside a word");
    let all = ana.request(json!({"type": "search", "query": ""})).await;
    assert_eq!(names(&all), ["Ben Okafor", "Chloé Martin"], "not oneself");

    // "o" starts no word of Chloé Martin's name but is inside it; it starts Okafor.
    let found = ana.request(json!({"type": "search", "query": "o"})).await;
    assert_eq!(names(&found), ["Ben Okafor", "Chloé Martin"]);
    let cho_id = found["entries"][1]["id"].clone();
    ana.request(json!({"type": "set_favorite", "agent_id": cho_id, "favorite": true}))
        .await;
    let favorites = ana
        .request(json!({"type": "search", "query": "", "filter": "favorites"}))
        .await;
    assert_eq!(names(&favorites), ["Chloé Martin"]);
    let all = ana.request(json!({"type": "search", "query": ""})).await;
    assert_eq!(
        names(&all),
        ["Chloé Martin", "Ben Okafor"],
        "favorites first"
    );
    assert_eq!(all["entries"][0]["favorite"], true);

    let mut ben = Client::login(&hub, "ben").await;
    invite(&mut ana, "s-1", ben.id).await;
    ben.session_event("s-1", "inviting").await;
    let recent = ana
        .request(json!({"type": "search", "query": "", "filter": "recent"}))
        .await;
    assert_eq!(names(&recent), ["Ben Okafor"]);
    assert!(recent["entries"][0]["recent_at"].is_i64());
}

#[tokio::test]
async fn bursts_of_messages_are_limited_per_connection() {
    let hub = hub_with(|c| {
        c.limits.messages_per_second = 1;
        c.limits.message_burst = 3;
    })
    .await;
    let mut ana = Client::login(&hub, "ana").await;
    let mut ben = Client::login(&hub, "ben").await;
    connected(&mut ana, &mut ben, "s-1").await;
    let mut codes = Vec::new();
    for i in 0..5 {
        let reply = ana
            .request(json!({"type": "send", "session_id": "s-1", "message_id": format!("m-{i}"), "text": "hi"}))
            .await;
        codes.push(reply["code"].as_str().unwrap_or("sent").to_string());
    }
    assert_eq!(
        codes,
        ["sent", "sent", "sent", "rate_limited", "rate_limited"]
    );
}

#[tokio::test]
async fn a_stopping_hub_does_not_wait_for_presence_timers() {
    let hub = hub().await;
    let ana = Client::login(&hub, "ana").await;
    drop(ana);
    // The default grace period (30 s) is far longer than this deadline.
    let stopped = tokio::time::timeout(std::time::Duration::from_secs(5), hub.hub.stop()).await;
    assert!(
        matches!(stopped, Ok(Ok(()))),
        "the hub did not stop promptly"
    );
}

#[tokio::test]
async fn a_refused_change_among_pipelined_ones_leaves_no_trace() {
    let hub = hub_with(|c| c.limits.max_message_chars = 10).await;
    let mut ana = Client::login(&hub, "ana").await;
    let mut ben = Client::login(&hub, "ben").await;
    connected(&mut ana, &mut ben, "s-1").await;
    // Written back to back, these reach the hub's writer together.
    let frames: Vec<_> = [
        (901, "m-1", "first"),
        (902, "m-2", "far too long here"),
        (903, "m-3", "third"),
    ]
    .into_iter()
    .map(|(req, id, text)| json!({"req": req, "type": "send", "session_id": "s-1", "message_id": id, "text": text}))
    .collect();
    let answers = ana.send_together(&frames).await;
    assert_eq!(answers[&901]["message"]["seq"], 1);
    assert_eq!(answers[&902]["code"], "message_too_long");
    assert_eq!(
        answers[&903]["message"]["seq"], 2,
        "no number was used by the refused one"
    );
    ben.message_event("m-1").await;
    ben.message_event("m-3").await;
    assert_eq!(ben.snapshot_texts().await, ["first", "third"]);
}

#[tokio::test]
async fn invitations_per_minute_and_open_sessions_are_limited() {
    let hub = hub_with(|c| {
        c.limits.invitations_per_minute = 3;
        c.limits.max_open_sessions = 2;
    })
    .await;
    let mut ana = Client::login(&hub, "ana").await;
    let ben = Client::login(&hub, "ben").await;
    let cho = Client::login(&hub, "cho").await;
    assert_eq!(invite(&mut ana, "s-1", ben.id).await["type"], "session");
    assert_eq!(invite(&mut ana, "s-2", cho.id).await["type"], "session");
    let third = invite(&mut ana, "s-3", ben.id).await;
    assert_eq!(third["code"], "too_many_sessions", "{third}");
    assert_eq!(
        ana.request(json!({"type": "cancel", "session_id": "s-1"}))
            .await["type"],
        "ok"
    );
    let fourth = invite(&mut ana, "s-4", ben.id).await;
    assert_eq!(
        fourth["code"], "rate_limited",
        "three invitations this minute already: {fourth}"
    );
}

#[tokio::test]
async fn a_refused_message_in_a_burst_leaves_the_others_whole_and_numbered_without_gaps() {
    let hub = unthrottled_hub().await;
    let mut ana = Client::login(&hub, "ana").await;
    let mut ben = Client::login(&hub, "ben").await;
    connected(&mut ana, &mut ben, "s-1").await;
    assert_eq!(
        ana.request(
            json!({"type": "send", "session_id": "s-1", "message_id": "m-0", "text": "first"})
        )
        .await["type"],
        "sent"
    );
    // Sent without waiting, so that the hub takes them together: a retry, then a reused id
    // with another text, an empty text and a session that is not Ana's among good ones.
    let burst = [
        json!({"req": 100, "type": "send", "session_id": "s-1", "message_id": "m-1", "text": "one"}),
        json!({"req": 101, "type": "send", "session_id": "s-1", "message_id": "m-0", "text": "first"}),
        json!({"req": 102, "type": "send", "session_id": "s-1", "message_id": "m-0", "text": "not the first"}),
        json!({"req": 103, "type": "send", "session_id": "s-1", "message_id": "m-2", "text": " "}),
        json!({"req": 104, "type": "send", "session_id": "nobody", "message_id": "m-3", "text": "lost"}),
        json!({"req": 105, "type": "send", "session_id": "s-1", "message_id": "m-4", "text": "two"}),
    ];
    let answers = ana.send_together(&burst).await;
    assert_eq!(answers[&100]["message"]["seq"], 2, "{:?}", answers[&100]);
    assert_eq!(
        answers[&101]["message"]["seq"], 1,
        "the retry gets the first answer again"
    );
    assert_eq!(answers[&102]["code"], "id_conflict");
    assert_eq!(answers[&103]["code"], "invalid_message");
    assert_eq!(answers[&104]["code"], "unknown_session");
    assert_eq!(answers[&105]["message"]["seq"], 3, "{:?}", answers[&105]);
    // Ben got each stored message once, his events numbered without gaps (the client checks).
    for id in ["m-0", "m-1", "m-4"] {
        ben.message_event(id).await;
    }
    assert_eq!(ben.snapshot_texts().await, ["first", "one", "two"]);
}

#[tokio::test]
async fn a_message_that_cannot_be_stored_fails_with_its_batch_and_nothing_of_it_stays() {
    let hub = unthrottled_hub().await;
    let mut ana = Client::login(&hub, "ana").await;
    let mut ben = Client::login(&hub, "ben").await;
    connected(&mut ana, &mut ben, "s-1").await;
    // The store refuses the event of one message, after its message row went in.
    use huddle_hub::store::sql::{Dialect, Statement};
    let db = hub.store().await;
    let (refuse, allow): (&[&'static str], &[&'static str]) = match db.dialect() {
        Dialect::Sqlite => (
            &["CREATE TRIGGER refuse BEFORE INSERT ON events WHEN NEW.body LIKE '%poison%'
               BEGIN SELECT RAISE(ABORT, 'the disk says no'); END"],
            &["DROP TRIGGER refuse"],
        ),
        Dialect::Postgres => (
            &[
                "CREATE FUNCTION refuse() RETURNS trigger LANGUAGE plpgsql AS $$
                 BEGIN
                   IF NEW.body LIKE '%poison%' THEN RAISE EXCEPTION 'the disk says no'; END IF;
                   RETURN NEW;
                 END $$",
                "CREATE TRIGGER refuse BEFORE INSERT ON events FOR EACH ROW EXECUTE FUNCTION refuse()",
            ],
            &["DROP TRIGGER refuse ON events"],
        ),
    };
    for sql in refuse {
        db.execute(Statement::new(sql, Vec::new())).await.unwrap();
    }
    let frames: Vec<_> = (0..20)
        .map(|i| {
            let text = if i == 10 { "poison" } else { "fine" };
            json!({"req": 200 + i, "type": "send", "session_id": "s-1", "message_id": format!("m-{i}"), "text": text})
        })
        .collect();
    let mut sent = Vec::new();
    for (req, v) in ana.send_together(&frames).await {
        match v["type"].as_str() {
            Some("sent") => sent.push(format!("m-{}", req - 200)),
            _ => assert_eq!(v["code"], "internal", "{v}"),
        }
    }
    assert!(
        !sent.contains(&"m-10".to_string()),
        "the refused message was acknowledged"
    );
    for sql in allow {
        db.execute(Statement::new(sql, Vec::new())).await.unwrap();
    }
    // Exactly what was acknowledged is stored, numbered from 1 without gaps; a retry of the
    // rest goes through.
    let snapshot = ben.request(json!({"type": "snapshot"})).await;
    let stored: Vec<(String, i64)> = snapshot["sessions"][0]["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            (
                m["id"].as_str().unwrap().to_string(),
                m["seq"].as_i64().unwrap(),
            )
        })
        .collect();
    let ids: Vec<&String> = stored.iter().map(|(id, _)| id).collect();
    let mut expected: Vec<&String> = sent.iter().collect();
    expected.sort_by_key(|id| id[2..].parse::<u32>().unwrap());
    assert_eq!(ids, expected);
    let seqs: Vec<i64> = stored.iter().map(|(_, seq)| *seq).collect();
    assert_eq!(seqs, (1..=stored.len() as i64).collect::<Vec<_>>());
    let retry = ana
        .request(
            json!({"type": "send", "session_id": "s-1", "message_id": "m-10", "text": "poison"}),
        )
        .await;
    assert_eq!(retry["type"], "sent", "{retry}");
}

#[tokio::test]
async fn committed_messages_reach_the_database_file_while_the_hub_serves() {
    if common::on_postgres() {
        // Only for SQLite: SQLite's log and its file; PostgreSQL keeps its own.
        return;
    }
    let hub = unthrottled_hub().await;
    let database = hub.dir.path().join("hub.db");
    let size = || std::fs::metadata(&database).map(|m| m.len()).unwrap_or(0);
    let before = size();
    let mut ana = Client::login(&hub, "ana").await;
    let mut ben = Client::login(&hub, "ben").await;
    connected(&mut ana, &mut ben, "s-1").await;
    // Far more pages than the database had: they can only reach its file by a checkpoint,
    // the commits themselves write to the log.
    let text = "w".repeat(3000);
    for i in 0..100 {
        let sent = ana
            .request(json!({"type": "send", "session_id": "s-1", "message_id": format!("m-{i}"), "text": text}))
            .await;
        assert_eq!(sent["type"], "sent", "{sent}");
    }
    let deadline = tokio::time::Instant::now() + DEADLINE;
    while size() < before + 300_000 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the database file stayed at {} bytes (from {before})",
            size()
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

/// Signs `login` in again on a new connection with `request` (a `login` or `resume` frame
/// with a claim); returns the connection and the answer.
async fn sign_in_claiming(
    hub: &common::TestHub,
    request: serde_json::Value,
) -> (Client, serde_json::Value) {
    let mut c = Client::connect(&hub.hub.ws_url()).await;
    let answer = c.request(request).await;
    c.id = answer["agent"]["id"].as_i64().unwrap_or_default();
    c.seq = answer["seq"].as_i64().unwrap_or_default();
    (c, answer)
}

#[tokio::test]
async fn a_claim_the_hub_cannot_trust_gets_a_resync_and_never_silences_the_device() {
    let hub = hub().await;
    let mut ana = Client::login(&hub, "ana").await;
    let ben = Client::login(&hub, "ben").await;
    let (token, history) = (ben.token.clone(), ben.history.clone());
    // Claims a device may make that the hub cannot replay from: a number beyond the hub's
    // own (as a client once sent to mean "I do not know yet"), one of another history, none
    // at all; by token and by password alike.
    let claims = [
        json!({"type": "resume", "token": token, "last_seq": i64::MAX, "history": history}),
        json!({"type": "resume", "token": token, "last_seq": 1_000_000, "history": history}),
        json!({"type": "resume", "token": token, "last_seq": ben.seq, "history": "another"}),
        json!({"type": "resume", "token": token, "last_seq": ben.seq}),
        json!({"type": "login", "login": "ben", "password": "ben-password", "last_seq": i64::MAX, "history": history}),
        json!({"type": "login", "login": "ben", "password": "ben-password"}),
    ];
    for (i, claim) in claims.into_iter().enumerate() {
        let (mut device, answer) = sign_in_claiming(&hub, claim.clone()).await;
        assert_eq!(answer["resync_required"], true, "{claim}: {answer}");
        assert_eq!(answer["history"], json!(history), "{answer}");
        // The device hears what happens from now on.
        let session = format!("s-{i}");
        let reply = invite(&mut ana, &session, device.id).await;
        assert_eq!(reply["type"], "session", "{reply}");
        device.session_event(&session, "inviting").await;
    }
    // A claim the hub can trust is replayed from: nothing missed, nothing twice.
    let (mut device, answer) = sign_in_claiming(
        &hub,
        json!({"type": "login", "login": "ben", "password": "ben-password", "last_seq": ben.seq, "history": history}),
    )
    .await;
    assert_eq!(answer["resync_required"], false, "{answer}");
    device.seq = ben.seq;
    for i in 0..6 {
        device.session_event(&format!("s-{i}"), "inviting").await;
    }
    let negative = sign_in_claiming(
        &hub,
        json!({"type": "resume", "token": token, "last_seq": -1, "history": history}),
    )
    .await
    .1;
    assert_eq!(negative["code"], "invalid_frame", "{negative}");
}

#[tokio::test]
async fn a_device_that_stops_reading_is_dropped_at_once_and_resumes_missing_nothing() {
    let hub = unthrottled_hub().await;
    let mut ana = Client::login(&hub, "ana").await;
    let mut ben = Client::login(&hub, "ben").await;
    connected(&mut ana, &mut ben, "s-1").await;
    let held = ben.seq;
    // Ben's client stops reading while 3,000 messages of 3.9 KB come for him: far more than
    // his queue at the hub and the socket's buffers hold.
    let text = "x".repeat(3900);
    const COUNT: usize = 3000;
    for batch in 0..COUNT / 100 {
        let frames: Vec<_> = (0..100)
            .map(|i| {
                let n = batch * 100 + i;
                json!({"req": 10_000 + n, "type": "send", "session_id": "s-1",
                       "message_id": format!("m-{n}"), "text": text})
            })
            .collect();
        for answer in ana.send_together(&frames).await.values() {
            assert_eq!(answer["type"], "sent", "{answer}");
        }
    }
    // Reading again, Ben finds his connection closed by the hub after what it had queued,
    // not open and silent.
    let mut got = std::collections::BTreeSet::new();
    let closed = tokio::time::timeout(DEADLINE, async {
        while let Some(v) = ben.next_frame().await {
            if v["event"] == "message" {
                got.insert(v["message"]["id"].as_str().unwrap_or_default().to_string());
            }
        }
    })
    .await;
    assert!(closed.is_ok(), "the connection stayed open");
    assert!(
        got.len() < COUNT,
        "every message arrived: nothing overflowed"
    );
    // Resuming from what it holds, the device gets the rest, each once (the test client
    // refuses gaps and repeats).
    let from = ben.seq;
    let (mut again, answer) = sign_in_claiming(
        &hub,
        json!({"type": "resume", "token": ben.token, "last_seq": from, "history": ben.history}),
    )
    .await;
    assert_eq!(answer["resync_required"], false, "{answer}");
    again.seq = from;
    while got.len() < COUNT {
        let v = again
            .wait_for("the rest of the messages", |v| v["event"] == "message")
            .await;
        let id = v["message"]["id"].as_str().unwrap_or_default().to_string();
        assert!(got.insert(id.clone()), "{id} twice");
    }
    assert_eq!(again.seq, held + COUNT as i64);
}

#[tokio::test]
async fn a_snapshot_carries_each_sessions_latest_messages_and_older_ones_come_by_pages() {
    let hub = unthrottled_hub().await;
    let mut ana = Client::login(&hub, "ana").await;
    let mut ben = Client::login(&hub, "ben").await;
    let mut cho = Client::login(&hub, "cho").await;
    connected(&mut ana, &mut ben, "s-1").await;
    for chunk in 0..7 {
        let frames: Vec<_> = (0..100)
            .map(|i| {
                let n = chunk * 100 + i + 1;
                json!({"type": "send", "req": 10_000 + n, "session_id": "s-1",
                       "message_id": format!("m-{n}"), "text": format!("message {n}")})
            })
            .collect();
        for answer in ana.send_together(&frames).await.values() {
            assert_eq!(answer["type"], "sent", "{answer}");
        }
    }
    let seqs = |messages: &serde_json::Value| -> Vec<i64> {
        messages
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["seq"].as_i64().unwrap())
            .collect()
    };

    // The snapshot: the latest 200, and word that there are more.
    let snapshot = ben.request(json!({"type": "snapshot"})).await;
    let session = &snapshot["sessions"][0];
    assert_eq!(seqs(&session["messages"]), (501..=700).collect::<Vec<_>>());
    assert_eq!(session["earlier"], true);

    // Pages back: at most 500 each, oldest first, until there are no more.
    let page = ben
        .request(json!({"type": "transcript", "session_id": "s-1", "before_seq": 501}))
        .await;
    assert_eq!(page["type"], "transcript", "{page}");
    assert_eq!(seqs(&page["messages"]), (1..=500).collect::<Vec<_>>());
    assert_eq!(page["earlier"], false);
    let page = ben
        .request(
            json!({"type": "transcript", "session_id": "s-1", "before_seq": 501, "limit": 100}),
        )
        .await;
    assert_eq!(seqs(&page["messages"]), (401..=500).collect::<Vec<_>>());
    assert_eq!(page["earlier"], true);
    let page = ben
        .request(json!({"type": "transcript", "session_id": "s-1", "limit": 1_000_000}))
        .await;
    assert_eq!(
        seqs(&page["messages"]),
        (201..=700).collect::<Vec<_>>(),
        "capped at 500"
    );

    // Only the session's agents read it.
    let refused = cho
        .request(json!({"type": "transcript", "session_id": "s-1"}))
        .await;
    assert_eq!(refused["code"], "unknown_session", "{refused}");
}

#[tokio::test]
async fn message_text_may_break_lines_but_holds_no_other_control_characters() {
    let hub = hub().await;
    let mut ana = Client::login(&hub, "ana").await;
    let mut ben = Client::login(&hub, "ben").await;
    connected(&mut ana, &mut ben, "s-1").await;
    let sent = ana
        .request(
            json!({"type": "send", "session_id": "s-1", "message_id": "m-1",
                        "text": "two lines\n\tand a tab"}),
        )
        .await;
    assert_eq!(sent["type"], "sent", "{sent}");
    for text in [
        "bell\u{7}",
        "escape \u{1b}[2J",
        "nul\u{0}",
        "carriage\rreturn",
    ] {
        let refused = ana
            .request(
                json!({"type": "send", "session_id": "s-1", "message_id": "m-2", "text": text}),
            )
            .await;
        assert_eq!(refused["code"], "invalid_message", "{text:?}: {refused}");
    }
}

/// A hub stopped while an invitation still waits for its time-out gives its database up:
/// another process (a restored backup, the next hub) can take the file over at once.
#[tokio::test]
async fn a_stopped_hub_gives_its_database_up_with_an_invitation_pending() {
    use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode};
    use sqlx::{ConnectOptions, Connection};
    if common::on_postgres() {
        // Taking a file over is SQLite's concern; a PostgreSQL database is shared by design.
        return;
    }
    let test_hub = hub().await;
    let mut ana = Client::login(&test_hub, "ana").await;
    let ben = Client::login(&test_hub, "ben").await;
    invite(&mut ana, "s-pending", ben.id).await;
    drop((ana, ben));
    let common::TestHub { hub, dir, .. } = test_hub;
    hub.stop().await.unwrap();
    // Leaving WAL needs the file to itself: it fails while any connection holds it.
    let alone = SqliteConnectOptions::new()
        .filename(dir.path().join("hub.db"))
        .journal_mode(SqliteJournalMode::Delete)
        .busy_timeout(std::time::Duration::from_secs(1))
        .connect()
        .await;
    let alone = alone.expect("the stopped hub still holds its database");
    alone.close().await.unwrap();
}
