//! The signed-in agent's engine, and how its news reaches the windows: the connection and
//! presence to the main window, each session to the main window and to its own window, each
//! message to its session's window.

use std::sync::Mutex;

use huddle_client::{
    ConnectionState, Credential, Engine, EngineEvent, Hub, Keychain, SavedSignInError,
    SessionStatus,
};
use huddle_protocol::VoiceConsultationState;
use tauri::async_runtime::JoinHandle;
use tauri::{AppHandle, Manager};
use tokio::sync::broadcast::error::RecvError;

use crate::session_view::{
    SessionView, INTERACTION_EVENT, MESSAGE_EVENT, SESSION_EVENT, VOICE_EVENT,
};
use crate::settings::Settings;
use crate::view::{
    ConnectionView, LastSignIn, LoginFailure, PresenceChange, CONNECTION_EVENT, PRESENCE_EVENT,
};
use huddle_client::proxy::{Proxy, ProxySetting};

use crate::{badge, invitations, tray, windows};

/// The shell's one client engine, once an agent has signed in.
#[derive(Default)]
pub struct Session {
    inner: Mutex<Inner>,
}

#[derive(Default)]
struct Inner {
    signed: Option<Signed>,
    /// Huddle is signing in by itself as this hub and login.
    signing_in: Option<(String, String)>,
    /// What to tell the agent on the login form.
    notice: Option<String>,
}

struct Signed {
    engine: Engine,
    /// The hub's address as the agent typed it.
    hub: String,
    /// Something to tell the agent while signed in (the keychain could not keep the sign-in).
    notice: Option<String>,
    /// Forwards the engine's news to the windows.
    forwarder: JoinHandle<()>,
}

impl Session {
    /// What the main window should show now.
    pub fn view(&self, settings: &Settings) -> ConnectionView {
        let inner = self.lock();
        match (&inner.signed, &inner.signing_in) {
            (Some(s), _) => view_of(&s.engine, &s.hub, s.engine.state(), s.notice.clone()),
            (None, Some((hub, login))) => ConnectionView::SigningIn {
                hub: hub.clone(),
                login: login.clone(),
            },
            (None, None) => ConnectionView::SignedOut {
                last: settings.get().last,
                notice: inner.notice.clone(),
            },
        }
    }

    /// The engine, when an agent is signed in.
    pub fn engine(&self) -> Option<Engine> {
        self.lock().signed.as_ref().map(|s| s.engine.clone())
    }

    /// Signs in with a password from the login form; the engine keeps the sign-in in the
    /// keychain (the password too when `remember`).
    pub async fn sign_in(
        &self,
        app: &AppHandle,
        hub: String,
        login: String,
        password: String,
        remember: bool,
        proxy: ProxySetting,
    ) -> Result<ConnectionView, LoginFailure> {
        let data_dir = data_dir(app).map_err(|message| LoginFailure::new(message, None))?;
        let keychain = Keychain::open().await;
        let target = hub_via(&hub, proxy.clone());
        let signed_in = match &keychain {
            Ok(keychain) => {
                Engine::sign_in_remembering(
                    &target,
                    &login,
                    &password,
                    remember,
                    &data_dir,
                    keychain.clone(),
                )
                .await
            }
            Err(_) => {
                Engine::sign_in_to(&target, &login, Credential::Password(password), &data_dir)
                    .await
                    .map(|(engine, _)| (engine, None))
            }
        };
        let (engine, not_kept) = signed_in.map_err(|e| {
            tracing::info!(%login, %hub, error = %e, "sign-in failed");
            LoginFailure::from_client_error(&login, &e)
        })?;
        let notice = match (keychain, not_kept) {
            (Err(e), _) | (Ok(_), Some(e)) => {
                tracing::info!(error = %e, "cannot keep the sign-in");
                Some(e.to_string())
            }
            (Ok(_), None) => None,
        };
        settings(app).update(|v| {
            v.last = Some(LastSignIn {
                hub: hub.clone(),
                login: login.clone(),
                remember,
                // Shown without its password, which the keychain keeps.
                proxy: proxy.to_string(),
            })
        });
        self.signed_in(app, engine, hub, notice);
        Ok(self.view(&settings(app)))
    }

