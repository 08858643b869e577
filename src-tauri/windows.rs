//! The app's windows: one per IM session (`im-<session id>`), opened focused or waiting in
//! the taskbar, and the places of windows remembered between runs.

use tauri::webview::PlatformWebview;
use tauri::{
    AppHandle, Manager, PhysicalPosition, PhysicalSize, UserAttentionType, WebviewUrl,
    WebviewWindow, WebviewWindowBuilder, Window, Wry,
};

use std::collections::BTreeMap;
use std::sync::Mutex;

use crate::session_view::{RevealView, SessionView, REVEAL_EVENT};
use crate::settings::{Place, Settings};
use crate::window_events;

/// The label prefix of IM windows.
const IM_PREFIX: &str = "im-";

/// The label of a session's window.
pub fn im_label(session_id: &str) -> String {
    format!("{IM_PREFIX}{session_id}")
}

/// The session an IM window shows, from its label.
pub fn session_of(label: &str) -> Option<&str> {
    label.strip_prefix(IM_PREFIX).filter(|id| !id.is_empty())
}

/// How an IM window is opened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Open {
    /// Shown and focused: the agent asked for it.
    Focused,
    /// An invitation: minimized in the taskbar, asking for attention, without taking the
    /// focus from what the agent is doing. A window already open is left as it is.
    Waiting,
    /// A session that was open when Huddle last quit: shown again, without asking for the
    /// focus. A window already open is left as it is.
    Restored,
}

/// A window's builder, configured by its opener.
type Builder<'a> = WebviewWindowBuilder<'a, Wry, AppHandle>;

/// Builds a window of the UI beside the main window, then hands it (or why it could not be
/// built) to `then`. On Linux its webview shares the main window's web process: WebKitGTK
/// otherwise starts a process of its own for every webview (about 70 MB each), and agents
/// keep several IM windows open. The window exists once `then` runs, which may be after this
/// returns.
pub fn build_beside_main<C, T>(app: &AppHandle, label: String, configure: C, then: T)
where
    C: for<'a> FnOnce(Builder<'a>) -> Builder<'a> + Send + 'static,
    T: FnOnce(tauri::Result<WebviewWindow>) + Send + 'static,
{
    let owner = app.clone();
    let build = move |related: Option<PlatformWebview>| {
        let builder = configure(WebviewWindowBuilder::new(
            &owner,
            &label,
            WebviewUrl::App("index.html".into()),
        ));
        #[cfg(target_os = "linux")]
        let builder = match related {
            Some(webview) => builder.with_related_view(webview.inner()),
            None => builder,
        };
        #[cfg(not(target_os = "linux"))]
        let _ = related;
        then(builder.build());
    };
    match app.get_webview_window("main") {
        // The main window's webview can only be reached on the main thread; the new window
        // is built there.
        Some(main) if cfg!(target_os = "linux") => {
            if let Err(e) = main.with_webview(move |webview| build(Some(webview))) {
                tracing::error!(error = %e, "cannot reach the main window to open another");
            }
        }
        _ => build(None),
    }
}

/// IM windows being built, with how each is to be shown: a second request while one is
/// built only says how (an agent's click wins over an invitation's wait); `None` when the
/// window is no longer wanted (its invitation ended unanswered meanwhile).
static OPENING: Mutex<BTreeMap<String, Option<Open>>> = Mutex::new(BTreeMap::new());

fn opening() -> std::sync::MutexGuard<'static, BTreeMap<String, Option<Open>>> {
    OPENING.lock().unwrap_or_else(|p| p.into_inner())
}

/// Opens the window of a session, or brings it up when it is already open.
pub fn open_im(app: &AppHandle, session: &SessionView, how: Open) {
    open(app, session, how, None);
}

/// Opens the window of a session (or brings it up) showing one of its messages, highlighted.
pub fn open_im_at(app: &AppHandle, session: &SessionView, reveal: RevealView) {
    open(app, session, Open::Focused, Some(reveal));
}

fn open(app: &AppHandle, session: &SessionView, how: Open, reveal: Option<RevealView>) {
    let label = im_label(&session.id);
    if let Some(window) = app.get_webview_window(&label) {
        if how == Open::Focused {
            focus(&window);
        }
        if let Some(reveal) = &reveal {
            window_events::send(app, &label, REVEAL_EVENT, reveal);
        }
        return;
    }
    if let Some(pending) = opening().get_mut(&label) {
        if how == Open::Focused || pending.is_none() {
            *pending = Some(how);
        }
        return;
    }
    opening().insert(label.clone(), Some(how));
    let title = format!("{} — Huddle", session.other.display_name);
    // A consultation shows the customer's case data beside the transcript.
    let width = if session.consultation { 820.0 } else { 480.0 };
    let consultation = session.consultation;
    let owner = app.clone();
    let label_of_build = label.clone();
    // A new window has no channel yet to be told which message to show: its page finds it
    // set before its script runs.
    let reveal_script = reveal.and_then(|r| match serde_json::to_string(&r) {
        Ok(json) => Some(format!("window.__HUDDLE_REVEAL__ = {json};")),
        Err(e) => {
            tracing::warn!(error = %e, "cannot pass the message to show to a new IM window");
            None
        }
    });
    build_beside_main(
        app,
        label,
        move |builder| {
            let builder = builder
                .title(title)
                .inner_size(width, 620.0)
                .min_inner_size(360.0, 380.0)
                .visible(false);
            match reveal_script {
                Some(script) => builder.initialization_script(script),
                None => builder,
            }
        },
        move |built| {
            let wanted = opening().remove(&label_of_build).unwrap_or(Some(how));
            match (built, wanted) {
                (Ok(window), Some(how)) => present_im(&owner, &window, consultation, width, how),
                (Ok(window), None) => {
                    if let Err(e) = window.destroy() {
                        tracing::warn!(error = %e, "cannot close an IM window no longer wanted");
                    }
                }
                (Err(e), _) => tracing::error!(error = %e, "cannot open an IM window"),
            }
        },
    );
}

