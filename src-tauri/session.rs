//! The signed-in agent's engine, and the connection state the main window is shown.

use std::sync::Mutex;

use huddle_client::{ConnectionState, Engine, EngineEvent};
use tauri::async_runtime::JoinHandle;
use tauri::{AppHandle, Emitter};

use crate::view::{ConnectionView, CONNECTION_EVENT};

/// The shell's one client engine, once an agent has signed in.
#[derive(Default)]
pub struct Session {
    inner: Mutex<Option<Signed>>,
}

struct Signed {
    engine: Engine,
    /// The hub's address as the agent typed it.
    hub: String,
    /// Forwards the engine's connection changes to the main window.
    forwarder: JoinHandle<()>,
}

impl Session {
    /// What the main window should show now.
    pub fn view(&self) -> ConnectionView {
        match &*self.lock() {
            Some(s) => view_of(&s.engine, &s.hub, s.engine.state()),
            None => ConnectionView::SignedOut,
        }
    }

    /// Takes over a signed-in engine and tells the main window about its connection.
    pub fn signed_in(&self, app: &AppHandle, engine: Engine, hub: String) {
        let mut events = engine.subscribe();
        let (watched, watched_hub, forward_app) = (engine.clone(), hub.clone(), app.clone());
        let forwarder = tauri::async_runtime::spawn(async move {
            while let Ok(event) = events.recv().await {
                if let EngineEvent::Connection(state) = event {
                    emit(&forward_app, &view_of(&watched, &watched_hub, state));
                }
            }
        });
        let old = self.lock().replace(Signed {
            engine,
            hub,
            forwarder,
        });
        if let Some(old) = old {
            old.forwarder.abort();
        }
        emit(app, &self.view());
    }

    /// Signs out: the hub revokes the session and the engine stops.
    pub async fn sign_out(&self, app: &AppHandle) {
        let signed = self.lock().take();
        if let Some(signed) = signed {
            signed.forwarder.abort();
            signed.engine.sign_out().await;
        }
        emit(app, &ConnectionView::SignedOut);
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Option<Signed>> {
        // Every update under the lock is a single assignment: a panic cannot leave it torn.
        self.inner
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

fn view_of(engine: &Engine, hub: &str, state: ConnectionState) -> ConnectionView {
    let (hub, agent) = (hub.to_string(), engine.agent().clone());
    match state {
        ConnectionState::Online => ConnectionView::Online { hub, agent },
        ConnectionState::Connecting => ConnectionView::Offline {
            hub,
            agent,
            reason: "reconnecting…".into(),
        },
        ConnectionState::Offline { reason } => ConnectionView::Offline {
            hub,
            agent,
            reason: format!("{reason}; reconnecting"),
        },
        ConnectionState::SignedOut { .. } => ConnectionView::SignedOut,
    }
}

fn emit(app: &AppHandle, view: &ConnectionView) {
    if let Err(e) = app.emit_to("main", CONNECTION_EVENT, view) {
        tracing::warn!(error = %e, "cannot tell the main window about the connection");
    }
}
