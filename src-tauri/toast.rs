//! The toast: a small always-on-top window near the tray corner that shows the invitations
//! waiting for an answer, with Accept and Reject, without taking the keyboard focus from the
//! window the agent is working in. One window stacks all the cards.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;

use tauri::{AppHandle, Manager, PhysicalPosition, PhysicalSize, WebviewWindow};

use crate::session::Session;
use crate::session_view::{InvitationView, SessionView, ToastView, TOAST_EVENT};
use crate::settings::Settings;
use crate::windows;

/// The toast window's label.
pub const TOAST_LABEL: &str = "toast";

/// How many cards the window makes room for; more scroll.
const MAX_CARDS_SHOWN: u32 = 3;
/// Logical sizes of the window.
const WIDTH: f64 = 360.0;
const CARD_HEIGHT: f64 = 132.0;
/// The gap between the toast and the screen's edges.
const MARGIN: f64 = 12.0;

/// Which invitations the toast shows, oldest first, by session id: what each says is the
/// engine's to tell.
#[derive(Default)]
pub struct Toasts {
    cards: Mutex<Vec<String>>,
    /// The window is being built.
    building: AtomicBool,
}

impl Toasts {
    /// What the toast shows now: the invitations on it that still wait.
    pub fn view(&self, app: &AppHandle) -> ToastView {
        let preferences = app.state::<Settings>().get().preferences;
        let invitations = match app.state::<Session>().engine() {
            Some(engine) => self
                .lock()
                .iter()
                .filter_map(|id| engine.session(id))
                .map(|update| InvitationView::of(&SessionView::of(&update, engine.agent())))
                .collect(),
            None => Vec::new(),
        };
        ToastView {
            invitations,
            seconds: preferences.toast_seconds,
            sound: preferences.sound,
        }
    }

    /// Puts an invitation on the toast and shows it.
    pub fn offer(&self, app: &AppHandle, session: &SessionView) {
        {
            let mut cards = self.lock();
            if cards.contains(&session.id) {
                return;
            }
            cards.push(session.id.clone());
        }
        self.refresh(app);
    }

    /// Takes an invitation off the toast (answered, withdrawn, or its time is up); the toast
    /// hides when nothing is left. Returns whether it was there.
    pub fn withdraw(&self, app: &AppHandle, session_id: &str) -> bool {
        let removed = {
            let mut cards = self.lock();
            let before = cards.len();
            cards.retain(|c| c != session_id);
            cards.len() != before
        };
        if removed {
            self.refresh(app);
        }
        removed
    }

    /// Takes every card off (signed out, or do not disturb turned on).
    pub fn clear(&self, app: &AppHandle) {
        self.lock().clear();
        self.refresh(app);
    }

    /// Whether the toast shows this invitation.
    pub fn shows(&self, session_id: &str) -> bool {
        self.lock().iter().any(|c| c == session_id)
    }

    /// Brings the window in line with the cards: sized to them, shown, or hidden.
    fn refresh(&self, app: &AppHandle) {
        let view = self.view(app);
        let count = view.invitations.len() as u32;
        let window = match app.get_webview_window(TOAST_LABEL) {
            Some(window) => window,
            None if count == 0 => return,
            None => {
                // Refreshed again once it exists; meanwhile another refresh builds nothing.
                if !self.building.swap(true, Ordering::SeqCst) {
                    build(app);
                }
                return;
            }
        };
        crate::window_events::send(app, TOAST_LABEL, TOAST_EVENT, &view);
        let result = if count == 0 {
            window.hide()
        } else {
            place(&window, count.min(MAX_CARDS_SHOWN)).and_then(|()| window.show())
        };
        if let Err(e) = result {
            tracing::warn!(error = %e, "cannot show or hide the toast");
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<String>> {
        self.cards.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// Builds the toast beside the main window (sharing its web process), then shows the cards.
fn build(app: &AppHandle) {
    let owner = app.clone();
    windows::build_beside_main(
        app,
        TOAST_LABEL.to_string(),
        |builder| {
            builder
                .title("Huddle — invitation")
                .inner_size(WIDTH, CARD_HEIGHT)
                .decorations(false)
                .always_on_top(true)
                .skip_taskbar(true)
                .resizable(false)
                .focused(false)
                .visible(false)
        },
        move |built| {
            let toasts = owner.state::<Toasts>();
            toasts.building.store(false, Ordering::SeqCst);
            match built {
                Ok(_) => toasts.refresh(&owner),
                Err(e) => tracing::error!(error = %e, "cannot open the toast"),
            }
        },
    );
}

/// Sizes the toast for `cards` and puts it in the corner where the tray is: bottom right
/// on Windows and most Linux desktops, top right on macOS.
fn place(window: &WebviewWindow, cards: u32) -> tauri::Result<()> {
    let Some(monitor) = window.primary_monitor()?.or(window.current_monitor()?) else {
        return Ok(());
    };
    let scale = monitor.scale_factor();
    let area = monitor.work_area();
    let size = PhysicalSize::new(
        (WIDTH * scale).round() as u32,
        (CARD_HEIGHT * f64::from(cards) * scale).round() as u32,
    );
    let margin = (MARGIN * scale).round() as i32;
    let x = area.position.x + area.size.width as i32 - size.width as i32 - margin;
    let y = if cfg!(target_os = "macos") {
        area.position.y + margin
    } else {
        area.position.y + area.size.height as i32 - size.height as i32 - margin
    };
    window.set_size(size)?;
    window.set_position(PhysicalPosition::new(x, y))
}
