//! The paths by which an invitation reaches the agent: the IM window waiting in the taskbar,
//! the toast, the OS notification and the tray. The engine knows which invitations wait;
//! this module only shows them, and whichever path the agent answers from, the engine acts.

use tauri::{AppHandle, Manager};

use crate::notify::Notifications;
use crate::session::Session;
use crate::session_view::SessionView;
use crate::settings::Settings;
use crate::system_quiet::SystemQuiet;
use crate::toast::Toasts;
use crate::view::Failure;
use crate::{tray, windows};

/// An invitation arrived (or was found waiting at sign-in): its window waits in the taskbar,
/// and unless the agent or the system does not want to be disturbed, the toast and a
/// notification show it.
/// Showing it again changes nothing.
pub fn arrived(app: &AppHandle, session: &SessionView) {
    windows::open_im(app, session, windows::Open::Waiting);
    let preferences = app.state::<Settings>().get().preferences;
    if !preferences.do_not_disturb && !app.state::<SystemQuiet>().on() {
        app.state::<Toasts>().offer(app, session);
        app.state::<Notifications>()
            .invitation(app, session, preferences.text_in_notifications);
    }
    tray::refresh(app);
}

/// An invitation no longer waits (accepted, rejected, withdrawn, timed out). One the agent
/// missed leaves no window behind unless the agent brought it up: the main window lists the
/// missed ones, so that a hundred abandoned invitations do not leave a hundred windows.
pub fn settled(app: &AppHandle, session_id: &str, missed: bool) {
    app.state::<Toasts>().withdraw(app, session_id);
    app.state::<Notifications>().settled(app, session_id);
    if missed {
        windows::close_if_waiting(app, session_id);
    }
    tray::refresh(app);
}

/// Takes every invitation off the toast, the notifications and the tray (after a sign-out).
pub fn clear(app: &AppHandle) {
    app.state::<Toasts>().clear(app);
    app.state::<Notifications>().clear(app);
    tray::refresh(app);
}

/// Holds the toasts back (do not disturb was turned on); the windows keep waiting.
pub fn hold_back(app: &AppHandle) {
    app.state::<Toasts>().clear(app);
    app.state::<Notifications>().clear(app);
}

/// Accepts an invitation, from wherever: its window comes up, connected and focused.
pub async fn accept(app: &AppHandle, session_id: &str) -> Result<(), Failure> {
    let engine = engine(app)?;
    engine.accept(session_id).await.map_err(Failure::from)?;
    open(app, session_id).await
}

/// Rejects an invitation, from wherever: the inviter is told and its window closes.
pub async fn reject(app: &AppHandle, session_id: &str) -> Result<(), Failure> {
    let engine = engine(app)?;
    engine.reject(session_id).await.map_err(Failure::from)?;
    if let Some(window) = app.get_webview_window(&windows::im_label(session_id)) {
        if let Err(e) = window.destroy() {
            tracing::warn!(error = %e, "cannot close a rejected invitation's window");
        }
    }
    Ok(())
}

/// Brings a session's window up (the agent opened it from the tray, a notification or the
/// main window); the toast no longer needs to show it, since the window does.
pub async fn open(app: &AppHandle, session_id: &str) -> Result<(), Failure> {
    let engine = engine(app)?;
    let view = engine
        .session(session_id)
        .map(|s| SessionView::of(&s, engine.agent()))
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