/// Places a new IM window where IM windows were last, and shows it as `how` says.
fn present_im(app: &AppHandle, window: &WebviewWindow, consultation: bool, width: f64, how: Open) {
    if let Some(place) = app.state::<Settings>().get().places.get("im") {
        let mut place = cascade(app, *place);
        if consultation {
            // Wide enough for the case data, whatever the last plain IM window's width.
            place.width = place
                .width
                .max((width * window.scale_factor().unwrap_or(1.0)) as u32);
        }
        put(window, place);
    }
    let shown = match how {
        Open::Focused => window.show().and_then(|()| window.set_focus()),
        Open::Restored => window.show(),
        // Mapped straight as iconic: minimize while hidden, then show.
        Open::Waiting => window
            .minimize()
            .and_then(|()| window.show())
            .and_then(|()| window.request_user_attention(Some(UserAttentionType::Critical))),
    };
    if let Err(e) = shown {
        tracing::warn!(error = %e, "cannot show an IM window");
    }
}

/// Brings a window up, restoring it first when minimized.
pub fn focus(window: &WebviewWindow) {
    let result = window
        .unminimize()
        .and_then(|()| window.show())
        .and_then(|()| window.set_focus());
    if let Err(e) = result {
        tracing::warn!(error = %e, "cannot bring a window up");
    }
}

/// Brings a session's window up, asking for attention: a colleague asks for a voice
/// consultation in it.
pub fn call_attention(app: &AppHandle, session_id: &str) {
    if let Some(window) = app.get_webview_window(&im_label(session_id)) {
        focus(&window);
        if let Err(e) = window.request_user_attention(Some(UserAttentionType::Critical)) {
            tracing::warn!(error = %e, "cannot ask for attention");
        }
    }
}

/// Closes a session's window if it still waits minimized, never brought up by the agent.
pub fn close_if_waiting(app: &AppHandle, session_id: &str) {
    let label = im_label(session_id);
    // One still being built closes as soon as it is, unless the agent asked for it meanwhile.
    if let Some(pending) = opening().get_mut(&label) {
        if *pending == Some(Open::Waiting) {
            *pending = None;
        }
        return;
    }
    let Some(window) = app.get_webview_window(&label) else {
        return;
    };
    if window.is_minimized().unwrap_or(false) {
        if let Err(e) = window.destroy() {
            tracing::warn!(error = %e, "cannot close a missed invitation's window");
        }
    }
}

/// Closes every IM window (after a sign-out), without asking their sessions to end.
pub fn close_all_im(app: &AppHandle) {
    for (label, window) in app.webview_windows() {
        if session_of(&label).is_some() {
            if let Err(e) = window.destroy() {
                tracing::warn!(error = %e, "cannot close an IM window");
            }
        }
    }
}

/// Puts the main window where it was last time.
pub fn restore_main(app: &AppHandle) {
    let place = app.state::<Settings>().get().places.get("main").copied();
    if let (Some(place), Some(window)) = (place, app.get_webview_window("main")) {
        if on_screen(app, &place) {
            put(&window, place);
        }
    }
}

/// Notes where a window is now, under its kind (`main`, `im`).
pub fn note_place(window: &Window) {
    let kind = if window.label() == "main" {
        "main"
    } else if session_of(window.label()).is_some() {
        "im"
    } else {
        return;
    };
    let (Ok(position), Ok(size), Ok(maximized), Ok(minimized)) = (
        window.outer_position(),
        window.inner_size(),
        window.is_maximized(),
        window.is_minimized(),
    ) else {
        return;
    };
    // A minimized or maximized window's geometry is not where the agent put it.
    if minimized || maximized {
        return;
    }
    let place = Place {
        x: position.x,
        y: position.y,
        width: size.width,
        height: size.height,
    };
    if window.state::<Settings>().note_place(kind, place) {
        let app = window.app_handle().clone();
        tauri::async_runtime::spawn(async move {
            tokio::time::sleep(PLACE_SETTLES).await;
            app.state::<Settings>().flush();
        });
    }
}

/// How long a moved window is left to settle before its place is written.
const PLACE_SETTLES: std::time::Duration = std::time::Duration::from_millis(500);

fn put(window: &WebviewWindow, place: Place) {
    let result = window
        .set_size(PhysicalSize::new(place.width, place.height))
        .and_then(|()| window.set_position(PhysicalPosition::new(place.x, place.y)));
    if let Err(e) = result {
        tracing::warn!(error = %e, "cannot place a window");
    }
}

/// The place for a new IM window: the last one's, moved down and right for each IM window
/// already open, so that they do not hide each other exactly.
fn cascade(app: &AppHandle, place: Place) -> Place {
    let open = app
        .webview_windows()
        .keys()
        .filter(|label| session_of(label).is_some())
        .count()
        .saturating_sub(1);
    let step = 28 * (open % 8) as i32;
    let moved = Place {
        x: place.x + step,
        y: place.y + step,
        ..place
    };
    if on_screen(app, &moved) {
        moved
    } else {
        place
    }
}

/// Whether the top-left corner of a place lies on one of the screens now attached.
fn on_screen(app: &AppHandle, place: &Place) -> bool {
    let Ok(monitors) = app.available_monitors() else {
        return false;
    };
    monitors.iter().any(|m| {
        let (p, s) = (m.position(), m.size());
        place.x >= p.x
            && place.y >= p.y
            && place.x < p.x + s.width as i32
            && place.y < p.y + s.height as i32
    })
}
