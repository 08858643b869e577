//! The commands the UI invokes.

use huddle_client::{Credential, Engine};
use tauri::{AppHandle, Manager, State};

use crate::session::Session;
use crate::view::{ConnectionView, LoginFailure, LoginField, LoginForm};

/// Signs in to a hub with a password.
#[tauri::command]
pub async fn login(
    app: AppHandle,
    session: State<'_, Session>,
    form: LoginForm,
) -> Result<ConnectionView, LoginFailure> {
    let hub = form.hub.trim().to_string();
    let login = form.login.trim().to_string();
    for (value, field, what) in [
        (hub.as_str(), LoginField::Hub, "the hub's address"),
        (login.as_str(), LoginField::Login, "your login"),
        (
            form.password.as_str(),
            LoginField::Password,
            "your password",
        ),
    ] {
        if value.is_empty() {
            return Err(LoginFailure {
                message: format!("Enter {what}."),
                field: Some(field),
            });
        }
    }
    let data_dir = app.path().app_data_dir().map_err(|e| LoginFailure {
        message: format!("Huddle cannot find its data folder: {e}."),
        field: None,
    })?;
    match Engine::sign_in(&hub, &login, Credential::Password(form.password), &data_dir).await {
        Ok((engine, _token)) => {
            tracing::info!(login = %engine.agent().login, %hub, "signed in");
            session.signed_in(&app, engine, hub);
            Ok(session.view())
        }
        Err(e) => {
            tracing::info!(%login, %hub, error = %e, "sign-in failed");
            Err(LoginFailure::from_client_error(&login, &e))
        }
    }
}

/// What the main window should show now (for a window that was opened or reloaded).
#[tauri::command]
pub fn current_connection(session: State<'_, Session>) -> ConnectionView {
    session.view()
}

/// Signs out and closes the connection.
#[tauri::command]
pub async fn sign_out(app: AppHandle, session: State<'_, Session>) -> Result<(), ()> {
    session.sign_out(&app).await;
    Ok(())
}
