//! What the shell tells each window goes down a channel that window opened for itself, so a
//! window hears only its own news. Tauri's global events would let any window's script
//! listen to every target (an IM window to another conversation's messages), so windows
//! are not allowed to listen to them at all.

use std::collections::HashMap;
use std::sync::Mutex;

use serde::Serialize;
use tauri::ipc::Channel;
use tauri::{AppHandle, Manager, State, WebviewWindow};
use ts_rs::TS;

/// One piece of news for a window: its name (`session`, `message`, `zoom`…) and payload.
#[derive(Debug, Clone, Serialize, TS)]
pub struct WindowEvent {
    /// What happened.
    pub event: String,
    /// Its payload, as the event's own type.
    #[ts(type = "unknown")]
    pub payload: serde_json::Value,
}

/// Each open window's channel, by window label.
#[derive(Default)]
pub struct WindowEvents {
    channels: Mutex<HashMap<String, Channel<WindowEvent>>>,
}

impl WindowEvents {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Channel<WindowEvent>>> {
        self.channels.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Sends `event` to the window `label`; a window that has not opened its channel yet
    /// misses it, and asks for the state once it has.
    pub fn send<T: Serialize>(&self, label: &str, event: &str, payload: &T) {
        let Some(channel) = self.lock().get(label).cloned() else {
            return;
        };
        let payload = match serde_json::to_value(payload) {
            Ok(payload) => payload,
            Err(e) => {
                tracing::warn!(window = label, event, error = %e, "cannot encode news for a window");
                return;
            }
        };
        let news = WindowEvent {
            event: event.to_string(),
            payload,
        };
        if let Err(e) = channel.send(news) {
            tracing::warn!(window = label, event, error = %e, "cannot tell a window");
        }
    }

    /// Sends `event` to every window.
    pub fn send_all<T: Serialize>(&self, event: &str, payload: &T) {
        let labels: Vec<String> = self.lock().keys().cloned().collect();
        for label in labels {
            self.send(&label, event, payload);
        }
    }

    /// The window is gone: its channel goes too.
    pub fn closed(&self, label: &str) {
        self.lock().remove(label);
    }
}

/// Tells a window's news to `app`'s window `label`.
pub fn send<T: Serialize>(app: &AppHandle, label: &str, event: &str, payload: &T) {
    app.state::<WindowEvents>().send(label, event, payload);
}

/// A window opens its channel (again, after a reload: the new one replaces the old). The
/// label is the calling window's own: no window can ask for another's news.
#[tauri::command]
pub fn window_events(
    window: WebviewWindow,
    events: State<'_, WindowEvents>,
    channel: Channel<WindowEvent>,
) {
    events.lock().insert(window.label().to_string(), channel);
}
