//! A minimal Tauri 2 app: one window showing one page, which reports when it first painted
//! and took input, as Huddle's windows do. The footprint benchmark's baseline.

use std::time::{SystemTime, UNIX_EPOCH};

/// The page's start-up marks, in milliseconds since the UNIX epoch.
#[derive(serde::Deserialize)]
struct ReadyMarks {
    navigation_start: f64,
    first_paint: f64,
    interactive: f64,
}

#[tauri::command]
fn ui_ready(window: tauri::WebviewWindow, marks: ReadyMarks) {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis())
        .unwrap_or(0);
    println!(
        "window ready window={} first_paint_at={:.0} interactive_at={:.0} page_ms={:.0} reported_at={now}",
        window.label(),
        marks.first_paint,
        marks.interactive,
        marks.interactive - marks.navigation_start,
    );
}

fn main() {
    let result = tauri::Builder::default()
        .invoke_handler(tauri::generate_handler![ui_ready])
        .run(tauri::generate_context!());
    if let Err(e) = result {
        eprintln!("the app failed: {e}");
        std::process::exit(1);
    }
}
