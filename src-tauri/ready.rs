//! When each window became usable: its page reports when it first painted and when it first
//! answered input, and the shell logs both, measured from the start of the process. Support
//! reads them in the log; the footprint benchmark reads them to time cold starts.

use std::sync::OnceLock;
use std::time::{SystemTime, UNIX_EPOCH};

use serde::Deserialize;
use ts_rs::TS;

static PROCESS_START: OnceLock<f64> = OnceLock::new();

/// Notes the start of the process; the first call counts.
pub fn note_process_start() {
    PROCESS_START.get_or_init(now_millis);
}

/// A page's start-up marks, in milliseconds since the UNIX epoch (the page's clock is the
/// system's).
#[derive(Debug, Clone, Copy, Deserialize, TS)]
pub struct ReadyMarks {
    /// The page began to load.
    pub navigation_start: f64,
    /// The page's script began to run.
    pub script: Option<f64>,
    /// The window's view was loaded, before it asked for its data.
    pub view: Option<f64>,
    /// The first paint of anything.
    pub first_paint: f64,
    /// The view shows its content and takes input.
    pub interactive: f64,
}

/// Logs a window's marks: as times since the process started, the time the page took from
/// its start to taking input, and as UNIX times.
pub fn report(window: &str, marks: ReadyMarks) {
    let start = *PROCESS_START.get_or_init(now_millis);
    let since = |t: f64| (t - start).max(0.0).round() as u64;
    // Where the page's time went, from its start; -1 for a mark the page did not make.
    let in_page =
        |t: Option<f64>| t.map_or(-1, |t| (t - marks.navigation_start).max(0.0).round() as i64);
    tracing::info!(
        window = %window,
        first_paint_ms = since(marks.first_paint),
        interactive_ms = since(marks.interactive),
        page_ms = (marks.interactive - marks.navigation_start).max(0.0).round() as u64,
        script_ms = in_page(marks.script),
        view_ms = in_page(marks.view),
        first_paint_at = marks.first_paint.round() as u64,
        interactive_at = marks.interactive.round() as u64,
        "window ready"
    );
}

fn now_millis() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs_f64() * 1000.0)
        .unwrap_or(0.0)
}