    /// Signs in by itself with what the keychain keeps for the last sign-in, if anything
    /// (the engine tries the token, then the remembered password). Whatever happens, the
    /// main window ends up signed in or on the login form, with a notice saying why when a
    /// kept sign-in did not work.
    pub async fn sign_in_saved(&self, app: &AppHandle) {
        let Some(last) = settings(app).get().last else {
            return;
        };
        self.lock().signing_in = Some((last.hub.clone(), last.login.clone()));
        emit_connection(app, &self.view(&settings(app)));
        let result = match (Keychain::open().await, data_dir(app)) {
            (Ok(keychain), Ok(data_dir)) => {
                let proxy = last.proxy.parse().unwrap_or_else(|e| {
                    tracing::warn!(error = %e, "the saved proxy cannot be used; using the system's");
                    ProxySetting::System
                });
                Engine::sign_in_saved(&hub_via(&last.hub, proxy), &last.login, &data_dir, keychain)
                    .await
                    .map_err(|e| saved_failure(&last, e))
            }
            (Err(e), _) => Err(Some(e.to_string())),
            (_, Err(message)) => Err(Some(message)),
        };
        self.lock().signing_in = None;
        match result {
            Ok(engine) => self.signed_in(app, engine, last.hub.clone(), None),
            Err(notice) => {
                if let Some(notice) = &notice {
                    tracing::info!(%notice, "the kept sign-in did not work");
                }
                self.lock().notice = notice;
                emit_connection(app, &self.view(&settings(app)));
            }
        }
    }

    /// Takes over a signed-in engine: its news goes to the windows from now on, and every
    /// invitation waiting for an answer reaches the agent.
    fn signed_in(&self, app: &AppHandle, engine: Engine, hub: String, notice: Option<String>) {
        tracing::info!(login = %engine.agent().login, %hub, "signed in");
        let forwarder = tauri::async_runtime::spawn(forward(app.clone(), engine.clone()));
        let old = self.lock().signed.replace(Signed {
            engine: engine.clone(),
            hub,
            notice,
            forwarder,
        });
        self.lock().notice = None;
        if let Some(old) = old {
            old.forwarder.abort();
        }
        emit_connection(app, &self.view(&settings(app)));
        // The conversations still open come back in their windows, as they were at the last
        // quit; the invitations waiting reach the agent as new ones do.
        for update in engine.sessions() {
            let view = SessionView::of(&update, engine.agent());
            match update.status {
                SessionStatus::Invited => invitations::arrived(app, &view),
                SessionStatus::Inviting | SessionStatus::Connected => {
                    windows::open_im(app, &view, windows::Open::Restored)
                }
                SessionStatus::Draft | SessionStatus::Ended(_) => {}
            }
        }
        tray::refresh(app);
    }

    /// Signs out: the hub revokes the session, the keychain forgets it, the IM windows close.
    pub async fn sign_out(&self, app: &AppHandle) {
        let signed = self.lock().signed.take();
        if let Some(signed) = signed {
            signed.forwarder.abort();
            signed.engine.sign_out().await;
        }
        invitations::clear(app);
        windows::close_all_im(app);
        emit_connection(app, &self.view(&settings(app)));
    }

