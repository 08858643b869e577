// The app's own commands are declared here so that they fall under the capability ACL:
// a window may call only the commands its capability grants.
const COMMANDS: &[&str] = &[
    "window_events",
    "login",
    "current_connection",
    "sign_out",
    "set_presence",
    "search_directory",
    "set_favorite",
    "start_im",
    "list_sessions",
    "put_away_missed",
    "history",
    "search_messages",
    "show_message",
    "show_session",
    "zoom",
    "set_zoom",
    "im_state",
    "im_send",
    "im_earlier",
    "im_between",
    "im_find",
    "im_accept",
    "im_reject",
    "im_end",
    "im_done",
    "toast_state",
    "toast_accept",
    "toast_reject",
    "toast_dismiss",
    "preferences",
    "set_preferences",
    "spell_languages",
    "show_logs_folder",
    "ui_ready",
    "interactions",
    "start_consultation",
    "start_voice_consultation",
    "im_consultation",
    "im_contact_history",
    "im_start_voice",
    "im_answer_voice",
    "im_end_voice",
];

fn main() {
    let attributes = tauri_build::Attributes::new()
        .capabilities_path_pattern("./src-tauri/capabilities/**/*")
        .app_manifest(tauri_build::AppManifest::new().commands(COMMANDS));
    if let Err(e) = tauri_build::try_build(attributes) {
        panic!("tauri build step failed: {e:#}");
    }
}
