//! A hub and login given on the command line (`huddle --hub hub.example:7878 --login ana`,
//! and `--proxy` for the way there), as a shortcut prepared by an administrator or a demo
//! gives them: they fill the login form, and when the keychain holds a sign-in for them,
//! Huddle signs in by itself.

use crate::view::LastSignIn;

/// What the command line asks the login form to show.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Preset {
    /// The hub's address.
    pub hub: String,
    /// The agent's login (empty when not given).
    pub login: String,
    /// The way to the hub (`system`, `none` or a proxy's URL), when given.
    pub proxy: Option<String>,
}

impl Preset {
    /// Reads `--hub ADDRESS` and `--login LOGIN` (or `--hub=ADDRESS`, `--login=LOGIN`) from the
    /// arguments after the program's name. Other arguments are left to the OS (a desktop may
    /// pass its own); without a hub there is no preset.
    pub fn from_args(args: impl IntoIterator<Item = String>) -> Option<Self> {
        let (mut hub, mut login, mut proxy) = (None, None, None);
        let mut args = args.into_iter();
        while let Some(arg) = args.next() {
            let (name, inline) = match arg.split_once('=') {
                Some((name, value)) => (name.to_string(), Some(value.to_string())),
                None => (arg, None),
            };
            let slot = match name.as_str() {
                "--hub" => &mut hub,
                "--login" => &mut login,
                "--proxy" => &mut proxy,
                _ => continue,
            };
            *slot = inline.or_else(|| args.next());
        }
        let hub = hub
            .map(|h| h.trim().to_string())
            .filter(|h| !h.is_empty())?;
        let login = login.map(|l| l.trim().to_string()).unwrap_or_default();
        let proxy = proxy
            .map(|p| p.trim().to_string())
            .filter(|p| !p.is_empty());
        Some(Self { hub, login, proxy })
    }

    /// The last sign-in the login form starts from: this one, remembered as the agent last
    /// chose for it.
    pub fn as_last(&self, last: Option<&LastSignIn>) -> LastSignIn {
        let remember =
            last.is_some_and(|l| l.hub == self.hub && l.login == self.login && l.remember);
        LastSignIn {
            hub: self.hub.clone(),
            login: self.login.clone(),
            remember,
            proxy: match (&self.proxy, last) {
                (Some(proxy), _) => proxy.clone(),
                (None, Some(last)) => last.proxy.clone(),
                (None, None) => "system".into(),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn hub_and_login_are_read_in_both_spellings_and_the_rest_is_left() {
        let p = Preset::from_args(args(&["--hub", "127.0.0.1:7878", "--login=ana"]));
        assert_eq!(
            p,
            Some(Preset {
                hub: "127.0.0.1:7878".into(),
                login: "ana".into(),
                proxy: None,
            })
        );
        let p = Preset::from_args(args(&["-psn_0_1234", "--hub=wss://hub.example"]));
        assert_eq!(
            p.map(|p| (p.hub, p.login)),
            Some(("wss://hub.example".into(), String::new()))
        );
        let p = Preset::from_args(args(&["--hub=h:1", "--proxy", "socks5://proxy.corp:1080"]));
        assert_eq!(
            p.map(|p| p.as_last(None).proxy),
            Some("socks5://proxy.corp:1080".into())
        );
        assert_eq!(Preset::from_args(args(&["--login", "ana"])), None);
        assert_eq!(Preset::from_args(args(&["--hub"])), None);
        assert_eq!(Preset::from_args(args(&["--hub", " "])), None);
    }

    #[test]
    fn remember_is_kept_only_for_the_same_sign_in() {
        let preset = Preset {
            hub: "hub:7878".into(),
            login: "ana".into(),
            proxy: None,
        };
        let same = LastSignIn {
            hub: "hub:7878".into(),
            login: "ana".into(),
            remember: true,
            proxy: "system".into(),
        };
        assert!(preset.as_last(Some(&same)).remember);
        let other = LastSignIn {
            login: "ben".into(),
            ..same
        };
        assert!(!preset.as_last(Some(&other)).remember);
        assert!(!preset.as_last(None).remember);
    }
}
