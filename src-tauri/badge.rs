//! The number on Huddle's taskbar or dock icon: the invitations waiting for an answer and
//! the colleagues' messages not seen yet, as the engine counts them. macOS shows it on the
//! dock; Windows as an overlay on the taskbar button; Linux as the launcher count of the
//! desktops that follow Unity's launcher API (Ubuntu's dock, KDE Plasma, Dash to Dock),
//! through libunity where it is installed.

use std::sync::atomic::{AtomicU32, Ordering};

use tauri::{AppHandle, Manager, WebviewWindow};

use crate::session::Session;

/// The number shown now, so that an unchanged one is not sent to the desktop again.
static SHOWN: AtomicU32 = AtomicU32::new(0);

/// Readies the icon's number at start-up: on Linux, libunity learns only in the background
/// whether a dock listens, and drops the counts it is given before it knows.
pub fn init(app: &AppHandle) {
    if let Some(main) = app.get_webview_window("main") {
        if let Err(e) = show(&main, 0) {
            tracing::debug!(error = %e, "no number on Huddle's icon here");
        }
    }
}

/// Shows the number as the engine counts it now (none once signed out).
pub fn refresh(app: &AppHandle) {
    let count = app
        .state::<Session>()
        .engine()
        .map(|e| e.invitations().len() as u32 + e.unread())
        .unwrap_or(0);
    if SHOWN.swap(count, Ordering::SeqCst) == count {
        return;
    }
    let Some(main) = app.get_webview_window("main") else {
        return;
    };
    tracing::debug!(count, "badge");
    if let Err(e) = show(&main, count) {
        tracing::warn!(error = %e, count, "cannot show the number on Huddle's icon");
    }
}

#[cfg(not(windows))]
fn show(window: &WebviewWindow, count: u32) -> tauri::Result<()> {
    window.set_badge_count((count > 0).then_some(i64::from(count)))
}

#[cfg(windows)]
fn show(window: &WebviewWindow, count: u32) -> tauri::Result<()> {
    window.set_overlay_icon((count > 0).then(|| overlay(count)))
}

/// The overlay's side, in pixels: Windows draws it at 16×16 logical pixels.
#[cfg(any(windows, test))]
const SIDE: usize = 32;

/// A red disc with the number in white ("9+" above nine), as Windows' own apps draw it.
#[cfg(any(windows, test))]
fn overlay(count: u32) -> tauri::image::Image<'static> {
    // Digits 3 pixels wide and 5 high, one row a byte (the low three bits, left to right).
    const GLYPHS: [[u8; 5]; 11] = [
        [7, 5, 5, 5, 7], // 0
        [2, 6, 2, 2, 7], // 1
        [7, 1, 7, 4, 7], // 2
        [7, 1, 7, 1, 7], // 3
        [5, 5, 7, 1, 1], // 4
        [7, 4, 7, 1, 7], // 5
        [7, 4, 7, 5, 7], // 6
        [7, 1, 1, 1, 1], // 7
        [7, 5, 7, 5, 7], // 8
        [7, 5, 7, 1, 7], // 9
        [0, 2, 7, 2, 0], // +
    ];
    let glyphs: Vec<usize> = if count > 9 {
        vec![9, 10]
    } else {
        vec![count as usize]
    };
    let mut rgba = vec![0u8; SIDE * SIDE * 4];
    let centre = (SIDE as f32 - 1.0) / 2.0;
    for y in 0..SIDE {
        for x in 0..SIDE {
            let (dx, dy) = (x as f32 - centre, y as f32 - centre);
            if dx * dx + dy * dy <= centre * centre {
                rgba[(y * SIDE + x) * 4..][..4].copy_from_slice(&[0xdc, 0x26, 0x26, 0xff]);
            }
        }
    }
    // Each glyph pixel is a square of `scale`, with one pixel between glyphs.
    let scale = if glyphs.len() == 1 { 4 } else { 3 };
    let width = glyphs.len() * 3 * scale + (glyphs.len() - 1) * scale;
    let (left, top) = ((SIDE - width) / 2, (SIDE - 5 * scale) / 2);
    for (n, glyph) in glyphs.iter().enumerate() {
        for (row, bits) in GLYPHS[*glyph].iter().enumerate() {
            for col in 0..3 {
                if bits & (4 >> col) == 0 {
                    continue;
                }
                for py in 0..scale {
                    for px in 0..scale {
                        let x = left + n * 4 * scale + col * scale + px;
                        let y = top + row * scale + py;
                        rgba[(y * SIDE + x) * 4..][..4].copy_from_slice(&[0xff; 4]);
                    }
                }
            }
        }
    }
    tauri::image::Image::new_owned(rgba, SIDE as u32, SIDE as u32)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn white(image: &tauri::image::Image<'_>) -> usize {
        image.rgba().chunks(4).filter(|p| p == &[0xff; 4]).count()
    }

    #[test]
    fn the_overlay_draws_each_number_in_white_on_red() {
        let one = overlay(1);
        assert_eq!((one.width(), one.height()), (SIDE as u32, SIDE as u32));
        // "1" has 8 of its 15 glyph pixels set, each 4×4.
        assert_eq!(white(&one), 8 * 16);
        // "9+": 12 and 5 glyph pixels, each 3×3.
        assert_eq!(white(&overlay(42)), (12 + 5) * 9);
        assert_ne!(overlay(2).rgba(), overlay(3).rgba());
        let corner = &one.rgba()[..4];
        assert_eq!(corner, [0, 0, 0, 0], "outside the disc is transparent");
    }
}
