//! A small raw-WebSocket client for the hub's tests: requests are answered by `re`, and
//! everything else the hub sends is kept to be awaited by kind.

#![allow(dead_code)] // Each test file uses its own part.

pub mod postgres;
pub mod process;

use std::collections::{BTreeMap, VecDeque};
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use huddle_hub::telephony::{SimulatedSwitch, Telephony};
use huddle_hub::{accounts, Config, RunningHub};
use serde_json::{json, Value};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

pub const DEADLINE: Duration = Duration::from_secs(10);

pub struct TestHub {
    pub hub: RunningHub,
    pub dir: tempfile::TempDir,
    /// The configuration it was started with.
    pub config: Config,
}

impl TestHub {
    /// The hub's store, as an administrator's tools reach it.
    pub async fn store(&self) -> huddle_hub::store::sql::Store {
        huddle_hub::store::open_configured(&self.config)
            .await
            .unwrap()
    }
}

/// Whether the hubs of these tests serve from PostgreSQL (`HUDDLE_TEST_STORE=postgres`)
/// rather than a SQLite file.
pub fn on_postgres() -> bool {
    std::env::var("HUDDLE_TEST_STORE").is_ok_and(|s| s == "postgres")
}

/// One PostgreSQL server for the whole test binary, stopped when it exits.
static SHARED_POSTGRES: std::sync::OnceLock<postgres::Postgres> = std::sync::OnceLock::new();

extern "C" fn stop_shared_postgres() {
    if let Some(server) = SHARED_POSTGRES.get() {
        server.stop_and_remove();
    }
}

/// The PostgreSQL database that stands for the SQLite file `database` when the tests run on
/// PostgreSQL: one of its own for each file, created on first use, so that a hub started
/// again on the same file finds the same data.
pub fn postgres_for(database: &std::path::Path) -> String {
    static CREATED: std::sync::Mutex<BTreeMap<std::path::PathBuf, String>> =
        std::sync::Mutex::new(BTreeMap::new());
    let server = SHARED_POSTGRES.get_or_init(|| {
        let server = postgres::Postgres::start();
        // SAFETY: registering a function without arguments to run at exit.
        unsafe {
            libc::atexit(stop_shared_postgres);
        }
        server
    });
    let mut created = CREATED.lock().unwrap_or_else(|p| p.into_inner());
    let next = created.len();
    created
        .entry(database.to_path_buf())
        .or_insert_with(|| server.database(&format!("hub{next}")))
        .clone()
}

/// Sets the hub's store: the SQLite file `database`, or its PostgreSQL stand-in.
pub fn use_store(config: &mut Config, database: std::path::PathBuf) {
    if on_postgres() {
        config.postgres = Some(huddle_hub::config::Secret::new(postgres_for(&database)));
    }
    config.database = database;
}

/// Three agents who may use IM: ana, ben, cho (password `<login>-password`).
pub const AGENTS: [(&str, &str); 3] = [
    ("ana", "Ana Lima"),
    ("ben", "Ben Okafor"),
    ("cho", "Chloé Martin"),
];

/// Adds the test agents (`AGENTS`) to the store `config` names.
pub async fn add_agents(config: &Config) {
    let db = huddle_hub::store::open_configured(config).await.unwrap();
    for (login, name) in AGENTS {
        accounts::add(&db, login, name, &format!("{login}-password"))
            .await
            .unwrap();
    }
    db.close().await;
}

pub async fn hub_with(tune: impl FnOnce(&mut Config)) -> TestHub {
    hub_with_switch(tune, std::sync::Arc::new(SimulatedSwitch::new())).await
}

/// A hub whose voice consultations go through `switch`.
pub async fn hub_with_switch(
    tune: impl FnOnce(&mut Config),
    switch: std::sync::Arc<dyn Telephony>,
) -> TestHub {
    let dir = tempfile::tempdir().unwrap();
    let mut config = Config {
        listen: "127.0.0.1:0".parse().unwrap(),
        ..Config::default()
    };
    use_store(&mut config, dir.path().join("hub.db"));
    add_agents(&config).await;
    tune(&mut config);
    TestHub {
        hub: huddle_hub::start_with_switch(config.clone(), switch)
            .await
            .unwrap(),
        dir,
        config,
    }
}

pub async fn hub() -> TestHub {
    hub_with(|_| {}).await
}

/// A hub whose message limits let a test send far faster than an agent types.
pub async fn unthrottled_hub() -> TestHub {
    hub_with(|c| {
        c.limits.messages_per_second = 1000;
        c.limits.message_burst = 1000;
    })
    .await
}

pub struct Client {
    ws: WebSocketStream<MaybeTlsStream<TcpStream>>,
    next_req: u64,
    /// Frames that answered no request, in arrival order.
    pub inbox: VecDeque<Value>,
    pub id: i64,
    pub token: String,
    /// The highest event number seen.
    pub seq: i64,
    /// The history the hub named at login.
    pub history: String,
    /// The hub's answer to hello.
    pub welcome: Value,
}

