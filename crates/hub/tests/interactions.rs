//! Interactions and consultations over real HTTP and WebSockets: the integration API, the
//! events it owes agents, who may read an interaction, hidden case data, contact history,
//! voice consultations with their call states, and a restart of the hub.

mod common;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use common::{connected, hub_with, hub_with_switch, Client, TestHub};
use futures_util::future::BoxFuture;
use huddle_hub::config::Secret;
use huddle_hub::http_client::HttpClient;
use huddle_hub::telephony::{
    CallResult, CallStatus, Consulted, SimulatedSwitch, Telephony, TelephonyError,
};
use huddle_hub::Config;
use serde_json::{json, Value};
use tokio_tungstenite::tungstenite::Message;

const TOKEN: &str = "test-integration-token-0123";
/// The value of the hidden case-data item: it must never reach an agent.
const SECRET_SCORE: &str = "score-4242-secret";

fn integration(c: &mut Config) {
    c.integration_token = Some(Secret::new(TOKEN));
    c.hidden_case_data_keys = vec!["internal_score".into()];
}

async fn hub() -> TestHub {
    hub_with(integration).await
}

/// The integration API of a test hub.
struct Api(HttpClient);

impl Api {
    fn of(hub: &TestHub) -> Self {
        Api(HttpClient::new(&format!("http://{}", hub.hub.addr)).unwrap())
    }

    /// A request with the right token.
    async fn call(&self, method: &str, path: &str, body: Value) -> (u16, Value) {
        self.0.json(method, path, TOKEN, &body).await.unwrap()
    }

    /// A request with any `Authorization` header and any body.
    async fn raw(
        &self,
        method: &str,
        path: &str,
        authorization: Option<&str>,
        body: &str,
    ) -> (u16, Value) {
        let answer = self
            .0
            .send(method, path, authorization, Some(body.as_bytes().to_vec()))
            .await
            .unwrap();
        (answer.status, answer.json())
    }

    async fn put_contact(&self) {
        let (status, body) = self
            .call(
                "PUT",
                "/integration/v1/contacts/c-1",
                json!({
                    "first_name": "Maria", "last_name": "Souza",
                    "phones": ["+55 11 5555 0101"], "emails": ["maria.souza@example.com"],
                    "history": [
                        {"id": "h-1", "at": 1_700_000_000_000_i64, "media": "email",
                         "subject": "Delivery address change", "outcome": "Resolved",
                         "notes": "Moved the delivery to her office."},
                        {"id": "h-2", "at": 1_710_000_000_000_i64, "media": "voice",
                         "subject": "Where is my order?", "outcome": "Escalated",
                         "notes": "Carrier ticket opened; parcel at the depot."},
                        {"id": "h-3", "at": 1_705_000_000_000_i64, "media": "chat",
                         "subject": "Promo code", "outcome": "Refund issued",
                         "notes": "Refunded the difference."}
                    ]
                }),
            )
            .await;
        assert_eq!(status, 201, "{body}");
        assert_eq!(body["history_entries"], 3);
    }

    async fn deliver(&self, id: &str, agent: &str, media: &str) -> Value {
        let (status, body) = self
            .call(
                "POST",
                "/integration/v1/interactions",
                delivery(id, agent, media),
            )
            .await;
        assert_eq!(status, 201, "{body}");
        body
    }

    async fn set_state(&self, id: &str, state: &str) -> (u16, Value) {
        self.call(
            "PATCH",
            &format!("/integration/v1/interactions/{id}"),
            json!({"state": state}),
        )
        .await
    }

    async fn end(&self, id: &str) -> (u16, Value) {
        self.call(
            "POST",
            &format!("/integration/v1/interactions/{id}/end"),
            json!({}),
        )
        .await
    }
}

fn delivery(id: &str, agent: &str, media: &str) -> Value {
    json!({
        "id": id, "agent": agent, "media": media, "contact_id": "c-1",
        "subject": "Where is my order?",
        "case_data": [
            {"key": "segment", "label": "Customer segment", "value": "Gold"},
            {"key": "order_id", "label": "Order", "value": "5521"},
            {"key": "internal_score", "label": "Internal score", "value": SECRET_SCORE},
            {"key": "reason", "label": "Reason", "value": "Delivery delay"}
        ]
    })
}

