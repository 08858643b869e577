//! The agent's preferences, kept in `settings.json` in the OS's config folder for the app:
//! the last hub and login, the text size of IM views, and where windows were. Nothing secret
//! is ever written here; credentials live in the keychain.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;

use serde::{Deserialize, Serialize};

use crate::view::{LastSignIn, Preferences};

/// The smallest text size of IM views, in percent.
pub const ZOOM_MIN: u16 = 70;
/// The text size of IM views when the agent has not changed it.
pub const ZOOM_DEFAULT: u16 = 100;
/// The largest text size of IM views, in percent.
pub const ZOOM_MAX: u16 = 200;

/// Where a window was and how big, in physical pixels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Place {
    /// Left edge.
    pub x: i32,
    /// Top edge.
    pub y: i32,
    /// Inner width.
    pub width: u32,
    /// Inner height.
    pub height: u32,
}

/// What is saved.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Values {
    /// The last sign-in's hub and login.
    pub last: Option<LastSignIn>,
    /// The text size of IM views, in percent.
    pub zoom: u16,
    /// Where each kind of window was last (`main`, `im`).
    pub places: BTreeMap<String, Place>,
    /// How invitations reach the agent.
    pub preferences: Preferences,
}

impl Default for Values {
    fn default() -> Self {
        Self {
            last: None,
            zoom: ZOOM_DEFAULT,
            places: BTreeMap::new(),
            preferences: Preferences::default(),
        }
    }
}

/// The settings file and its values.
pub struct Settings {
    path: PathBuf,
    values: Mutex<Values>,
    /// A write of the noted window places is scheduled.
    flush_pending: AtomicBool,
}

impl Settings {
    /// Reads the settings in `dir`; a missing or unreadable file gives the defaults (an
    /// unreadable one is logged and replaced at the next change).
    pub fn load(dir: &Path) -> Self {
        let path = dir.join("settings.json");
        let values = match std::fs::read(&path) {
            Ok(bytes) => serde_json::from_slice::<Values>(&bytes).unwrap_or_else(|e| {
                tracing::warn!(file = %path.display(), error = %e, "unreadable settings; using defaults");
                Values::default()
            }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Values::default(),
            Err(e) => {
                tracing::warn!(file = %path.display(), error = %e, "cannot read the settings");
                Values::default()
            }
        };
        let mut values = values;
        values.zoom = clamp_zoom(values.zoom);
        values.preferences.toast_seconds = clamp_toast_seconds(values.preferences.toast_seconds);
        Self {
            path,
            values: Mutex::new(values),
            flush_pending: AtomicBool::new(false),
        }
    }

    /// A copy of the values.
    pub fn get(&self) -> Values {
        self.lock().clone()
    }

    /// Changes the values and saves them, unless nothing changed.
    pub fn update(&self, change: impl FnOnce(&mut Values)) {
        let saved = {
            let mut values = self.lock();
            let before = values.clone();
            change(&mut values);
            values.zoom = clamp_zoom(values.zoom);
            values.preferences.toast_seconds =
                clamp_toast_seconds(values.preferences.toast_seconds);
            (*values != before).then(|| values.clone())
        };
        if let Some(values) = saved {
            if let Err(e) = self.save(&values) {
                tracing::warn!(file = %self.path.display(), error = %e, "cannot save the settings");
            }
        }
    }

    /// Notes where a window is. Windows move often, so the write waits a moment for the
    /// window to settle: returns whether the caller should schedule [`Self::flush`] (no write
    /// is scheduled yet).
    pub fn note_place(&self, kind: &str, place: Place) -> bool {
        self.lock().places.insert(kind.to_string(), place);
        !self.flush_pending.swap(true, Ordering::SeqCst)
    }

    /// Writes the values as they are now.
    pub fn flush(&self) {
        self.flush_pending.store(false, Ordering::SeqCst);
        let values = self.get();
        if let Err(e) = self.save(&values) {
            tracing::warn!(file = %self.path.display(), error = %e, "cannot save the settings");
        }
    }

    /// Writes through a temporary file, so that a crash leaves the old file or the new one.
    fn save(&self, values: &Values) -> std::io::Result<()> {
        if let Some(dir) = self.path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        let text = serde_json::to_vec_pretty(values).map_err(std::io::Error::other)?;
        let temporary = self.path.with_extension("json.tmp");
        std::fs::write(&temporary, text)?;
        std::fs::rename(&temporary, &self.path)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Values> {
        self.values.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// Keeps a toast's time on screen between 3 seconds and 2 minutes.
pub fn clamp_toast_seconds(seconds: u16) -> u16 {
    seconds.clamp(3, 120)
}

/// Keeps a text size within what the views are designed for.
pub fn clamp_zoom(percent: u16) -> u16 {
    percent.clamp(ZOOM_MIN, ZOOM_MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_survive_a_reload_and_a_corrupt_file_gives_defaults() {
        let dir = tempfile::tempdir().unwrap();
        let settings = Settings::load(dir.path());
        assert_eq!(settings.get(), Values::default());
        settings.update(|v| {
            v.zoom = 130;
            v.last = Some(LastSignIn {
                hub: "hub:7878".into(),
                login: "ana".into(),
                remember: true,
                proxy: "system".into(),
            });
        });
        let again = Settings::load(dir.path());
        assert_eq!(again.get().zoom, 130);
        assert_eq!(again.get().last.map(|l| l.login), Some("ana".into()));

        std::fs::write(dir.path().join("settings.json"), b"{not json").unwrap();
        assert_eq!(Settings::load(dir.path()).get(), Values::default());
    }

    #[test]
    fn zoom_stays_within_its_range() {
        let dir = tempfile::tempdir().unwrap();
        let settings = Settings::load(dir.path());
        settings.update(|v| v.zoom = 1000);
        assert_eq!(settings.get().zoom, ZOOM_MAX);
        settings.update(|v| v.zoom = 0);
        assert_eq!(settings.get().zoom, ZOOM_MIN);
    }
}
