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
    let mut attributes = tauri_build::Attributes::new()
        .capabilities_path_pattern("./src-tauri/capabilities/**/*")
        .app_manifest(tauri_build::AppManifest::new().commands(COMMANDS));
    // tauri-build links its Windows manifest (Common Controls 6, which the menus need) into
    // the app's binary only; the library's test harness needs it too, or Windows cannot load
    // it. The same manifest is linked into every target here instead. (The build script runs
    // on the host: the target is read from Cargo's variables.)
    if std::env::var("CARGO_CFG_TARGET_ENV").as_deref() == Ok("msvc") {
        let manifest = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("src-tauri")
            .join("windows-app-manifest.xml");
        println!("cargo:rerun-if-changed={}", manifest.display());
        println!("cargo:rustc-link-arg=/MANIFEST:EMBED");
        println!("cargo:rustc-link-arg=/MANIFESTINPUT:{}", manifest.display());
        attributes = attributes
            .windows_attributes(tauri_build::WindowsAttributes::new_without_app_manifest());
    }
    if let Err(e) = tauri_build::try_build(attributes) {
        panic!("tauri build step failed: {e:#}");
    }
}