/// The keys of an interaction's case data, as an agent sees them.
fn keys(interaction: &Value) -> Vec<String> {
    interaction["case_data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["key"].as_str().unwrap().to_string())
        .collect()
}

fn assert_no_secret(frame: &Value) {
    let text = frame.to_string();
    assert!(
        !text.contains("internal_score") && !text.contains(SECRET_SCORE),
        "a hidden case-data item reached an agent: {text}"
    );
}

#[tokio::test]
async fn the_integration_api_needs_its_token() {
    let hub = hub().await;
    let api = Api::of(&hub);
    let body = r#"{"first_name": "Maria", "last_name": "Souza"}"#;
    let path = "/integration/v1/contacts/c-1";
    for authorization in [
        None,
        Some("Bearer wrong-token-wrong-token"),
        Some("Basic dGVzdDp0ZXN0"),
        Some(TOKEN),
        Some("Bearer"),
    ] {
        let (status, answer) = api.raw("PUT", path, authorization, body).await;
        assert_eq!(status, 401, "{authorization:?}: {answer}");
        assert_eq!(answer["error"]["code"], "unauthorized", "{answer}");
        assert!(answer["error"]["message"]
            .as_str()
            .unwrap()
            .contains("Bearer"));
    }
    // Nothing was stored: the contact is unknown to a delivery.
    let (status, answer) = api
        .call(
            "POST",
            "/integration/v1/interactions",
            delivery("i-1", "ana", "chat"),
        )
        .await;
    assert_eq!(status, 422, "{answer}");
    assert_eq!(answer["error"]["code"], "unknown_contact");

    let (status, answer) = api
        .raw("PUT", path, Some(&format!("bearer {TOKEN}")), body)
        .await;
    assert_eq!(status, 201, "the scheme ignores case: {answer}");
    let (status, answer) = api
        .call("GET", "/integration/v1/nothing-here", json!({}))
        .await;
    assert_eq!(status, 404, "{answer}");
    assert_eq!(answer["error"]["code"], "not_found");
    let (status, answer) = api
        .call("GET", "/integration/v1/interactions", json!({}))
        .await;
    assert_eq!(status, 405, "{answer}");
    assert_eq!(answer["error"]["code"], "method_not_allowed");

    let off = hub_with(|_| {}).await;
    let (status, answer) = Api::of(&off).call("PUT", path, json!({})).await;
    assert_eq!(status, 503, "{answer}");
    assert_eq!(answer["error"]["code"], "integration_disabled");
    assert!(
        answer["error"]["message"]
            .as_str()
            .unwrap()
            .contains("integration_token"),
        "{answer}"
    );
}

#[tokio::test]
async fn bad_input_is_refused_clearly_and_changes_nothing() {
    let hub = hub().await;
    let api = Api::of(&hub);
    let mut ana = Client::login(&hub, "ana").await;
    let held = ana.seq;
    api.put_contact().await;
    let bearer = format!("Bearer {TOKEN}");
    let (status, answer) = api
        .raw(
            "POST",
            "/integration/v1/interactions",
            Some(&bearer),
            "{not json",
        )
        .await;
    assert_eq!(
        (status, answer["error"]["code"].as_str()),
        (400, Some("malformed_json"))
    );

    let with = |change: &dyn Fn(&mut Value)| {
        let mut body = delivery("i-1", "ana", "voice");
        change(&mut body);
        body
    };
    let refused = [
        (with(&|b| b["colour"] = json!("red")), 422, "invalid_field"),
        (with(&|b| b["media"] = json!("fax")), 422, "invalid_field"),
        (with(&|b| b["id"] = json!("bad id!")), 422, "invalid_id"),
        (with(&|b| b["agent"] = json!("zoe")), 422, "unknown_agent"),
        (
            with(&|b| b["contact_id"] = json!("c-404")),
            422,
            "unknown_contact",
        ),
        (with(&|b| b["state"] = json!("ended")), 422, "invalid_field"),
        (
            with(&|b| b["case_data"][1]["key"] = json!("segment")),
            422,
            "invalid_field",
        ),
        (
            with(&|b| b["case_data"][0]["value"] = json!(42)),
            422,
            "invalid_field",
        ),
        (
            with(&|b| b["subject"] = json!("x".repeat(201))),
            422,
            "invalid_field",
        ),
    ];
    for (body, status, code) in refused {
        let (got, answer) = api
            .call("POST", "/integration/v1/interactions", body.clone())
            .await;
        assert_eq!(
            (got, answer["error"]["code"].as_str()),
            (status, Some(code)),
            "{body}: {answer}"
        );
        assert!(answer["error"]["message"]
            .as_str()
            .is_some_and(|m| !m.is_empty()));
    }
    let huge = json!({"first_name": "x".repeat(1200 * 1024), "last_name": "y"});
    let (status, answer) = api.call("PUT", "/integration/v1/contacts/c-2", huge).await;
    assert_eq!(
        (status, answer["error"]["code"].as_str()),
        (413, Some("too_large")),
        "{answer}"
    );
    for (method, path, body, status, code) in [
        (
            "PATCH",
            "/integration/v1/interactions/i-404",
            json!({"state": "active"}),
            404,
            "unknown_interaction",
        ),
        (
            "POST",
            "/integration/v1/interactions/i-404/end",
            json!({}),
            404,
            "unknown_interaction",
        ),
        (
            "PATCH",
            "/integration/v1/interactions/i-404",
            json!({}),
            422,
            "invalid_field",
        ),
        (
            "POST",
            "/integration/v1/contacts/c-404/history",
            json!({"id": "h-9", "at": 1_700_000_000_000_i64, "media": "voice", "subject": "Hello"}),
            404,
            "unknown_contact",
        ),
        (
            "PUT",
            "/integration/v1/contacts/c-2",
            json!({"first_name": "", "last_name": ""}),
            422,
            "invalid_field",
        ),
        (
            "PUT",
            "/integration/v1/contacts/c-2",
            json!({"first_name": "A", "last_name": "B", "history": [
                {"id": "h-1", "at": 1, "media": "voice", "subject": "One"},
                {"id": "h-1", "at": 2, "media": "voice", "subject": "Two"}]}),
            422,
            "invalid_field",
        ),
    ] {
        let (got, answer) = api.call(method, path, body).await;
        assert_eq!(
            (got, answer["error"]["code"].as_str()),
            (status, Some(code)),
            "{method} {path}: {answer}"
        );
    }

    // Nothing reached the agent, and nothing was stored.
    let listed = ana.request(json!({"type": "interactions"})).await;
    assert_eq!(listed["interactions"], json!([]), "{listed}");
    assert_eq!(ana.seq, held, "no event");
    let details = ana
        .request(json!({"type": "interaction_details", "interaction_id": "i-1"}))
        .await;
    assert_eq!(details["code"], "unknown_interaction", "{details}");
    let (status, _) = api
        .call(
            "POST",
            "/integration/v1/contacts/c-2/history",
            json!({"id": "h-1", "at": 1, "media": "voice", "subject": "One"}),
        )
        .await;
    assert_eq!(status, 404, "the refused contact was not stored");
}

#[tokio::test]
async fn deliveries_are_idempotent_and_their_events_reach_the_agent_live_and_after_a_reconnect() {
    let hub = hub().await;
    let api = Api::of(&hub);
    api.put_contact().await;
    let mut ana = Client::login(&hub, "ana").await;

    let delivered = api.deliver("i-1", "Ana", "voice").await;
    assert_eq!(
        delivered["interaction"]["state"], "ringing",
        "calls start ringing"
    );
    assert_eq!(delivered["interaction"]["agent"], "ana");
    let event = ana.interaction_event("i-1", "ringing").await;
    let first_seq = event["seq"].as_i64().unwrap();
    assert_eq!(
        event["interaction"]["contact"],
        json!({"id": "c-1", "name": "Maria Souza"})
    );
    assert_eq!(event["interaction"]["media"], "voice");
    assert_eq!(event["interaction"]["subject"], "Where is my order?");
    assert_eq!(
        keys(&event["interaction"]),
        ["segment", "order_id", "reason"]
    );
    assert!(event["interaction"]["ended_at"].is_null());

    // A retry whose answer was lost changes nothing; other content under the id is refused.
    let (status, again) = api
        .call(
            "POST",
            "/integration/v1/interactions",
            delivery("i-1", "ana", "voice"),
        )
        .await;
    assert_eq!(status, 200, "{again}");
    assert_eq!(again["interaction"], delivered["interaction"]);
    let (status, conflict) = api
        .call(
            "POST",
            "/integration/v1/interactions",
            delivery("i-1", "ben", "voice"),
        )
        .await;
    assert_eq!(
        (status, conflict["error"]["code"].as_str()),
        (409, Some("id_conflict")),
        "{conflict}"
    );

    // Answered, with case data merged by key: the known one in place, the new one last.
    let (status, patched) = api
        .call(
            "PATCH",
            "/integration/v1/interactions/i-1",
            json!({"state": "active", "case_data": [
                {"key": "language", "label": "Language", "value": "Portuguese"},
                {"key": "order_id", "label": "Order", "value": "5522"}]}),
        )
        .await;
    assert_eq!(status, 200, "{patched}");
    let event = ana.interaction_event("i-1", "active").await;
    assert_eq!(
        event["seq"].as_i64().unwrap(),
        first_seq + 1,
        "the retry made no event"
    );
    assert_eq!(
        keys(&event["interaction"]),
        ["segment", "order_id", "reason", "language"]
    );
    assert_eq!(event["interaction"]["case_data"][1]["value"], "5522");
    let (status, _) = api.set_state("i-1", "ringing").await;
    assert_eq!(status, 409, "an answered call does not ring again");

    let (token, held, history) = (ana.token.clone(), ana.seq, ana.history.clone());
    drop(ana);
    assert_eq!(api.set_state("i-1", "held").await.0, 200);
    let (status, ended) = api.end("i-1").await;
    assert_eq!(status, 200, "{ended}");
    assert!(ended["interaction"]["ended_at"].is_i64());
    let (status, again) = api.end("i-1").await;
    assert_eq!(status, 200, "ending again is harmless: {again}");
    assert_eq!(again["interaction"], ended["interaction"]);
    let (status, late) = api.set_state("i-1", "active").await;
    assert_eq!(
        (status, late["error"]["code"].as_str()),
        (409, Some("wrong_state"))
    );

    let mut ana = Client::connect(&hub.hub.ws_url()).await;
    ana.seq = held;
    let resumed = ana
        .request(json!({"type": "resume", "token": token, "last_seq": held, "history": history}))
        .await;
    assert_eq!(
        resumed["seq"],
        held + 2,
        "held, then ended; nothing for the repeated end"
    );
    ana.interaction_event("i-1", "held").await;
    let ended = ana.interaction_event("i-1", "ended").await;
    assert!(ended["interaction"]["ended_at"].is_i64());
    let listed = ana.request(json!({"type": "interactions"})).await;
    assert_eq!(
        listed["interactions"],
        json!([]),
        "only interactions that have not ended"
    );

    // Delivered while the agent is away: listed, and in the snapshot, oldest first.
    api.deliver("i-2", "ben", "email").await;
    api.deliver("i-3", "ben", "chat").await;
    let mut ben = Client::login(&hub, "ben").await;
    let listed = ben.request(json!({"type": "interactions"})).await;
    let ids: Vec<&str> = listed["interactions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["i-2", "i-3"]);
    assert_eq!(
        listed["interactions"][0]["state"], "active",
        "emails start active"
    );
    let snapshot = ben.request(json!({"type": "snapshot"})).await;
    assert_eq!(snapshot["interactions"], listed["interactions"]);
    assert_eq!(snapshot["voice_consultations"], json!([]));
}

#[tokio::test]
async fn only_the_assigned_agent_and_a_connected_consultation_target_may_read_an_interaction() {
    let hub = hub().await;
    let api = Api::of(&hub);
    api.put_contact().await;
    let mut ana = Client::login(&hub, "ana").await;
    let mut ben = Client::login(&hub, "ben").await;
    let mut cho = Client::login(&hub, "cho").await;
    api.deliver("i-1", "ana", "chat").await;
    ana.interaction_event("i-1", "active").await;

    let read = |id: &str| json!({"type": "interaction_details", "interaction_id": id});
    let search =
        |query: &str| json!({"type": "contact_history", "interaction_id": "i-1", "query": query});
    let details = ana.request(read("i-1")).await;
    assert_eq!(details["type"], "interaction_details", "{details}");
    assert_eq!(details["details"]["contact"]["last_name"], "Souza");
    assert_eq!(
        details["details"]["contact"]["phones"],
        json!(["+55 11 5555 0101"])
    );
    let history: Vec<&str> = details["details"]["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["id"].as_str().unwrap())
        .collect();
    assert_eq!(history, ["h-2", "h-3", "h-1"], "newest first");
    for agent in [&mut ben, &mut cho] {
        let refused = agent.request(read("i-1")).await;
        assert_eq!(refused["code"], "interaction_not_permitted", "{refused}");
        assert_eq!(
            refused["message"],
            "you may see this interaction only during an accepted consultation about it"
        );
        let refused = agent.request(search("")).await;
        assert_eq!(refused["code"], "interaction_not_permitted", "{refused}");
    }
    let unknown = ben.request(read("i-404")).await;
    assert_eq!(unknown["code"], "unknown_interaction", "{unknown}");
    let invalid = ben.request(read("no way")).await;
    assert_eq!(invalid["code"], "invalid_id", "{invalid}");

    // Consulting: only about one's own interaction that has not ended.
    let consult = |session: &str, target: i64, interaction: &str| {
        json!({"type": "invite", "session_id": session, "target": target,
               "first_message": {"id": format!("{session}-m"), "text": "Can you look at this customer?"},
               "context": {"interaction_id": interaction}})
    };
    let refused = ben.request(consult("s-x", cho.id, "i-1")).await;
    assert_eq!(refused["code"], "interaction_not_permitted", "{refused}");
    let refused = ana.request(consult("s-x", ben.id, "i-404")).await;
    assert_eq!(refused["code"], "unknown_interaction", "{refused}");

    let invited = ana.request(consult("s-1", ben.id, "i-1")).await;
    assert_eq!(invited["type"], "session", "{invited}");
    ben.session_event("s-1", "inviting").await;
    let refused = ben.request(read("i-1")).await;
    assert_eq!(
        refused["code"], "interaction_not_permitted",
        "not before accepting: {refused}"
    );

    ben.request(json!({"type": "accept", "session_id": "s-1"}))
        .await;
    ben.session_event("s-1", "connected").await;
    let seen = ben.request(read("i-1")).await;
    assert_eq!(seen["type"], "interaction_details", "{seen}");
    assert_eq!(
        seen["details"], details["details"],
        "the target sees what the agent sees"
    );
    let found = ben.request(search("DELIV")).await;
    let ids: Vec<&str> = found["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["h-1"], "prefix search ignoring case");
    let found = ben.request(search("order")).await;
    assert_eq!(found["entries"][0]["id"], "h-2");
    let all = ben
        .request(
            json!({"type": "contact_history", "interaction_id": "i-1", "query": "", "limit": 2}),
        )
        .await;
    let ids: Vec<&str> = all["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["h-2", "h-3"], "newest first, limited");
    let refused = cho.request(read("i-1")).await;
    assert_eq!(
        refused["code"], "interaction_not_permitted",
        "a third agent: {refused}"
    );

    // History appended by the integration shows at once.
    let (status, added) = api
        .call(
            "POST",
            "/integration/v1/contacts/c-1/history",
            json!({"id": "h-4", "at": 1_720_000_000_000_i64, "media": "chat",
                   "subject": "Delivery slot", "outcome": "Resolved", "notes": "Saturday."}),
        )
        .await;
    assert_eq!(status, 201, "{added}");
    let found = ben.request(search("delivery")).await;
    assert_eq!(found["entries"][0]["id"], "h-4");

    ben.request(json!({"type": "end", "session_id": "s-1"}))
        .await;
    ben.session_event("s-1", "ended").await;
    let refused = ben.request(read("i-1")).await;
    assert_eq!(
        refused["code"], "interaction_not_permitted",
        "not after the end: {refused}"
    );
    let refused = ben.request(search("")).await;
    assert_eq!(refused["code"], "interaction_not_permitted", "{refused}");
    assert_eq!(
        ana.request(read("i-1")).await["type"],
        "interaction_details"
    );

    // Once the interaction has ended, no new consultation about it; a retried invitation
    // still answers the session it made.
    api.end("i-1").await;
    let refused = ana.request(consult("s-2", cho.id, "i-1")).await;
    assert_eq!(refused["code"], "interaction_not_permitted", "{refused}");
    let retried = ana.request(consult("s-1", ben.id, "i-1")).await;
    assert_eq!(retried["session"]["id"], "s-1", "{retried}");
}

#[tokio::test]
async fn a_consulted_colleague_loses_the_customer_when_the_interaction_ends_though_the_im_goes_on()
{
    let hub = hub().await;
    let api = Api::of(&hub);
    api.put_contact().await;
    let mut ana = Client::login(&hub, "ana").await;
    let mut ben = Client::login(&hub, "ben").await;
    api.deliver("i-1", "ana", "chat").await;
    ana.interaction_event("i-1", "active").await;
    let invited = ana
        .request(
            json!({"type": "invite", "session_id": "s-1", "target": ben.id,
                        "first_message": {"id": "m-1", "text": "About this customer"},
                        "context": {"interaction_id": "i-1"}}),
        )
        .await;
    assert_eq!(invited["type"], "session", "{invited}");
    ben.session_event("s-1", "inviting").await;
    ben.request(json!({"type": "accept", "session_id": "s-1"}))
        .await;
    ben.session_event("s-1", "connected").await;
    let read = json!({"type": "interaction_details", "interaction_id": "i-1"});
    let search = json!({"type": "contact_history", "interaction_id": "i-1", "query": ""});
    assert_eq!(
        ben.request(read.clone()).await["type"],
        "interaction_details"
    );

    // The customer hangs up: the IM goes on, the loan of the customer's data does not.
    api.end("i-1").await;
    ana.interaction_event("i-1", "ended").await;
    for request in [read, search] {
        let refused = ben.request(request).await;
        assert_eq!(refused["code"], "interaction_not_permitted", "{refused}");
    }
    let sent = ben
        .request(
            json!({"type": "send", "session_id": "s-1", "message_id": "m-2", "text": "Still here"}),
        )
        .await;
    assert_eq!(sent["type"], "sent", "{sent}");
}

#[tokio::test]
async fn hidden_case_data_never_reaches_an_agent() {
    let hub = hub().await;
    let api = Api::of(&hub);
    api.put_contact().await;
    let mut ana = Client::login(&hub, "ana").await;
    let mut ben = Client::login(&hub, "ben").await;
    let delivered = api.deliver("i-1", "ana", "voice").await;
    assert_eq!(
        delivered["interaction"]["case_data"][2]["value"], SECRET_SCORE,
        "the integration sees its own data"
    );
    let (status, _) = api
        .call(
            "PATCH",
            "/integration/v1/interactions/i-1",
            json!({"state": "active", "case_data": [
                {"key": "INTERNAL_SCORE", "label": "Internal score", "value": SECRET_SCORE}]}),
        )
        .await;
    assert_eq!(status, 200);
    let mut seen = vec![
        ana.interaction_event("i-1", "ringing").await,
        ana.interaction_event("i-1", "active").await,
    ];
    connected_about(&mut ana, &mut ben, "s-1", "i-1").await;
    seen.push(ana.request(json!({"type": "interactions"})).await);
    seen.push(ana.request(json!({"type": "snapshot"})).await);
    for agent in [&mut ana, &mut ben] {
        seen.push(
            agent
                .request(json!({"type": "interaction_details", "interaction_id": "i-1"}))
                .await,
        );
    }
    assert_eq!(seen.last().unwrap()["type"], "interaction_details");
    for frame in &seen {
        assert_no_secret(frame);
    }
}

/// Opens a connected consultation IM about an interaction.
async fn connected_about(
    inviter: &mut Client,
    target: &mut Client,
    session: &str,
    interaction: &str,
) {
    let reply = inviter
        .request(
            json!({"type": "invite", "session_id": session, "target": target.id,
                        "context": {"interaction_id": interaction}}),
        )
        .await;
    assert_eq!(reply["type"], "session", "{reply}");
    target.session_event(session, "inviting").await;
    let reply = target
        .request(json!({"type": "accept", "session_id": session}))
        .await;
    assert_eq!(reply["type"], "ok", "{reply}");
    inviter.session_event(session, "connected").await;
    target.session_event(session, "connected").await;
}

#[tokio::test]
async fn a_voice_consultation_holds_the_customer_rings_the_colleague_and_brings_the_customer_back()
{
    let hub = hub().await;
    let api = Api::of(&hub);
    api.put_contact().await;
    let mut ana = Client::login(&hub, "ana").await;
    let mut ben = Client::login(&hub, "ben").await;
    let mut cho = Client::login(&hub, "cho").await;
    api.deliver("i-1", "ana", "voice").await;
    let start = json!({"type": "start_voice_consultation", "session_id": "s-1"});

    connected_about(&mut ana, &mut ben, "s-1", "i-1").await;
    let refused = ana.request(start.clone()).await;
    assert_eq!(
        refused["code"], "wrong_state",
        "the call still rings: {refused}"
    );
    assert_eq!(api.set_state("i-1", "active").await.0, 200);
    ana.interaction_event("i-1", "active").await;
    let refused = ben.request(start.clone()).await;
    assert_eq!(
        refused["code"], "wrong_state",
        "only the inviter: {refused}"
    );
    let refused = cho.request(start.clone()).await;
    assert_eq!(refused["code"], "unknown_session", "{refused}");

    let started = ana.request(start.clone()).await;
    assert_eq!(started["type"], "voice_consultation", "{started}");
    let consultation = started["consultation"].clone();
    let id = consultation["id"].as_str().unwrap().to_string();
    assert_eq!(consultation["state"], "ringing");
    assert_eq!(consultation["customer_held"], true);
    assert_eq!(consultation["session_id"], "s-1");
    assert_eq!(consultation["interaction_id"], "i-1");
    ana.interaction_event("i-1", "held").await;
    for agent in [&mut ana, &mut ben] {
        let event = agent.voice_event(&id, "ringing").await;
        assert_eq!(event["consultation"], consultation);
    }
    let again = ana.request(start.clone()).await;
    assert_eq!(
        again["consultation"], consultation,
        "a retry changes nothing"
    );
    let (status, refused) = api.set_state("i-1", "active").await;
    assert_eq!(
        (status, refused["error"]["code"].as_str()),
        (409, Some("wrong_state")),
        "{refused}"
    );

    let answer = |accept: bool| json!({"type": "answer_voice_consultation", "consultation_id": id, "accept": accept});
    let refused = ana.request(answer(true)).await;
    assert_eq!(
        refused["code"], "wrong_state",
        "only the colleague answers: {refused}"
    );
    let refused = cho.request(answer(true)).await;
    assert_eq!(refused["code"], "unknown_consultation", "{refused}");
    assert_eq!(ben.request(answer(true)).await["type"], "ok");
    for agent in [&mut ana, &mut ben] {
        let event = agent.voice_event(&id, "connected").await;
        assert_eq!(event["consultation"]["customer_held"], true);
    }
    let refused = ben.request(answer(true)).await;
    assert_eq!(refused["code"], "wrong_state", "{refused}");

    let end = json!({"type": "end_voice_consultation", "consultation_id": id});
    assert_eq!(ben.request(end.clone()).await["type"], "ok");
    for agent in [&mut ana, &mut ben] {
        let event = agent.voice_event(&id, "ended").await;
        assert_eq!(event["consultation"]["customer_held"], false);
    }
    ana.interaction_event("i-1", "active").await;
    let refused = ana.request(end).await;
    assert_eq!(refused["code"], "wrong_state", "already ended: {refused}");

    // A second one, declined: the customer comes back at once.
    let started = ana.request(start.clone()).await;
    let second = started["consultation"]["id"].as_str().unwrap().to_string();
    assert_ne!(second, id);
    ana.interaction_event("i-1", "held").await;
    ben.voice_event(&second, "ringing").await;
    let declined = ben
        .request(json!({"type": "answer_voice_consultation", "consultation_id": second, "accept": false}))
        .await;
    assert_eq!(declined["type"], "ok", "{declined}");
    ana.voice_event(&second, "ended").await;
    ana.interaction_event("i-1", "active").await;

    // A third, ended by the integration with the interaction: the customer has gone.
    let third = ana.request(start.clone()).await["consultation"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    ana.interaction_event("i-1", "held").await;
    assert_eq!(api.end("i-1").await.0, 200);
    for agent in [&mut ana, &mut ben] {
        let event = agent.voice_event(&third, "ended").await;
        assert_eq!(event["consultation"]["customer_held"], false);
    }
    ana.interaction_event("i-1", "ended").await;
    let refused = ana.request(start).await;
    assert_eq!(refused["code"], "wrong_state", "{refused}");

    // Only calls have voice consultations.
    api.deliver("i-2", "ana", "email").await;
    connected_about(&mut ana, &mut cho, "s-2", "i-2").await;
    let refused = ana
        .request(json!({"type": "start_voice_consultation", "session_id": "s-2"}))
        .await;
    assert_eq!(refused["code"], "wrong_state", "{refused}");
    assert!(
        refused["message"].as_str().unwrap().contains("email"),
        "{refused}"
    );
    // And an IM without a context has none.
    connected(&mut ana, &mut cho, "s-3").await;
    let refused = ana
        .request(json!({"type": "start_voice_consultation", "session_id": "s-3"}))
        .await;
    assert_eq!(refused["code"], "wrong_state", "{refused}");
}

/// Stops a test hub and starts another on the same database.
async fn restart(hub: TestHub) -> TestHub {
    let TestHub { hub, dir, config } = hub;
    hub.stop().await.unwrap();
    TestHub {
        hub: huddle_hub::start(config.clone()).await.unwrap(),
        dir,
        config,
    }
}

async fn resume(hub: &TestHub, before: &Client) -> Client {
    let mut again = Client::connect(&hub.hub.ws_url()).await;
    again.seq = before.seq;
    again.id = before.id;
    again.token = before.token.clone();
    again.history = before.history.clone();
    let resumed = again
        .request(json!({"type": "resume", "token": before.token, "last_seq": before.seq, "history": before.history}))
        .await;
    assert_eq!(resumed["type"], "resumed", "{resumed}");
    again
}

#[tokio::test]
async fn a_restart_of_the_hub_loses_nothing_acknowledged() {
    let hub = hub().await;
    let api = Api::of(&hub);
    api.put_contact().await;
    let mut ana = Client::login(&hub, "ana").await;
    let mut ben = Client::login(&hub, "ben").await;
    api.deliver("i-1", "ana", "voice").await;
    api.set_state("i-1", "active").await;
    connected_about(&mut ana, &mut ben, "s-1", "i-1").await;
    let started = ana
        .request(json!({"type": "start_voice_consultation", "session_id": "s-1"}))
        .await;
    let id = started["consultation"]["id"].as_str().unwrap().to_string();
    ana.voice_event(&id, "ringing").await;
    ben.voice_event(&id, "ringing").await;
    // An event the agent has not read yet when the hub stops.
    let ana_held = ana.seq;
    api.call(
        "PATCH",
        "/integration/v1/interactions/i-1",
        json!({"case_data": [{"key": "note", "label": "Note", "value": "VIP"}]}),
    )
    .await;

    let hub = restart(hub).await;
    let api = Api::of(&hub);
    ana.seq = ana_held;
    let mut ana = resume(&hub, &ana).await;
    let event = ana.interaction_event("i-1", "held").await;
    assert_eq!(
        keys(&event["interaction"]).last().unwrap(),
        "note",
        "replayed after the restart"
    );
    let snapshot = ana.request(json!({"type": "snapshot"})).await;
    assert_eq!(snapshot["interactions"][0]["state"], "held");
    assert_eq!(snapshot["voice_consultations"][0]["id"], id.as_str());
    assert_eq!(snapshot["voice_consultations"][0]["state"], "ringing");

    // The retried delivery is still recognised, the contact and its history are there.
    let (status, _) = api
        .call(
            "POST",
            "/integration/v1/interactions",
            delivery("i-1", "ana", "voice"),
        )
        .await;
    assert_eq!(status, 200);
    let mut ben = resume(&hub, &ben).await;
    let details = ben
        .request(json!({"type": "interaction_details", "interaction_id": "i-1"}))
        .await;
    assert_eq!(
        details["details"]["history"].as_array().unwrap().len(),
        3,
        "{details}"
    );

    // The ringing consult call carries on where it was.
    let accepted = ben
        .request(
            json!({"type": "answer_voice_consultation", "consultation_id": id, "accept": true}),
        )
        .await;
    assert_eq!(accepted["type"], "ok", "{accepted}");
    ana.voice_event(&id, "connected").await;
    let ended = ana
        .request(json!({"type": "end_voice_consultation", "consultation_id": id}))
        .await;
    assert_eq!(ended["type"], "ok", "{ended}");
    ben.voice_event(&id, "ended").await;
    ana.interaction_event("i-1", "active").await;
}

/// The simulated switch behind a gate: putting a customer on hold waits until the test
/// lets it through, and consulting or retrieving can be made to fail, as a real switch
/// that is slow or broken does.
struct TroubledSwitch {
    inner: SimulatedSwitch,
    /// Holds pass one per permit, once `gated`.
    holds: tokio::sync::Semaphore,
    gated: AtomicBool,
    /// Consult calls are placed at once but reported one per permit, once `consults_gated`
    /// (a switch that answers late).
    consults: tokio::sync::Semaphore,
    consults_gated: AtomicBool,
    consult_fails: AtomicBool,
    retrieve_fails: AtomicBool,
}

fn broken() -> TelephonyError {
    TelephonyError::Failed("the switch does not answer".into())
}

impl Telephony for TroubledSwitch {
    fn hold<'a>(&'a self, call: &'a str) -> BoxFuture<'a, CallResult<Vec<CallStatus>>> {
        Box::pin(async move {
            if self.gated.load(Ordering::SeqCst) {
                self.holds.acquire().await.unwrap().forget();
            }
            self.inner.hold(call).await
        })
    }

    fn retrieve<'a>(&'a self, call: &'a str) -> BoxFuture<'a, CallResult<Vec<CallStatus>>> {
        if self.retrieve_fails.load(Ordering::SeqCst) {
            return Box::pin(std::future::ready(Err(broken())));
        }
        self.inner.retrieve(call)
    }

    fn consult<'a>(
        &'a self,
        call: &'a str,
        target_agent: &'a str,
    ) -> BoxFuture<'a, CallResult<Consulted>> {
        if self.consult_fails.load(Ordering::SeqCst) {
            return Box::pin(std::future::ready(Err(broken())));
        }
        Box::pin(async move {
            let placed = self.inner.consult(call, target_agent).await;
            if self.consults_gated.load(Ordering::SeqCst) {
                self.consults.acquire().await.unwrap().forget();
            }
            placed
        })
    }

    fn connect<'a>(&'a self, consult: &'a str) -> BoxFuture<'a, CallResult<Vec<CallStatus>>> {
        self.inner.connect(consult)
    }

    fn release<'a>(&'a self, call: &'a str) -> BoxFuture<'a, CallResult<Vec<CallStatus>>> {
        self.inner.release(call)
    }
}

async fn hub_with_troubled_switch() -> (TestHub, Arc<TroubledSwitch>) {
    let switch = Arc::new(TroubledSwitch {
        inner: SimulatedSwitch::new(),
        holds: tokio::sync::Semaphore::new(0),
        gated: AtomicBool::new(false),
        consults: tokio::sync::Semaphore::new(0),
        consults_gated: AtomicBool::new(false),
        consult_fails: AtomicBool::new(false),
        retrieve_fails: AtomicBool::new(false),
    });
    (hub_with_switch(integration, switch.clone()).await, switch)
}

/// Ana on a customer's call (`i-1`, active), in a consultation IM with Ben about it (`s-1`).
async fn consulting_on_a_call(hub: &TestHub) -> (Api, Client, Client) {
    let api = Api::of(hub);
    api.put_contact().await;
    let mut ana = Client::login(hub, "ana").await;
    let mut ben = Client::login(hub, "ben").await;
    api.deliver("i-1", "ana", "voice").await;
    assert_eq!(api.set_state("i-1", "active").await.0, 200);
    ana.interaction_event("i-1", "active").await;
    connected_about(&mut ana, &mut ben, "s-1", "i-1").await;
    (api, ana, ben)
}

/// Ana asks for a voice consultation about `s-1` (answered to `req` later, once the switch
/// lets it through), and it is on record as being placed: her other device is told to wait.
async fn start_voice_while_the_switch_waits(hub: &TestHub, ana: &mut Client, req: u64) {
    ana.send_raw(Message::Text(
        json!({"type": "start_voice_consultation", "session_id": "s-1", "req": req})
            .to_string()
            .into(),
    ))
    .await;
    let mut ana_elsewhere = Client::login(hub, "ana").await;
    let busy = ana_elsewhere
        .request(json!({"type": "start_voice_consultation", "session_id": "s-1"}))
        .await;
    assert_eq!(busy["code"], "wrong_state", "{busy}");
}

#[tokio::test]
async fn a_slow_switch_holds_up_nobody_else() {
    let (hub, switch) = hub_with_troubled_switch().await;
    switch.gated.store(true, Ordering::SeqCst);
    let (api, mut ana, mut ben) = consulting_on_a_call(&hub).await;
    let mut cho = Client::login(&hub, "cho").await;
    connected(&mut cho, &mut ben, "s-2").await;

    // Ana's voice consultation waits for the switch, which does not answer yet.
    ana.send_raw(Message::Text(
        json!({"type": "start_voice_consultation", "session_id": "s-1", "req": 900})
            .to_string()
            .into(),
    ))
    .await;
    // Meanwhile everyone else goes on: Chloé's message is stored and reaches Ben, and the
    // integration delivers an interaction. (Ana's own connection answers in order: what she
    // asks next is answered after the consultation.)
    let sent = cho
        .request(json!({"type": "send", "session_id": "s-2", "message_id": "m-1", "text": "still there?"}))
        .await;
    assert_eq!(sent["type"], "sent", "{sent}");
    ben.message_event("m-1").await;
    api.deliver("i-2", "cho", "chat").await;
    // The consultation cannot be started twice while the switch works, from another device.
    let mut ana_elsewhere = Client::login(&hub, "ana").await;
    let busy = ana_elsewhere
        .request(json!({"type": "start_voice_consultation", "session_id": "s-1"}))
        .await;
    assert_eq!(busy["code"], "wrong_state", "{busy}");

    // The switch answers: the consultation rings and Ana's request is answered.
    switch.holds.add_permits(1);
    let started = ana
        .wait_for("the answer to the voice consultation", |v| v["re"] == 900)
        .await;
    assert_eq!(started["type"], "voice_consultation", "{started}");
    let id = started["consultation"]["id"].as_str().unwrap().to_string();
    ben.voice_event(&id, "ringing").await;
    ana.interaction_event("i-1", "held").await;
}

#[tokio::test]
async fn an_interaction_ended_while_the_switch_places_the_call_is_told_to_the_agent() {
    let (hub, switch) = hub_with_troubled_switch().await;
    switch.consults_gated.store(true, Ordering::SeqCst);
    let (api, mut ana, _ben) = consulting_on_a_call(&hub).await;
    start_voice_while_the_switch_waits(&hub, &mut ana, 901).await;
    // The customer hangs up while the switch still dials the colleague, who then answers.
    assert_eq!(api.end("i-1").await.0, 200);
    switch.consults.add_permits(1);
    // The consult call the switch placed meanwhile is hung up, and Ana is told why.
    let answered = ana
        .wait_for("the answer to the voice consultation", |v| v["re"] == 901)
        .await;
    assert_eq!(answered["code"], "wrong_state", "{answered}");
    assert!(
        answered["message"]
            .as_str()
            .is_some_and(|m| m.contains("ended while the switch was working")),
        "{answered}"
    );
}

#[tokio::test]
async fn a_failing_switch_leaves_the_customer_on_hold_on_record() {
    let (hub, switch) = hub_with_troubled_switch().await;
    let (api, mut ana, mut ben) = consulting_on_a_call(&hub).await;

    // The colleague cannot be dialled, and the customer cannot be taken off hold again.
    switch.consult_fails.store(true, Ordering::SeqCst);
    switch.retrieve_fails.store(true, Ordering::SeqCst);
    let refused = ana
        .request(json!({"type": "start_voice_consultation", "session_id": "s-1"}))
        .await;
    assert_eq!(refused["code"], "telephony_failed", "{refused}");
    // Both agents are told that the customer is on hold, and the interaction says so.
    ana.interaction_event("i-1", "held").await;
    for agent in [&mut ana, &mut ben] {
        let event = agent
            .wait_for("the ended consultation", |v| {
                v["event"] == "voice_consultation"
            })
            .await;
        assert_eq!(event["consultation"]["state"], "ended", "{event}");
        assert_eq!(event["consultation"]["customer_held"], true, "{event}");
    }

    // The agent takes the customer back on the phone itself, and the system says so; a
    // failed consult that can take the customer back leaves nothing behind.
    switch.retrieve_fails.store(false, Ordering::SeqCst);
    switch.inner.retrieve("i-1").await.unwrap();
    assert_eq!(api.set_state("i-1", "active").await.0, 200);
    ana.interaction_event("i-1", "active").await;
    let refused = ana
        .request(json!({"type": "start_voice_consultation", "session_id": "s-1"}))
        .await;
    assert_eq!(refused["code"], "telephony_failed", "{refused}");
    let details = ana
        .request(json!({"type": "interaction_details", "interaction_id": "i-1"}))
        .await;
    assert_eq!(
        details["details"]["interaction"]["state"], "active",
        "{details}"
    );

    // Once the switch works again, so do consultations.
    switch.consult_fails.store(false, Ordering::SeqCst);
    let started = ana
        .request(json!({"type": "start_voice_consultation", "session_id": "s-1"}))
        .await;
    assert_eq!(started["type"], "voice_consultation", "{started}");
}

#[tokio::test]
async fn a_hub_stopped_while_the_switch_works_settles_the_consultation_when_it_starts() {
    let (hub, switch) = hub_with_troubled_switch().await;
    switch.gated.store(true, Ordering::SeqCst);
    let (_api, mut ana, ben) = consulting_on_a_call(&hub).await;
    start_voice_while_the_switch_waits(&hub, &mut ana, 900).await;

    // The hub stops before the switch answers; started again, it does not wait for an
    // answer that will never come: the agent can start the consultation again.
    drop((ana, ben));
    let hub = restart(hub).await;
    let mut ana = Client::login(&hub, "ana").await;
    let started = ana
        .request(json!({"type": "start_voice_consultation", "session_id": "s-1"}))
        .await;
    assert_eq!(started["type"], "voice_consultation", "{started}");
    assert_eq!(started["consultation"]["state"], "ringing", "{started}");
}