impl Client {
    pub async fn connect(url: &str) -> Self {
        let (ws, _) = tokio_tungstenite::connect_async(url).await.unwrap();
        Self::hello(ws).await
    }

    /// Connects from the loopback address `source` (127.0.0.2 and the like), as a client on
    /// another machine would, and says hello.
    pub async fn connect_from(url: &str, source: std::net::Ipv4Addr) -> Self {
        let hub: std::net::SocketAddr = url
            .trim_start_matches("ws://")
            .trim_end_matches(huddle_protocol::WS_PATH)
            .parse()
            .unwrap();
        let socket = tokio::net::TcpSocket::new_v4().unwrap();
        socket.bind((source, 0).into()).unwrap();
        let tcp = socket.connect(hub).await.unwrap();
        let (ws, _) = tokio_tungstenite::client_async(url, MaybeTlsStream::Plain(tcp))
            .await
            .unwrap();
        Self::hello(ws).await
    }

    /// Logs in from the loopback address `source`.
    pub async fn login_from(hub: &TestHub, login: &str, source: std::net::Ipv4Addr) -> Self {
        let mut c = Self::connect_from(&hub.hub.ws_url(), source).await;
        c.log_in(login).await;
        c
    }

    async fn hello(ws: WebSocketStream<MaybeTlsStream<TcpStream>>) -> Self {
        let mut c = Client {
            ws,
            next_req: 1,
            inbox: VecDeque::new(),
            id: 0,
            token: String::new(),
            seq: 0,
            history: String::new(),
            welcome: Value::Null,
        };
        let welcome = c
            .request(json!({"type": "hello", "protocol": 1, "client": "test"}))
            .await;
        assert_eq!(welcome["type"], "welcome", "{welcome}");
        c.welcome = welcome;
        c
    }

    /// Connects and logs in; panics if the login fails.
    pub async fn login(hub: &TestHub, login: &str) -> Self {
        Self::login_at(&hub.hub.ws_url(), login).await
    }

    /// Connects to the hub at `url` and logs in; panics if the login fails.
    pub async fn login_at(url: &str, login: &str) -> Self {
        let mut c = Self::connect(url).await;
        c.log_in(login).await;
        c
    }

    /// Logs this connection in as `login`; panics if the login fails.
    async fn log_in(&mut self, login: &str) {
        let c = self;
        let reply = c
            .request(
                json!({"type": "login", "login": login, "password": format!("{login}-password")}),
            )
            .await;
        assert_eq!(reply["type"], "logged_in", "{reply}");
        c.id = reply["agent"]["id"].as_i64().unwrap();
        c.token = reply["token"].as_str().unwrap().to_string();
        c.seq = reply["seq"].as_i64().unwrap();
        c.history = reply["history"].as_str().unwrap().to_string();
    }

    async fn recv(&mut self) -> Option<Value> {
        loop {
            let message = tokio::time::timeout(DEADLINE, self.ws.next())
                .await
                .expect("no frame before the deadline")?;
            match message {
                Ok(Message::Text(t)) => {
                    let v: Value = serde_json::from_str(t.as_str()).unwrap();
                    if v["type"] == "event" {
                        let seq = v["seq"].as_i64().unwrap();
                        assert!(
                            seq > self.seq,
                            "event {seq} again or out of order after {}",
                            self.seq
                        );
                        assert_eq!(seq, self.seq + 1, "a gap before event {seq}");
                        self.seq = seq;
                    }
                    return Some(v);
                }
                Ok(Message::Close(_)) | Err(_) => return None,
                Ok(_) => {}
            }
        }
    }

    /// The next frame, or `None` once the connection has ended.
    pub async fn next_frame(&mut self) -> Option<Value> {
        if let Some(v) = self.inbox.pop_front() {
            return Some(v);
        }
        self.recv().await
    }

    pub async fn send_raw(&mut self, message: Message) {
        self.ws.send(message).await.unwrap();
    }

    /// Sends a request and returns its answer; other frames go to the inbox.
    pub async fn request(&mut self, mut frame: Value) -> Value {
        let req = self.next_req;
        self.next_req += 1;
        frame["req"] = json!(req);
        self.ws
            .send(Message::Text(frame.to_string().into()))
            .await
            .unwrap();
        loop {
            let v = self
                .recv()
                .await
                .expect("connection ended before the answer");
            if v["re"] == json!(req) {
                return v;
            }
            self.inbox.push_back(v);
        }
    }

