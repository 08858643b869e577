//! The OS notification of an invitation, beside the toast: the inviter, the first message,
//! and, where the platform offers them, Accept and Reject buttons. A click on its body opens
//! the invitation's window. Every path leads to the same outcome as the toast's buttons.

use std::collections::HashMap;
use std::sync::Mutex;

use tauri::{AppHandle, Manager};
use tauri_plugin_notification::{Action, ActionPerformed, ActionType, NotificationExt};

use crate::invitations;
use crate::session_view::SessionView;

/// The action type of invitation notifications.
const INVITATION: &str = "invitation";
const ACCEPT: &str = "accept";
const REJECT: &str = "reject";
/// A click on the notification itself.
const TAP: &str = "tap";

/// The notifications shown, by their id, with the session each is about.
#[derive(Default)]
pub struct Notifications {
    shown: Mutex<HashMap<i32, String>>,
    next_id: Mutex<i32>,
}

/// Registers the invitation's buttons and what they do.
pub fn init(app: &AppHandle) {
    let notifications = app.notification();
    let registered = notifications.register_action_types(vec![ActionType::builder(INVITATION)
        .actions(vec![
            Action::builder(ACCEPT, "Accept").build(),
            Action::builder(REJECT, "Reject").build(),
        ])
        .build()]);
    if let Err(e) = registered {
        tracing::warn!(error = %e, "cannot register the invitation's buttons");
    }
    let handle = app.clone();
    let listening = notifications.on_action(move |performed| on_action(&handle, performed));
    if let Err(e) = listening {
        tracing::warn!(error = %e, "cannot follow the notifications' buttons");
    }
}

impl Notifications {
    /// Shows the notification of an invitation, unless it shows already; with the first
    /// message's text only when `with_text`.
    pub fn invitation(&self, app: &AppHandle, session: &SessionView, with_text: bool) {
        if self.lock().values().any(|s| *s == session.id) {
            return;
        }
        let id = {
            let mut next = self.next_id.lock().unwrap_or_else(|p| p.into_inner());
            *next = next.wrapping_add(1).max(1);
            *next
        };
        let (title, body) = content(session, with_text);
        self.lock().insert(id, session.id.clone());
        let shown = app
            .notification()
            .builder()
            .id(id)
            .title(title)
            .body(body)
            .action_type_id(INVITATION)
            .show();
        if let Err(e) = shown {
            self.lock().remove(&id);
            tracing::warn!(error = %e, "cannot show the invitation's notification");
        }
    }

    /// Closes the notification of an invitation answered or withdrawn elsewhere.
    pub fn settled(&self, app: &AppHandle, session_id: &str) {
        let ids: Vec<i32> = {
            let mut shown = self.lock();
            let ids = shown
                .iter()
                .filter(|(_, s)| *s == session_id)
                .map(|(id, _)| *id)
                .collect::<Vec<_>>();
            for id in &ids {
                shown.remove(id);
            }
            ids
        };
        if !ids.is_empty() {
            if let Err(e) = app.notification().remove_active(ids) {
                tracing::debug!(error = %e, "cannot close a notification");
            }
        }
    }

    /// Closes every invitation's notification (signed out, or do not disturb turned on).
    pub fn clear(&self, app: &AppHandle) {
        let ids: Vec<i32> = self.lock().drain().map(|(id, _)| id).collect();
        if !ids.is_empty() {
            if let Err(e) = app.notification().remove_active(ids) {
                tracing::debug!(error = %e, "cannot close a notification");
            }
        }
    }

    fn session_of(&self, id: i32) -> Option<String> {
        self.lock().get(&id).cloned()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<i32, String>> {
        self.shown.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// The title and body of an invitation's notification. Without the text, it says who and
/// that they wrote, not what: the notification may show on a lock screen.
fn content(session: &SessionView, with_text: bool) -> (String, String) {
    let name = &session.other.display_name;
    let title = if session.consultation {
        format!("{name} asks to consult you")
    } else {
        format!("Instant message from {name}")
    };
    let body = match &session.first_message {
        Some(text) if with_text => text.clone(),
        Some(_) if session.consultation => {
            format!("{name} wrote about a customer. Open Huddle to read it.")
        }
        Some(_) => format!("{name} sent you a message. Open Huddle to read it."),
        None => format!("{name} wants to start an instant message session."),
    };
    (title, body)
}

fn on_action(app: &AppHandle, performed: &ActionPerformed) {
    let Some(id) = performed.notification().map(|n| n.id()) else {
        tracing::debug!(
            action = performed.action_id(),
            "an action on an unknown notification"
        );
        return;
    };
    let Some(session_id) = app.state::<Notifications>().session_of(id) else {
        return;
    };
    let app = app.clone();
    let action = performed.action_id().to_string();
    tauri::async_runtime::spawn(async move {
        let result = match action.as_str() {
            ACCEPT => invitations::accept(&app, &session_id).await,
            REJECT => invitations::reject(&app, &session_id).await,
            TAP => invitations::open(&app, &session_id).await,
            other => {
                tracing::debug!(action = other, "an unknown notification action");
                Ok(())
            }
        };
        if let Err(e) = result {
            tracing::warn!(error = %e.message, "cannot answer an invitation from its notification");
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::session_view::StatusView;
    use huddle_protocol::AgentProfile;

    fn invitation(first_message: Option<&str>, consultation: bool) -> SessionView {
        let agent = |id: i64, login: &str, name: &str| AgentProfile {
            id,
            login: login.into(),
            display_name: name.into(),
        };
        SessionView {
            id: "s-1".into(),
            me: agent(1, "ana", "Ana Lima"),
            other: agent(2, "ben", "Ben Okafor"),
            i_invited: false,
            status: StatusView::Invited,
            created_at: 0,
            invite_expires_at: 60_000,
            first_message: first_message.map(String::from),
            consultation,
            interaction_id: consultation.then(|| "i-1".into()),
            missed: false,
            ended_at: None,
        }
    }

    #[test]
    fn the_text_shows_only_when_the_agent_wants_it() {
        let im = invitation(Some("Card ends 4242"), false);
        assert_eq!(
            content(&im, true),
            (
                "Instant message from Ben Okafor".into(),
                "Card ends 4242".into()
            )
        );
        assert_eq!(
            content(&im, false),
            (
                "Instant message from Ben Okafor".into(),
                "Ben Okafor sent you a message. Open Huddle to read it.".into()
            )
        );
        let consult = invitation(Some("Card ends 4242"), true);
        let (title, body) = content(&consult, false);
        assert_eq!(title, "Ben Okafor asks to consult you");
        assert!(!body.contains("4242"), "{body}");
        let silent = invitation(None, false);
        assert_eq!(
            content(&silent, false).1,
            "Ben Okafor wants to start an instant message session."
        );
    }
}
