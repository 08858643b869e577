//! The invitations waiting for this agent's answer, and the paths by which they reach the
//! agent: the IM window waiting in the taskbar, the toast, the OS notification and the tray.
//! Whichever path the agent answers from, the outcome is the same.

use std::collections::BTreeMap;
use std::sync::Mutex;

use tauri::{AppHandle, Manager};

use crate::notify::Notifications;
use crate::session::Session;
use crate::session_view::SessionView;
use crate::settings::Settings;
use crate::toast::Toasts;
use crate::view::Failure;
use crate::{tray, windows};

/// The invitations not answered yet, by session id.
#[derive(Default)]
pub struct Pending {
    sessions: Mutex<BTreeMap<String, SessionView>>,
}

impl Pending {
    /// The invitations not answered yet, oldest first.
    pub fn list(&self) -> Vec<SessionView> {
        let mut list: Vec<_> = self.lock().values().cloned().collect();
        list.sort_by_key(|s| s.created_at);
        list
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, BTreeMap<String, SessionView>> {
        self.sessions.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// An invitation arrived (or was found waiting at sign-in): its window waits in the taskbar,
/// and unless the agent does not want to be disturbed, the toast and a notification show it.
pub fn arrived(app: &AppHandle, session: &SessionView) {
    let new = app
        .state::<Pending>()
        .lock()
        .insert(session.id.clone(), session.clone())
        .is_none();
    if !new {
        return;
    }
    windows::open_im(app, session, windows::Open::Waiting);
    if !app.state::<Settings>().get().preferences.do_not_disturb {
        app.state::<Toasts>().offer(app, session);
        app.state::<Notifications>().invitation(app, session);
    }
    tray::refresh(app);
}

/// A session moved on (accepted, rejected, withdrawn, timed out): it no longer waits.
pub fn settled(app: &AppHandle, session_id: &str) {
    let was_pending = app.state::<Pending>().lock().remove(session_id).is_some();
    app.state::<Toasts>().withdraw(app, session_id);
    app.state::<Notifications>().settled(app, session_id);
    if was_pending {
        tray::refresh(app);
    }
}

/// Forgets every invitation (after a sign-out).
pub fn clear(app: &AppHandle) {
    let ids: Vec<String> = app.state::<Pending>().lock().keys().cloned().collect();
    for id in ids {
        settled(app, &id);
    }
    tray::refresh(app);
}

/// Holds the toasts back (do not disturb was turned on); the windows keep waiting.
pub fn hold_back(app: &AppHandle) {
    app.state::<Toasts>().clear(app);
    for session in app.state::<Pending>().list() {
        app.state::<Notifications>().settled(app, &session.id);
    }
}

/// Accepts an invitation, from wherever: its window comes up, connected and focused.
pub async fn accept(app: &AppHandle, session_id: &str) -> Result<(), Failure> {
    let engine = engine(app)?;
    engine.accept(session_id).await.map_err(Failure::from)?;
    settled(app, session_id);
    open(app, session_id).await
}

/// Rejects an invitation, from wherever: the inviter is told and its window closes.
pub async fn reject(app: &AppHandle, session_id: &str) -> Result<(), Failure> {
    let engine = engine(app)?;
    engine.reject(session_id).await.map_err(Failure::from)?;
    settled(app, session_id);
    if let Some(window) = app.get_webview_window(&windows::im_label(session_id)) {
        if let Err(e) = window.destroy() {
            tracing::warn!(error = %e, "cannot close a rejected invitation's window");
        }
    }
    Ok(())
}

/// Brings a session's window up (the agent opened it from the tray or a notification); the
/// toast no longer needs to show it, since the window does.
pub async fn open(app: &AppHandle, session_id: &str) -> Result<(), Failure> {
    let engine = engine(app)?;
    let me = engine.agent().clone();
    let view = engine
        .sessions()
        .await
        .map_err(Failure::from)?
        .iter()
        .find(|s| s.info.id == session_id)
        .map(|s| SessionView::of(s, &me))
        .ok_or_else(|| Failure::new("Huddle knows no such IM session."))?;
    app.state::<Toasts>().withdraw(app, session_id);
    windows::open_im(app, &view, windows::Open::Focused);
    Ok(())
}

fn engine(app: &AppHandle) -> Result<huddle_client::Engine, Failure> {
    app.state::<Session>()
        .engine()
        .ok_or_else(|| Failure::new("You are signed out. Sign in from the main window."))
}
