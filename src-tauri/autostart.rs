//! Starting Huddle when the agent logs in to the computer, to the tray (`--background`): an
//! XDG autostart entry on Linux, a LaunchAgent on macOS, the user's `Run` key on Windows.
//! The entry itself is the truth of whether Huddle starts at login: nothing else records it,
//! so an entry an administrator put in place shows as on.

#[cfg(any(target_os = "linux", target_os = "macos"))]
use std::path::Path;
use std::path::PathBuf;

/// The argument with which Huddle starts to the tray, its main window hidden.
pub const BACKGROUND_ARG: &str = "--background";

/// Why the entry could not be written or removed.
#[derive(Debug, thiserror::Error)]
#[error("{action} {place}: {source}")]
pub struct AutostartError {
    action: &'static str,
    place: String,
    source: std::io::Error,
}

/// Whether Huddle starts at login for this user.
pub fn enabled() -> bool {
    imp::enabled()
}

/// Makes Huddle start at login (to the tray), or no longer.
pub fn set(on: bool) -> Result<(), AutostartError> {
    let exe = std::env::current_exe().map_err(|source| AutostartError {
        action: "cannot find",
        place: "Huddle's own program".into(),
        source,
    })?;
    imp::set(on, &exe)
}

/// Writes an entry file, with its folder.
#[cfg(any(target_os = "linux", target_os = "macos"))]
fn write(path: &Path, text: &str) -> Result<(), AutostartError> {
    let fail = |action: &'static str| {
        move |source| AutostartError {
            action,
            place: path.display().to_string(),
            source,
        }
    };
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(fail("cannot create"))?;
    }
    std::fs::write(path, text).map_err(fail("cannot write"))
}

/// Removes an entry file; one that is not there is already removed.
#[cfg(any(target_os = "linux", target_os = "macos"))]
fn remove(path: &Path) -> Result<(), AutostartError> {
    match std::fs::remove_file(path) {
        Err(source) if source.kind() != std::io::ErrorKind::NotFound => Err(AutostartError {
            action: "cannot remove",
            place: path.display().to_string(),
            source,
        }),
        _ => Ok(()),
    }
}

/// Whether this run was started at login, to the tray.
pub fn started_in_background() -> bool {
    std::env::args().skip(1).any(|a| a == BACKGROUND_ARG)
}

#[cfg(target_os = "linux")]
mod imp {
    //! The XDG autostart specification: `$XDG_CONFIG_HOME/autostart/huddle.desktop` for the
    //! user, which overrides one of the same name in `$XDG_CONFIG_DIRS/autostart` (where an
    //! administrator enables it for everyone); `Hidden=true` turns such an entry off.

    use super::{AutostartError, PathBuf, BACKGROUND_ARG};
    use std::path::Path;

    const FILE: &str = "huddle.desktop";

    fn user_entry() -> Option<PathBuf> {
        dirs::config_dir().map(|d| d.join("autostart").join(FILE))
    }

    fn system_entries() -> Vec<PathBuf> {
        let dirs = std::env::var("XDG_CONFIG_DIRS")
            .ok()
            .filter(|v| !v.is_empty())
            .unwrap_or_else(|| "/etc/xdg".into());
        dirs.split(':')
            .filter(|d| !d.is_empty())
            .map(|d| Path::new(d).join("autostart").join(FILE))
            .collect()
    }

    /// Whether a desktop entry starts anything: present, and not hidden.
    fn starts(path: &Path) -> Option<bool> {
        let text = std::fs::read_to_string(path).ok()?;
        let hidden = text.lines().any(|l| {
            let l = l.trim();
            l.eq_ignore_ascii_case("Hidden=true") || l == "X-GNOME-Autostart-enabled=false"
        });
        Some(!hidden)
    }

    pub fn enabled() -> bool {
        if let Some(own) = user_entry().and_then(|p| starts(&p)) {
            return own;
        }
        system_entries()
            .iter()
            .find_map(|p| starts(p))
            .unwrap_or(false)
    }

    pub fn set(on: bool, exe: &Path) -> Result<(), AutostartError> {
        let path = user_entry().ok_or_else(|| AutostartError {
            action: "cannot find",
            place: "the user's config folder".into(),
            source: std::io::Error::from(std::io::ErrorKind::NotFound),
        })?;
        let system_on = system_entries().iter().find_map(|p| starts(p)) == Some(true);
        if !on && !system_on {
            return super::remove(&path);
        }
        super::write(&path, &entry(on, exe))
    }

    /// The entry: Huddle to the tray, or (`on` false) the override that hides the system's.
    fn entry(on: bool, exe: &Path) -> String {
        // The Exec key quotes its program as the desktop entry specification says.
        let program = exe
            .display()
            .to_string()
            .replace('\\', "\\\\")
            .replace('"', "\\\"")
            .replace('`', "\\`")
            .replace('$', "\\$");
        format!(
            "[Desktop Entry]\nType=Application\nName=Huddle\nComment=Internal instant messaging, started at login\n\
             Exec=\"{program}\" {BACKGROUND_ARG}\nIcon=huddle\nTerminal=false\nX-GNOME-Autostart-enabled={on}\nHidden={}\n",
            !on
        )
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        #[test]
        fn the_entry_starts_huddle_to_the_tray_and_quotes_its_path() {
            let text = entry(true, Path::new("/opt/My \"Apps\"/huddle"));
            assert!(text.contains("Exec=\"/opt/My \\\"Apps\\\"/huddle\" --background\n"));
            assert!(text.contains("Hidden=false\n"));
            assert!(entry(false, Path::new("/usr/bin/huddle")).contains("Hidden=true\n"));
        }
    }
}

