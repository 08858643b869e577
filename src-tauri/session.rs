//! The signed-in agent's connection, as the windows are shown it.

use std::sync::Mutex;

use huddle_client::Connection;
use huddle_protocol::AgentProfile;
use tauri::async_runtime::JoinHandle;
use tauri::{AppHandle, Emitter};

use crate::view::{ConnectionView, CONNECTION_EVENT};

/// What the shell knows of the agent's session with the hub.
#[derive(Default)]
pub struct Session {
    inner: Mutex<Inner>,
}

#[derive(Default)]
struct Inner {
    view: Option<ConnectionView>,
    /// Watches the open connection; aborting it closes the connection.
    watcher: Option<JoinHandle<()>>,
    /// Counts sign-ins, so a watcher of an earlier one cannot overwrite a later state.
    generation: u64,
}

impl Session {
    /// What the main window should show now.
    pub fn view(&self) -> ConnectionView {
        self.lock()
            .view
            .clone()
            .unwrap_or(ConnectionView::SignedOut)
    }

    /// Takes over a logged-in connection and tells the windows when it ends.
    pub fn signed_in(
        &self,
        app: &AppHandle,
        connection: Connection,
        hub: String,
        agent: AgentProfile,
    ) {
        let online = ConnectionView::Online {
            hub: hub.clone(),
            agent: agent.clone(),
        };
        let mut inner = self.lock();
        if let Some(old) = inner.watcher.take() {
            old.abort();
        }
        inner.view = Some(online.clone());
        inner.generation += 1;
        let generation = inner.generation;
        let watcher_app = app.clone();
        inner.watcher = Some(tauri::async_runtime::spawn(async move {
            let reason = connection.closed().await;
            tracing::info!(%reason, "connection to the hub ended");
            let offline = ConnectionView::Offline { hub, agent, reason };
            let session = tauri::Manager::state::<Session>(&watcher_app);
            let mut inner = session.lock();
            if inner.generation == generation {
                inner.view = Some(offline.clone());
                drop(inner);
                emit(&watcher_app, &offline);
            }
        }));
        drop(inner);
        emit(app, &online);
    }

    /// Closes the connection and forgets the agent.
    pub fn sign_out(&self, app: &AppHandle) {
        let mut inner = self.lock();
        if let Some(watcher) = inner.watcher.take() {
            watcher.abort();
        }
        inner.view = None;
        inner.generation += 1;
        drop(inner);
        emit(app, &ConnectionView::SignedOut);
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        // A panic while holding the lock cannot leave `Inner` half-updated: every update is
        // a single assignment.
        self.inner
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

fn emit(app: &AppHandle, view: &ConnectionView) {
    if let Err(e) = app.emit_to("main", CONNECTION_EVENT, view) {
        tracing::warn!(error = %e, "cannot tell the main window about the connection");
    }
}