    /// Sends requests (each with its own `req`) back to back without waiting, so that the
    /// hub takes them together, and returns their answers by `req`.
    pub async fn send_together(&mut self, frames: &[Value]) -> BTreeMap<u64, Value> {
        for frame in frames {
            self.send_raw(Message::Text(frame.to_string().into())).await;
        }
        let reqs: Vec<u64> = frames.iter().filter_map(|f| f["req"].as_u64()).collect();
        let mut answers = BTreeMap::new();
        while answers.len() < frames.len() {
            let v = self
                .wait_for("an answer to the requests sent together", |v| {
                    v["re"].as_u64().is_some_and(|r| reqs.contains(&r))
                })
                .await;
            answers.insert(v["re"].as_u64().unwrap(), v);
        }
        answers
    }

    /// The texts of the messages of the first session of a fresh snapshot, in order.
    pub async fn snapshot_texts(&mut self) -> Vec<String> {
        let snapshot = self.request(json!({"type": "snapshot"})).await;
        snapshot["sessions"][0]["messages"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["text"].as_str().unwrap().to_string())
            .collect()
    }

    /// Waits for the next frame (not an answer) that `accept` takes, keeping the others.
    pub async fn wait_for(&mut self, what: &str, accept: impl Fn(&Value) -> bool) -> Value {
        if let Some(i) = self.inbox.iter().position(&accept) {
            return self.inbox.remove(i).unwrap();
        }
        let found = tokio::time::timeout(DEADLINE, async {
            loop {
                let v = self.recv().await?;
                if accept(&v) {
                    return Some(v);
                }
                self.inbox.push_back(v);
            }
        })
        .await;
        match found {
            Ok(Some(v)) => v,
            _ => panic!("never received {what}; inbox: {:?}", self.inbox),
        }
    }

    /// Follows these agents' presence; returns the presences the hub then sends.
    pub async fn follow(&mut self, agents: &[i64]) -> Value {
        let answer = self
            .request(json!({"type": "follow", "agents": agents}))
            .await;
        assert_eq!(answer["type"], "ok", "{answer}");
        self.wait_for("the presences", |v| v["type"] == "presences")
            .await["presences"]
            .take()
    }

    /// Waits for a `session` event of this session in this state.
    pub async fn session_event(&mut self, session_id: &str, state: &str) -> Value {
        self.wait_for(&format!("session {session_id} {state}"), |v| {
            v["event"] == "session"
                && v["session"]["id"] == session_id
                && v["session"]["state"] == state
        })
        .await
    }

    /// Waits for the `message` event of this message.
    pub async fn message_event(&mut self, message_id: &str) -> Value {
        self.wait_for(&format!("message {message_id}"), |v| {
            v["event"] == "message" && v["message"]["id"] == message_id
        })
        .await
    }

    /// Waits for an `interaction` event of this interaction in this state.
    pub async fn interaction_event(&mut self, interaction_id: &str, state: &str) -> Value {
        self.wait_for(&format!("interaction {interaction_id} {state}"), |v| {
            v["event"] == "interaction"
                && v["interaction"]["id"] == interaction_id
                && v["interaction"]["state"] == state
        })
        .await
    }

    /// Waits for a `voice_consultation` event of this consultation in this state.
    pub async fn voice_event(&mut self, consultation_id: &str, state: &str) -> Value {
        self.wait_for(
            &format!("voice consultation {consultation_id} {state}"),
            |v| {
                v["event"] == "voice_consultation"
                    && v["consultation"]["id"] == consultation_id
                    && v["consultation"]["state"] == state
            },
        )
        .await
    }

    /// The close frame the hub ends the connection with (code and reason), passing over
    /// everything before it; `None` when it ends without one.
    pub async fn close_frame(&mut self) -> Option<(u16, String)> {
        tokio::time::timeout(DEADLINE, async {
            loop {
                match self.ws.next().await {
                    Some(Ok(Message::Close(frame))) => {
                        return frame.map(|f| (u16::from(f.code), f.reason.to_string()))
                    }
                    Some(Ok(_)) => {}
                    None | Some(Err(_)) => return None,
                }
            }
        })
        .await
        .expect("the hub kept the connection open")
    }

    /// Whether the connection was closed by the hub (within the deadline).
    pub async fn closed(&mut self) -> bool {
        tokio::time::timeout(DEADLINE, async { while self.recv().await.is_some() {} })
            .await
            .is_ok()
    }
}

/// Invites `target` from `inviter` and returns the answer.
pub async fn invite(inviter: &mut Client, session_id: &str, target: i64) -> Value {
    inviter
        .request(json!({"type": "invite", "session_id": session_id, "target": target}))
        .await
}

/// Opens a connected session between two clients.
pub async fn connected(inviter: &mut Client, target: &mut Client, session_id: &str) {
    let reply = invite(inviter, session_id, target.id).await;
    assert_eq!(reply["type"], "session", "{reply}");
    target.session_event(session_id, "inviting").await;
    let reply = target
        .request(json!({"type": "accept", "session_id": session_id}))
        .await;
    assert_eq!(reply["type"], "ok", "{reply}");
    inviter.session_event(session_id, "connected").await;
    target.session_event(session_id, "connected").await;
}
