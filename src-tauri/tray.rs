//! The tray icon: it shows when invitations are waiting (another icon, and the count in its
//! tooltip), and its menu lists them, sets My Status, shows Huddle and quits. A click on the
//! icon shows the main window where the platform reports clicks (Linux's AppIndicator
//! reports none: there the menu is the way).

use huddle_protocol::Presence;
use tauri::image::Image;
use tauri::menu::{
    CheckMenuItem, IsMenuItem, Menu, MenuEvent, MenuItem, PredefinedMenuItem, Submenu,
};
use tauri::tray::{MouseButton, MouseButtonState, TrayIcon, TrayIconBuilder, TrayIconEvent};
use tauri::{AppHandle, Manager, Wry};

use crate::invitations;
use crate::session::Session;
use crate::windows;

const TRAY_ID: &str = "huddle";
const INVITATION_PREFIX: &str = "invitation:";
const PRESENCE_PREFIX: &str = "presence:";
const SHOW: &str = "show";
const QUIT: &str = "quit";

const CHOOSABLE: [(Presence, &str, &str); 4] = [
    (Presence::Ready, "ready", "Ready"),
    (Presence::NotReady, "not_ready", "Not Ready"),
    (Presence::Busy, "busy", "Busy"),
    (Presence::Away, "away", "Away"),
];

fn icon(pending: bool) -> tauri::Result<Image<'static>> {
    if pending {
        Image::from_bytes(include_bytes!("../icons/tray-pending.png"))
    } else {
        Image::from_bytes(include_bytes!("../icons/tray.png"))
    }
}

/// Puts the icon in the tray.
pub fn init(app: &AppHandle) -> tauri::Result<()> {
    let menu = menu(app)?;
    TrayIconBuilder::with_id(TRAY_ID)
        .icon(icon(false)?)
        .tooltip("Huddle")
        .menu(&menu)
        .show_menu_on_left_click(false)
        .on_menu_event(on_menu_event)
        .on_tray_icon_event(on_icon_event)
        .build(app)?;
    Ok(())
}

/// Brings the icon, its tooltip and its menu in line with the invitations and My Status.
pub fn refresh(app: &AppHandle) {
    // The icon's number counts the same invitations, with the unread messages.
    crate::badge::refresh(app);
    let Some(tray) = app.tray_by_id(TRAY_ID) else {
        return;
    };
    if let Err(e) = update(app, &tray) {
        tracing::warn!(error = %e, "cannot update the tray");
    }
}

/// The invitations waiting for the agent's answer, as the engine knows them.
fn waiting(app: &AppHandle) -> Vec<huddle_client::SessionUpdate> {
    app.state::<Session>()
        .engine()
        .map(|engine| engine.invitations())
        .unwrap_or_default()
}

fn update(app: &AppHandle, tray: &TrayIcon) -> tauri::Result<()> {
    let count = waiting(app).len();
    let tooltip = match count {
        0 => "Huddle".to_string(),
        1 => "Huddle — 1 invitation waiting".to_string(),
        n => format!("Huddle — {n} invitations waiting"),
    };
    tray.set_icon(Some(icon(count > 0)?))?;
    // Linux's AppIndicator has no tooltip: there the count shows beside the icon.
    tray.set_tooltip(Some(tooltip))?;
    tray.set_title((count > 0).then(|| count.to_string()))?;
    tray.set_menu(Some(menu(app)?))
}

fn menu(app: &AppHandle) -> tauri::Result<Menu<Wry>> {
    let mut items: Vec<Box<dyn IsMenuItem<Wry>>> = Vec::new();
    for session in waiting(app) {
        let text = format!("Instant message from {}", session.info.inviter.display_name);
        let id = format!("{INVITATION_PREFIX}{}", session.info.id);
        items.push(Box::new(MenuItem::with_id(
            app,
            id,
            text,
            true,
            None::<&str>,
        )?));
    }
    if !items.is_empty() {
        items.push(Box::new(PredefinedMenuItem::separator(app)?));
    }
    let engine = app.state::<Session>().engine();
    let current = engine.as_ref().map(|e| e.presence());
    let mut statuses: Vec<Box<dyn IsMenuItem<Wry>>> = Vec::new();
    for (presence, id, text) in CHOOSABLE {
        statuses.push(Box::new(CheckMenuItem::with_id(
            app,
            format!("{PRESENCE_PREFIX}{id}"),
            text,
            engine.is_some(),
            current == Some(presence),
            None::<&str>,
        )?));
    }
    let status_refs: Vec<&dyn IsMenuItem<Wry>> = statuses.iter().map(|i| i.as_ref()).collect();
    items.push(Box::new(Submenu::with_items(
        app,
        "My Status",
        engine.is_some(),
        &status_refs,
    )?));
    items.push(Box::new(MenuItem::with_id(
        app,
        SHOW,
        "Show Huddle",
        true,
        None::<&str>,
    )?));
    items.push(Box::new(PredefinedMenuItem::separator(app)?));
    items.push(Box::new(MenuItem::with_id(
        app,
        QUIT,
        "Quit Huddle",
        true,
        None::<&str>,
    )?));
    let refs: Vec<&dyn IsMenuItem<Wry>> = items.iter().map(|i| i.as_ref()).collect();
    Menu::with_items(app, &refs)
}

fn on_menu_event(app: &AppHandle, event: MenuEvent) {
    let id = event.id().as_ref().to_string();
    if id == SHOW {
        show_main(app);
    } else if id == QUIT {
        app.exit(0);
    } else if let Some(session_id) = id.strip_prefix(INVITATION_PREFIX) {
        let (app, session_id) = (app.clone(), session_id.to_string());
        tauri::async_runtime::spawn(async move {
            if let Err(e) = invitations::open(&app, &session_id).await {
                tracing::warn!(error = %e.message, "cannot open an invitation from the tray");
            }
        });
    } else if let Some(choice) = id.strip_prefix(PRESENCE_PREFIX) {
        let Some((presence, _, _)) = CHOOSABLE.iter().find(|(_, id, _)| *id == choice) else {
            return;
        };
        let (app, presence) = (app.clone(), *presence);
        tauri::async_runtime::spawn(async move {
            if let Some(engine) = app.state::<Session>().engine() {
                if let Err(e) = engine.set_presence(presence).await {
                    tracing::warn!(error = %e, "cannot set the presence from the tray");
                }
            }
            // The check marks follow the hub's answer, whatever it was.
            refresh(&app);
        });
    }
}

fn on_icon_event(tray: &TrayIcon, event: TrayIconEvent) {
    if let TrayIconEvent::Click {
        button: MouseButton::Left,
        button_state: MouseButtonState::Up,
        ..
    } = event
    {
        show_main(tray.app_handle());
    }
}

/// Shows the main window, restored and focused.
pub fn show_main(app: &AppHandle) {
    if let Some(main) = app.get_webview_window("main") {
        windows::focus(&main);
    }
}
