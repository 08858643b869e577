//! The system's proxy settings, read each time Huddle connects: the proxy variables
//! (`https_proxy`, `http_proxy`, `all_proxy`, `no_proxy`) wherever they are set; otherwise
//! GNOME's proxy settings on Linux and the Internet settings of Windows. On macOS only the
//! variables are read. An automatic configuration script (PAC) is not run: Huddle then goes
//! direct and says so in its log, and the agent can name the proxy instead.

use std::sync::Arc;

use huddle_client::proxy::{ProxyKind, ProxyUrl, SystemProxy, SystemProxySource};

/// Where the engine reads the system's proxy settings.
pub fn source() -> SystemProxySource {
    Arc::new(read)
}

fn read() -> SystemProxy {
    let variables = SystemProxy::from_env();
    if variables.is_set() {
        return variables;
    }
    imp::read().unwrap_or(variables)
}

/// A proxy at `host:port`, as the system names it; none for an empty host or port.
#[cfg_attr(not(any(target_os = "linux", windows)), allow(dead_code))]
fn proxy(kind: ProxyKind, host: &str, port: u16) -> Option<ProxyUrl> {
    let host = host.trim();
    (!host.is_empty() && port > 0).then(|| ProxyUrl {
        kind,
        host: host.to_string(),
        port,
        user: None,
        password: None,
    })
}

#[cfg(target_os = "linux")]
mod imp {
    //! GNOME's `org.gnome.system.proxy` settings (what its Network panel sets).

    use gio::prelude::*;
    use huddle_client::proxy::{ProxyKind, SystemProxy};

    const SCHEMA: &str = "org.gnome.system.proxy";

    pub fn read() -> Option<SystemProxy> {
        let source = gio::SettingsSchemaSource::default()?;
        source.lookup(SCHEMA, true)?;
        let settings = gio::Settings::new(SCHEMA);
        match settings.string("mode").as_str() {
            "manual" => {}
            "auto" => {
                tracing::info!(
                    "the system's proxy is set by a configuration script (PAC), which Huddle does not run; \
                     connecting directly (name the proxy on the login form if one is needed)"
                );
                return None;
            }
            _ => return None,
        }
        let child = |name: &str, kind: ProxyKind| {
            let s = settings.child(name);
            let port = u16::try_from(s.int("port")).unwrap_or(0);
            let mut url = super::proxy(kind, &s.string("host"), port)?;
            if name == "http" && s.boolean("use-authentication") {
                let user = s.string("authentication-user").to_string();
                url.user = (!user.is_empty()).then_some(user);
                url.password = Some(s.string("authentication-password").to_string());
            }
            Some(url)
        };
        Some(SystemProxy {
            https: child("https", ProxyKind::Http),
            http: child("http", ProxyKind::Http),
            all: child("socks", ProxyKind::Socks5),
            bypass: settings
                .strv("ignore-hosts")
                .iter()
                .map(|h| h.to_string())
                .collect(),
        })
    }
}

#[cfg(windows)]
mod imp {
    //! `HKEY_CURRENT_USER\Software\Microsoft\Windows\CurrentVersion\Internet Settings`: what
    //! the Settings app's manual proxy sets (`ProxyEnable`, `ProxyServer`, `ProxyOverride`).

    use huddle_client::proxy::{ProxyKind, SystemProxy};
    use windows_sys::Win32::Foundation::ERROR_SUCCESS;
    use windows_sys::Win32::System::Registry::{
        RegGetValueW, HKEY_CURRENT_USER, RRF_RT_REG_DWORD, RRF_RT_REG_SZ,
    };

    const KEY: &str = "Software\\Microsoft\\Windows\\CurrentVersion\\Internet Settings";

    fn wide(s: &str) -> Vec<u16> {
        s.encode_utf16().chain(std::iter::once(0)).collect()
    }

    fn dword(name: &str) -> Option<u32> {
        let (key, name) = (wide(KEY), wide(name));
        let mut value = 0u32;
        let mut size = std::mem::size_of::<u32>() as u32;
        // SAFETY: the names are NUL-terminated; `value` has room for the `size` bytes given.
        let code = unsafe {
            RegGetValueW(
                HKEY_CURRENT_USER,
                key.as_ptr(),
                name.as_ptr(),
                RRF_RT_REG_DWORD,
                std::ptr::null_mut(),
                (&mut value as *mut u32).cast(),
                &mut size,
            )
        };
        (code == ERROR_SUCCESS).then_some(value)
    }

    fn string(name: &str) -> Option<String> {
        let (key, name) = (wide(KEY), wide(name));
        let mut size = 0u32;
        // SAFETY: asks only for the size the value needs.
        let code = unsafe {
            RegGetValueW(
                HKEY_CURRENT_USER,
                key.as_ptr(),
                name.as_ptr(),
                RRF_RT_REG_SZ,
                std::ptr::null_mut(),
                std::ptr::null_mut(),
                &mut size,
            )
        };
        if code != ERROR_SUCCESS || size == 0 {
            return None;
        }
        let mut buffer = vec![0u16; (size as usize).div_ceil(2)];
        // SAFETY: `buffer` holds the `size` bytes the value needs.
        let code = unsafe {
            RegGetValueW(
                HKEY_CURRENT_USER,
                key.as_ptr(),
                name.as_ptr(),
                RRF_RT_REG_SZ,
                std::ptr::null_mut(),
                buffer.as_mut_ptr().cast(),
                &mut size,
            )
        };
        if code != ERROR_SUCCESS {
            return None;
        }
        let end = buffer.iter().position(|&c| c == 0).unwrap_or(buffer.len());
        Some(String::from_utf16_lossy(&buffer[..end]))
    }

    fn host_port(s: &str) -> Option<(String, u16)> {
        let s = s.trim();
        let s = s.split_once("://").map_or(s, |(_, rest)| rest);
        let (host, port) = s.rsplit_once(':')?;
        Some((host.to_string(), port.parse().ok()?))
    }

    pub fn read() -> Option<SystemProxy> {
        if dword("ProxyEnable")? == 0 {
            return None;
        }
        let server = string("ProxyServer")?;
        let mut found = SystemProxy::default();
        // Either "host:port" for every protocol, or "http=host:port;https=host:port;socks=…".
        if !server.contains('=') {
            let (host, port) = host_port(&server)?;
            found.all = super::proxy(ProxyKind::Http, &host, port);
        } else {
            for part in server.split(';') {
                let Some((protocol, address)) = part.split_once('=') else {
                    continue;
                };
                let Some((host, port)) = host_port(address) else {
                    continue;
                };
                match protocol.trim().to_ascii_lowercase().as_str() {
                    "https" => found.https = super::proxy(ProxyKind::Http, &host, port),
                    "http" => found.http = super::proxy(ProxyKind::Http, &host, port),
                    "socks" => found.all = super::proxy(ProxyKind::Socks5, &host, port),
                    _ => {}
                }
            }
        }
        found.bypass = string("ProxyOverride")
            .map(|o| o.split(';').map(str::to_string).collect())
            .unwrap_or_default();
        Some(found)
    }
}

#[cfg(not(any(target_os = "linux", windows)))]
mod imp {
    use huddle_client::proxy::SystemProxy;

    pub fn read() -> Option<SystemProxy> {
        None
    }
}
