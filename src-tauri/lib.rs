//! The Huddle desktop app's shell: it owns the client engine and translates between it and
//! the windows. It keeps no business state of its own beyond what the windows are shown.

mod autostart;
mod badge;
mod commands;
mod invitations;
mod logs;
mod notify;
mod preset;
mod ready;
mod session;
pub mod session_view;
mod settings;
mod spelling;
mod system_proxy;
mod system_quiet;
mod toast;
mod tray;
pub mod view;
mod window_events;
mod windows;

#[cfg(test)]
mod bindings;

use tauri::{Manager, WindowEvent};

/// Starts the app and runs it until it quits.
pub fn run() {
    ready::note_process_start();
    let result = tauri::Builder::default()
        .plugin(single_instance())
        .plugin(tauri_plugin_notification::init())
        .manage(session::Session::default())
        .manage(toast::Toasts::default())
        .manage(notify::Notifications::default())
        .manage(window_events::WindowEvents::default())
        .manage(system_quiet::SystemQuiet::default())
        .setup(|app| {
            // Only without a home folder is there no log folder; the temporary one will do.
            let log_dir = logs::dir(app.handle())
                .unwrap_or_else(|_| std::env::temp_dir().join("huddle-logs"));
            logs::init(&log_dir);
            #[cfg(windows)]
            set_app_user_model_id(&app.config().identifier);
            let config_dir = app.path().app_config_dir()?;
            // The app's folders hold the cache, the webview's storage and the settings: the
            // agent's user alone may read them.
            for dir in [app.path().app_local_data_dir().ok(), Some(config_dir.clone())]
                .into_iter()
                .flatten()
            {
                if let Err(e) = huddle_client::private_files::private_dir(&dir) {
                    tracing::warn!(folder = %dir.display(), error = %e, "cannot keep a folder private");
                }
            }
            let settings = settings::Settings::load(&config_dir);
            if let Some(preset) = preset::Preset::from_args(std::env::args().skip(1)) {
                settings.update(|v| v.last = Some(preset.as_last(v.last.as_ref())));
            }
            app.manage(settings);
            windows::restore_main(app.handle());
            // Started at login, Huddle waits in the tray; otherwise its window shows.
            if !autostart::started_in_background() {
                if let Some(main) = app.get_webview_window("main") {
                    main.show()?;
                }
            }
            notify::init(app.handle());
            system_quiet::follow(app.handle());
            badge::init(app.handle());
            let preferences = app.state::<settings::Settings>().get().preferences;
            spelling::apply(
                app.handle(),
                preferences.spell_check,
                &preferences.spell_language,
            );
            tray::init(app.handle())?;
            let handle = app.handle().clone();
            tauri::async_runtime::spawn(async move {
                handle
                    .state::<session::Session>()
                    .sign_in_saved(&handle)
                    .await;
            });
            Ok(())
        })
        .on_window_event(on_window_event)
        .invoke_handler(tauri::generate_handler![
            window_events::window_events,
            commands::login,
            commands::current_connection,
            commands::sign_out,
            commands::set_presence,
            commands::search_directory,
            commands::history,
            commands::search_messages,
            commands::show_message,
            commands::im_between,
            commands::im_find,
            commands::set_favorite,
            commands::start_im,
            commands::list_sessions,
            commands::put_away_missed,
            commands::show_session,
            commands::zoom,
            commands::set_zoom,
            commands::im_state,
            commands::im_send,
            commands::im_earlier,
            commands::im_accept,
            commands::im_reject,
            commands::im_end,
            commands::im_done,
            commands::toast_state,
            commands::toast_accept,
            commands::toast_reject,
            commands::toast_dismiss,
            commands::preferences,
            commands::set_preferences,
            commands::spell_languages,
            commands::show_logs_folder,
            commands::ui_ready,
            commands::interactions,
            commands::start_consultation,
            commands::start_voice_consultation,
            commands::im_consultation,
            commands::im_contact_history,
            commands::im_start_voice,
            commands::im_answer_voice,
            commands::im_end_voice,
        ])
        .run(context());
    if let Err(e) = result {
        tracing::error!(error = %e, "the app failed");
        std::process::exit(1);
    }
}

