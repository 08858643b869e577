//! The system's own do-not-disturb: while it is on, Huddle holds its toasts and sounds back
//! as its own Do not disturb does, and the main window says why. Linux: GNOME's
//! `org.gnome.desktop.notifications show-banners` setting, followed as it changes, where
//! the desktop has that schema. Windows: the shell's notification state (quiet hours, Focus,
//! presentations and full-screen apps), read every few seconds. macOS offers apps no way to
//! read Focus without the user's leave; the system applies it to notifications itself.

use std::sync::atomic::{AtomicBool, Ordering};

use tauri::{AppHandle, Manager};

/// Whether the system is in do-not-disturb, as last heard.
#[derive(Default)]
pub struct SystemQuiet {
    on: AtomicBool,
}

impl SystemQuiet {
    /// Whether the system asks for quiet now.
    pub fn on(&self) -> bool {
        self.on.load(Ordering::SeqCst)
    }

    /// Notes the system's state; true when it changed.
    fn note(&self, on: bool) -> bool {
        self.on.swap(on, Ordering::SeqCst) != on
    }
}

/// What follows from a change of the system's state: toasts held back when it turns on, the
/// main window told either way.
fn changed(app: &AppHandle, on: bool) {
    if !app.state::<SystemQuiet>().note(on) {
        return;
    }
    tracing::info!(on, "the system's do-not-disturb changed");
    if on {
        crate::invitations::hold_back(app);
    }
    crate::commands::tell_preferences(app);
}

/// Starts following the system's do-not-disturb (on the main thread, at start-up).
pub fn follow(app: &AppHandle) {
    imp::follow(app);
}

#[cfg(target_os = "linux")]
mod imp {
    use gio::prelude::*;
    use tauri::AppHandle;

    const SCHEMA: &str = "org.gnome.desktop.notifications";
    const KEY: &str = "show-banners";

    thread_local! {
        // The settings object must live for its change signal to come.
        static WATCHED: std::cell::RefCell<Option<gio::Settings>> = const { std::cell::RefCell::new(None) };
    }

    pub fn follow(app: &AppHandle) {
        let known = gio::SettingsSchemaSource::default()
            .and_then(|source| source.lookup(SCHEMA, true))
            .is_some_and(|schema| schema.has_key(KEY));
        if !known {
            tracing::info!(
                schema = SCHEMA,
                "this desktop has no notification banners setting; only Huddle's own Do not disturb applies"
            );
            return;
        }
        let settings = gio::Settings::new(SCHEMA);
        super::changed(app, !settings.boolean(KEY));
        let app = app.clone();
        settings.connect_changed(Some(KEY), move |settings, key| {
            super::changed(&app, !settings.boolean(key));
        });
        WATCHED.with(|w| *w.borrow_mut() = Some(settings));
    }
}

#[cfg(windows)]
mod imp {
    use std::time::Duration;
    use tauri::AppHandle;
    use windows_sys::Win32::UI::Shell::SHQueryUserNotificationState;

    /// How often the state is read: the shell announces no change of it.
    const EVERY: Duration = Duration::from_secs(5);

    pub fn follow(app: &AppHandle) {
        let app = app.clone();
        let spawned = std::thread::Builder::new()
            .name("system-quiet".into())
            .spawn(move || loop {
                let mut state = 0;
                // SAFETY: the shell writes one value into `state`.
                if unsafe { SHQueryUserNotificationState(&mut state) } == 0 {
                    // QUNS_BUSY, QUNS_RUNNING_D3D_FULL_SCREEN, QUNS_PRESENTATION_MODE and
                    // QUNS_QUIET_TIME: the shell itself holds notifications back.
                    super::changed(&app, matches!(state, 2 | 3 | 4 | 6));
                }
                std::thread::sleep(EVERY);
            });
        if let Err(e) = spawned {
            tracing::warn!(error = %e, "cannot follow the system's do-not-disturb");
        }
    }
}

#[cfg(not(any(target_os = "linux", windows)))]
mod imp {
    use tauri::AppHandle;

    pub fn follow(_app: &AppHandle) {}
}
