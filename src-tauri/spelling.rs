//! Spell checking in the message field, where the webview offers it. Linux: WebKitGTK checks
//! with the system's Hunspell dictionaries (through Enchant) in the language the agent
//! chose, or the system's; every window shares the main window's web context, so setting it
//! there sets it everywhere. macOS and Windows: the webview checks with the system's own
//! spell checker in the system's languages; the agent turns it on or off.

use tauri::{AppHandle, Manager};

/// The languages the agent can choose, by dictionary name (`en_US`, `fr_FR`); none where the
/// system's checker chooses.
pub fn languages() -> Vec<String> {
    imp::languages()
}

/// Applies the agent's choice: on or off, and in which language (`""`: the system's).
pub fn apply(app: &AppHandle, on: bool, language: &str) {
    let Some(main) = app.get_webview_window("main") else {
        return;
    };
    imp::apply(&main, on, language);
}

/// The system's locale, as the environment names it (`fr_CA.UTF-8`).
#[cfg_attr(not(target_os = "linux"), allow(dead_code))]
fn locale() -> String {
    ["LC_ALL", "LC_MESSAGES", "LANG"]
        .iter()
        .filter_map(|v| std::env::var(v).ok())
        .find(|v| !v.is_empty() && v != "C" && v != "POSIX")
        .unwrap_or_default()
}

/// The dictionary for `locale`: its own, else one of its language, else English, else the
/// first there is.
#[cfg_attr(not(target_os = "linux"), allow(dead_code))]
fn dictionary_for(locale: &str, installed: &[String]) -> Option<String> {
    let locale = locale.split(['.', '@']).next().unwrap_or_default();
    let language = locale.split('_').next().unwrap_or_default();
    installed
        .iter()
        .find(|d| *d == locale)
        .or_else(|| {
            installed
                .iter()
                .find(|d| !language.is_empty() && d.split('_').next() == Some(language))
        })
        .or_else(|| installed.iter().find(|d| d.starts_with("en")))
        .or_else(|| installed.first())
        .cloned()
}

#[cfg(target_os = "linux")]
mod imp {
    use std::path::PathBuf;

    use tauri::WebviewWindow;
    use webkit2gtk::{WebContextExt, WebViewExt};

    /// Where Enchant's Hunspell provider finds dictionaries: `hunspell` (and the older
    /// `myspell/dicts`) under the XDG data folders.
    fn folders() -> Vec<PathBuf> {
        let mut data: Vec<PathBuf> = dirs::data_dir().into_iter().collect();
        let system = std::env::var("XDG_DATA_DIRS")
            .ok()
            .filter(|v| !v.is_empty())
            .unwrap_or_else(|| "/usr/local/share:/usr/share".into());
        data.extend(system.split(':').map(PathBuf::from));
        data.iter()
            .flat_map(|d| [d.join("hunspell"), d.join("myspell").join("dicts")])
            .collect()
    }

    pub fn languages() -> Vec<String> {
        let mut found: Vec<String> = folders()
            .iter()
            .filter_map(|dir| std::fs::read_dir(dir).ok())
            .flatten()
            .flatten()
            .filter_map(|entry| {
                let name = entry.file_name().to_string_lossy().to_string();
                let stem = name.strip_suffix(".dic")?.to_string();
                // A dictionary needs its affix file beside it.
                entry.path().with_extension("aff").exists().then_some(stem)
            })
            .filter(|stem| !stem.starts_with("hyph_"))
            .collect();
        found.sort();
        found.dedup();
        found
    }

    pub fn apply(main: &WebviewWindow, on: bool, language: &str) {
        let installed = languages();
        let chosen = if language.is_empty() || !installed.iter().any(|l| l == language) {
            super::dictionary_for(&super::locale(), &installed)
        } else {
            Some(language.to_string())
        };
        let result = main.with_webview(move |webview| {
            let Some(context) = webview.inner().context() else {
                return;
            };
            context.set_spell_checking_enabled(on && chosen.is_some());
            if let Some(chosen) = &chosen {
                context.set_spell_checking_languages(&[chosen.as_str()]);
            }
            // What WebKit took: it drops the languages it has no dictionary for.
            let taken: Vec<String> = context
                .spell_checking_languages()
                .iter()
                .map(|l| l.to_string())
                .collect();
            tracing::info!(
                enabled = context.is_spell_checking_enabled(),
                languages = ?taken,
                "spell checking"
            );
        });
        if let Err(e) = result {
            tracing::warn!(error = %e, "cannot set the spell checking");
        }
    }
}

#[cfg(not(target_os = "linux"))]
mod imp {
    use tauri::WebviewWindow;

    pub fn languages() -> Vec<String> {
        Vec::new()
    }

    pub fn apply(_main: &WebviewWindow, on: bool, _language: &str) {
        // The message fields' own attribute turns the system's checker on or off.
        tracing::info!(enabled = on, "spell checking");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_systems_language_falls_back_on_one_of_its_language_then_english() {
        let installed: Vec<String> = ["de_DE", "en_GB", "fr_FR"].map(String::from).into();
        let pick = |locale| dictionary_for(locale, &installed);
        assert_eq!(pick("fr_CA.UTF-8").as_deref(), Some("fr_FR"));
        assert_eq!(pick("pt_BR.UTF-8").as_deref(), Some("en_GB"));
        assert_eq!(pick("de_DE@euro").as_deref(), Some("de_DE"));
        assert_eq!(pick("").as_deref(), Some("en_GB"));
        assert_eq!(dictionary_for("fr_FR", &[]), None);
    }
}