#[cfg(target_os = "macos")]
mod imp {
    //! A LaunchAgent in `~/Library/LaunchAgents`, run at load (the user's login).

    use super::{AutostartError, PathBuf, BACKGROUND_ARG};
    use std::path::Path;

    const LABEL: &str = "app.huddle.desktop.autostart";

    fn agent() -> Option<PathBuf> {
        dirs::home_dir().map(|h| {
            h.join("Library")
                .join("LaunchAgents")
                .join(format!("{LABEL}.plist"))
        })
    }

    pub fn enabled() -> bool {
        agent().is_some_and(|p| p.exists())
    }

    pub fn set(on: bool, exe: &Path) -> Result<(), AutostartError> {
        let path = agent().ok_or_else(|| AutostartError {
            action: "cannot find",
            place: "the home folder".into(),
            source: std::io::Error::from(std::io::ErrorKind::NotFound),
        })?;
        if !on {
            return super::remove(&path);
        }
        let program = xml_text(&exe.display().to_string());
        let plist = format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n\
             <!DOCTYPE plist PUBLIC \"-//Apple//DTD PLIST 1.0//EN\" \"http://www.apple.com/DTDs/PropertyList-1.0.dtd\">\n\
             <plist version=\"1.0\"><dict>\n\
             <key>Label</key><string>{LABEL}</string>\n\
             <key>ProgramArguments</key><array><string>{program}</string><string>{BACKGROUND_ARG}</string></array>\n\
             <key>RunAtLoad</key><true/>\n\
             </dict></plist>\n"
        );
        super::write(&path, &plist)
    }

    fn xml_text(s: &str) -> String {
        s.replace('&', "&amp;")
            .replace('<', "&lt;")
            .replace('>', "&gt;")
    }
}

#[cfg(windows)]
mod imp {
    //! The `Huddle` value of `HKEY_CURRENT_USER\Software\Microsoft\Windows\CurrentVersion\Run`.

    use super::{AutostartError, BACKGROUND_ARG};
    use std::path::Path;
    use windows_sys::Win32::Foundation::ERROR_SUCCESS;
    use windows_sys::Win32::System::Registry::{
        RegDeleteKeyValueW, RegGetValueW, RegSetKeyValueW, HKEY_CURRENT_USER, REG_SZ, RRF_RT_REG_SZ,
    };

    const KEY: &str = "Software\\Microsoft\\Windows\\CurrentVersion\\Run";
    const VALUE: &str = "Huddle";

    fn wide(s: &str) -> Vec<u16> {
        s.encode_utf16().chain(std::iter::once(0)).collect()
    }

    fn failed(action: &'static str, code: u32) -> AutostartError {
        AutostartError {
            action,
            place: format!("HKEY_CURRENT_USER\\{KEY}\\{VALUE}"),
            source: std::io::Error::from_raw_os_error(code as i32),
        }
    }

    pub fn enabled() -> bool {
        let (key, value) = (wide(KEY), wide(VALUE));
        // SAFETY: both names are NUL-terminated; no data is asked for, only whether it exists.
        let found = unsafe {
            RegGetValueW(
                HKEY_CURRENT_USER,
                key.as_ptr(),
                value.as_ptr(),
                RRF_RT_REG_SZ,
                std::ptr::null_mut(),
                std::ptr::null_mut(),
                std::ptr::null_mut(),
            )
        };
        found == ERROR_SUCCESS
    }

    pub fn set(on: bool, exe: &Path) -> Result<(), AutostartError> {
        let (key, value) = (wide(KEY), wide(VALUE));
        if !on {
            // SAFETY: both names are NUL-terminated.
            let code =
                unsafe { RegDeleteKeyValueW(HKEY_CURRENT_USER, key.as_ptr(), value.as_ptr()) };
            return match code {
                ERROR_SUCCESS | 2 => Ok(()), // 2: ERROR_FILE_NOT_FOUND, already off
                code => Err(failed("cannot remove", code)),
            };
        }
        let command = wide(&format!("\"{}\" {BACKGROUND_ARG}", exe.display()));
        // SAFETY: the names and the data are NUL-terminated; the size counts the data's bytes.
        let code = unsafe {
            RegSetKeyValueW(
                HKEY_CURRENT_USER,
                key.as_ptr(),
                value.as_ptr(),
                REG_SZ,
                command.as_ptr().cast(),
                (command.len() * 2) as u32,
            )
        };
        if code == ERROR_SUCCESS {
            Ok(())
        } else {
            Err(failed("cannot write", code))
        }
    }
}