/// The app's configuration. A debug build (the end-to-end tests') keeps every folder under
/// `HUDDLE_PROFILE_DIR` when it is set: on Windows and macOS no variable moves the system's
/// folders, as the XDG variables do on Linux.
fn context() -> tauri::Context<tauri::Wry> {
    #[allow(unused_mut)]
    let mut context = tauri::generate_context!();
    #[cfg(debug_assertions)]
    if let Some(root) = std::env::var_os("HUDDLE_PROFILE_DIR") {
        context.config_mut().app.app_directories_override = Some(
            tauri::utils::config::AppDirectoriesOverride::Root(root.into()),
        );
    }
    context
}

/// One instance per user profile: a second launch brings the first one's main window up.
fn single_instance() -> tauri::plugin::TauriPlugin<tauri::Wry> {
    tauri_plugin_single_instance::Builder::new()
        .callback(|app, _args, _cwd| {
            tray::show_main(app);
        })
        .dbus_id(instance_id())
        .build()
}

/// The D-Bus name of this profile's instance: the app's, told apart by its data folder, so
/// that two profiles (two XDG data homes) each run their own.
fn instance_id() -> String {
    use std::hash::{Hash, Hasher};
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    dirs::data_dir().hash(&mut hasher);
    format!("app.huddle.desktop.p{:016x}", hasher.finish())
}

/// Gives the process the AppUserModelID that the installers (NSIS and MSI) give Huddle's
/// Start menu shortcut: Windows then shows its notifications under Huddle's name and icon,
/// and groups its taskbar buttons with the shortcut.
#[cfg(windows)]
fn set_app_user_model_id(identifier: &str) {
    use windows_sys::Win32::UI::Shell::SetCurrentProcessExplicitAppUserModelID;
    let wide: Vec<u16> = identifier
        .encode_utf16()
        .chain(std::iter::once(0))
        .collect();
    // SAFETY: `wide` is a NUL-terminated UTF-16 string that lives through the call, which
    // copies it.
    let result = unsafe { SetCurrentProcessExplicitAppUserModelID(wide.as_ptr()) };
    if result < 0 {
        tracing::warn!(identifier, result, "cannot set the AppUserModelID");
    }
}

fn on_window_event(window: &tauri::Window, event: &WindowEvent) {
    match event {
        WindowEvent::Moved(_) | WindowEvent::Resized(_) => windows::note_place(window),
        WindowEvent::Focused(true) => {
            // The agent looks at a session's window: its messages are seen.
            if let Some(session_id) = windows::session_of(window.label()) {
                let engine = window.state::<session::Session>().engine();
                if engine.is_some_and(|e| e.mark_read(session_id)) {
                    badge::refresh(window.app_handle());
                }
            }
        }
        WindowEvent::CloseRequested { api, .. } => {
            let keep_in_tray = window
                .state::<settings::Settings>()
                .get()
                .preferences
                .keep_in_tray;
            if window.label() == "main" && keep_in_tray {
                // Huddle keeps running in the tray, so invitations still arrive.
                api.prevent_close();
                if let Err(e) = window.hide() {
                    tracing::warn!(error = %e, "cannot hide the main window");
                }
            } else if let Some(session_id) = windows::session_of(window.label()) {
                // Closing an IM window is Done: its session ends first.
                api.prevent_close();
                let (window, session_id) = (window.clone(), session_id.to_string());
                tauri::async_runtime::spawn(async move {
                    let engine = window.state::<session::Session>().engine();
                    if let Some(engine) = engine {
                        if let Err(e) = engine.finish(&session_id).await {
                            tracing::warn!(error = %e, "cannot end a closed IM session");
                        }
                    }
                    if let Err(e) = window.destroy() {
                        tracing::warn!(error = %e, "cannot close an IM window");
                    }
                });
            }
        }
        WindowEvent::Destroyed => {
            window
                .state::<window_events::WindowEvents>()
                .closed(window.label());
            window.state::<settings::Settings>().flush();
            if window.label() == "main" {
                window.app_handle().exit(0);
            }
        }
        _ => {}
    }
}
