//! The Huddle desktop app's shell: it owns the client engine and translates between it and
//! the windows. It keeps no business state of its own beyond what the windows are shown.

mod commands;
mod session;
pub mod view;

#[cfg(test)]
mod bindings;

/// Starts the app and runs it until it quits.
pub fn run() {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("HUDDLE_LOG")
                .unwrap_or_else(|_| "info".into()),
        )
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
    let result = tauri::Builder::default()
        .manage(session::Session::default())
        .invoke_handler(tauri::generate_handler![
            commands::login,
            commands::current_connection,
            commands::sign_out
        ])
        .run(tauri::generate_context!());
    if let Err(e) = result {
        tracing::error!(error = %e, "the app failed");
        std::process::exit(1);
    }
}