    /// The hub no longer accepts the session: back to the login form, saying why.
    fn signed_out_by_hub(&self, app: &AppHandle, reason: &str) {
        let signed = self.lock().signed.take();
        if let Some(signed) = signed {
            signed.forwarder.abort();
        }
        self.lock().notice = Some(format!("You were signed out: {reason}."));
        invitations::clear(app);
        windows::close_all_im(app);
        emit_connection(app, &self.view(&settings(app)));
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        // Every update under the lock is a single assignment: a panic cannot leave it torn.
        self.inner
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// Passes the engine's news on to the windows until the engine stops.
async fn forward(app: AppHandle, engine: Engine) {
    let mut events = engine.subscribe();
    let me = engine.agent().clone();
    loop {
        let event = match events.recv().await {
            Ok(event) => event,
            Err(RecvError::Lagged(missed)) => {
                // The windows ask again for what they show when told the connection changed.
                tracing::warn!(missed, "the windows fell behind the engine");
                let session = app.state::<Session>();
                emit_connection(&app, &session.view(&settings(&app)));
                continue;
            }
            Err(RecvError::Closed) => return,
        };
        match event {
            EngineEvent::Connection(ConnectionState::SignedOut { reason }) => {
                app.state::<Session>().signed_out_by_hub(&app, &reason);
                return;
            }
            EngineEvent::Connection(_) => {
                let session = app.state::<Session>();
                emit_connection(&app, &session.view(&settings(&app)));
            }
            EngineEvent::Presence { agent_id, .. } if agent_id == me.id => {
                let session = app.state::<Session>();
                emit_connection(&app, &session.view(&settings(&app)));
                tray::refresh(&app);
            }
            EngineEvent::Presence { agent_id, presence } => {
                send(
                    &app,
                    "main",
                    PRESENCE_EVENT,
                    &PresenceChange { agent_id, presence },
                );
            }
            EngineEvent::Session(update) => {
                let view = SessionView::of(&update, &me);
                send(&app, "main", SESSION_EVENT, &view);
                send(&app, &windows::im_label(&view.id), SESSION_EVENT, &view);
                if update.invitation_arrived() {
                    invitations::arrived(&app, &view);
                } else if update.previous == Some(SessionStatus::Invited) {
                    invitations::settled(&app, &view.id, update.missed(me.id));
                }
            }
            EngineEvent::Interaction(interaction) => {
                send(&app, "main", INTERACTION_EVENT, &interaction);
            }
            EngineEvent::VoiceConsultation(consultation) => {
                let label = windows::im_label(&consultation.session_id);
                send(&app, &label, VOICE_EVENT, &consultation);
                let asked = consultation.state == VoiceConsultationState::Ringing
                    && engine
                        .session(&consultation.session_id)
                        .is_some_and(|s| !s.i_invited(me.id));
                if asked {
                    windows::call_attention(&app, &consultation.session_id);
                }
            }
            EngineEvent::Message(message) => {
                let label = windows::im_label(&message.session_id);
                send(&app, &label, MESSAGE_EVENT, &message);
                // A message that came into the window the agent is looking at is seen.
                let seen = app
                    .get_webview_window(&label)
                    .is_some_and(|w| w.is_focused().unwrap_or(false));
                if seen {
                    engine.mark_read(&message.session_id);
                }
                badge::refresh(&app);
            }
        }
    }
}

fn view_of(
    engine: &Engine,
    hub: &str,
    state: ConnectionState,
    notice: Option<String>,
) -> ConnectionView {
    let (hub, agent, presence) = (hub.to_string(), engine.agent().clone(), engine.presence());
    match state {
        ConnectionState::Online => ConnectionView::Online {
            hub,
            agent,
            presence,
            notice,
        },
        ConnectionState::Connecting => ConnectionView::Offline {
            hub,
            agent,
            presence,
            reason: "reconnecting…".into(),
            notice,
        },
        ConnectionState::Offline { reason } => ConnectionView::Offline {
            hub,
            agent,
            presence,
            reason: format!("{reason}; reconnecting"),
            notice,
        },
        ConnectionState::SignedOut { .. } => ConnectionView::SignedOut {
            last: None,
            notice: None,
        },
    }
}

fn settings(app: &AppHandle) -> tauri::State<'_, Settings> {
    app.state::<Settings>()
}

fn emit_connection(app: &AppHandle, view: &ConnectionView) {
    send(app, "main", CONNECTION_EVENT, view);
}

fn send<T: serde::Serialize>(app: &AppHandle, label: &str, event: &str, payload: &T) {
    crate::window_events::send(app, label, event, payload);
}

/// Where the engine keeps the agent's cache.
fn data_dir(app: &AppHandle) -> Result<std::path::PathBuf, String> {
    app.path()
        .app_local_data_dir()
        .map_err(|e| format!("Huddle cannot find its data folder: {e}."))
}

/// What to tell the agent on the login form when the kept sign-in did not sign them in
/// (nothing when nothing was kept).
fn saved_failure(last: &LastSignIn, error: SavedSignInError) -> Option<String> {
    match error {
        SavedSignInError::NothingSaved => None,
        SavedSignInError::Ended(_) => Some("Your saved sign-in has ended. Sign in again.".into()),
        SavedSignInError::Keychain(e) => Some(e.to_string()),
        SavedSignInError::Failed(e) => Some(format!(
            "Huddle could not sign you in to {} by itself: {}",
            last.hub,
            LoginFailure::from_client_error(&last.login, &e).message
        )),
    }
}

/// The hub at `address`, reached the way `proxy` says; the system's settings are read as
/// Huddle connects.
fn hub_via(address: &str, proxy: ProxySetting) -> Hub {
    Hub::new(address).via(Proxy {
        setting: proxy,
        system: Some(crate::system_proxy::source()),
    })
}
