//! The commands the UI invokes. Those of an IM window act on that window's own session,
//! named by the window's label, never by an argument: a window cannot reach another
//! session.

use huddle_client::cache::CachedMessage;
use huddle_client::proxy::ProxySetting;
use huddle_client::Engine;
use huddle_protocol::{
    AgentProfile, ConsultContext, DirectoryEntry, DirectoryFilter, HistoryEntry,
    InteractionDetails, InteractionSummary, Presence, VoiceConsultation,
};
use tauri::{AppHandle, Manager, State, WebviewWindow};

use crate::session::Session;
use crate::session_view::{
    ConsultTarget, ImWindowView, MessageHitView, RevealView, SessionView, ToastView,
    TranscriptPageView,
};
use crate::settings::{clamp_zoom, Settings};
use crate::system_quiet::SystemQuiet;
use crate::toast::Toasts;
use crate::view::{
    ConnectionView, Failure, LoginFailure, LoginField, LoginForm, Preferences, PREFERENCES_EVENT,
    ZOOM_EVENT,
};
use crate::window_events::WindowEvents;
use crate::windows;
use crate::{autostart, invitations, spelling};

/// How many of its last messages an IM window opens with: a screenful and more, whatever the
/// transcript's length, so that a long one opens as fast as a short one.
const TRANSCRIPT_TAIL: u32 = 100;
/// How many earlier messages come at a time as the agent scrolls back.
const TRANSCRIPT_PAGE: u32 = 1000;
/// How many messages a search of every conversation lists: more than anyone reads through,
/// few enough to come back as the agent types.
const SEARCH_HITS: u32 = 50;
/// How many matches the search of one transcript steps through.
const FIND_HITS: u32 = 500;

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
            return Err(LoginFailure::new(format!("Enter {what}."), Some(field)));
        }
    }
    let proxy: ProxySetting = form
        .proxy
        .parse()
        .map_err(|e| LoginFailure::new(format!("{e}."), Some(LoginField::Proxy)))?;
    let exposed = huddle_client::unencrypted_to_another_machine_at(&hub);
    if exposed && !form.unencrypted_ok {
        return Err(LoginFailure::unencrypted(&hub));
    }
    session
        .sign_in(&app, hub, login, form.password, form.remember, proxy)
        .await
}

/// What the main window should show now (for a window that was opened or reloaded).
#[tauri::command]
pub fn current_connection(
    session: State<'_, Session>,
    settings: State<'_, Settings>,
) -> ConnectionView {
    session.view(&settings)
}

/// Signs out and closes the connection.
#[tauri::command]
pub async fn sign_out(app: AppHandle, session: State<'_, Session>) -> Result<(), ()> {
    session.sign_out(&app).await;
    Ok(())
}

/// Sets the agent's presence.
#[tauri::command]
pub async fn set_presence(session: State<'_, Session>, presence: Presence) -> Result<(), Failure> {
    if presence == Presence::Offline {
        return Err(Failure::new(
            "Offline is shown by Huddle itself when you are not connected.",
        ));
    }
    engine(&session)?
        .set_presence(presence)
        .await
        .map_err(Failure::from)
}

/// Searches the Team Communicator's directory.
#[tauri::command]
pub async fn search_directory(
    session: State<'_, Session>,
    query: String,
    filter: DirectoryFilter,
) -> Result<Vec<DirectoryEntry>, Failure> {
    engine(&session)?
        .search(query.trim(), filter)
        .await
        .map_err(Failure::from)
}

/// Marks or unmarks a favorite.
#[tauri::command]
pub async fn set_favorite(
    session: State<'_, Session>,
    agent_id: i64,
    favorite: bool,
) -> Result<(), Failure> {
    engine(&session)?
        .set_favorite(agent_id, favorite)
        .await
        .map_err(Failure::from)
}

/// Sends an IM invitation to an agent and opens its window; when an IM with that agent is
/// already open, brings its window up instead.
#[tauri::command]
pub async fn start_im(
    app: AppHandle,
    session: State<'_, Session>,
    agent_id: i64,
) -> Result<SessionView, Failure> {
    let engine = engine(&session)?;
    let view = SessionView::of(&engine.start_im(agent_id).await?, engine.agent());
    windows::open_im(&app, &view, windows::Open::Focused);
    Ok(view)
}

/// The agent's sessions that are not over (invitations included) and the invitations they
/// missed and have not put away, newest first.
#[tauri::command]
pub fn list_sessions(session: State<'_, Session>) -> Result<Vec<SessionView>, Failure> {
    let engine = engine(&session)?;
    let me = engine.agent();
    let open = engine.sessions().into_iter().filter(|s| !s.ended());
    Ok(open
        .chain(engine.missed())
        .map(|s| SessionView::of(&s, me))
        .collect())
}

/// The agent's ended sessions, the most recently ended first: the main window's history.
#[tauri::command]
pub fn history(session: State<'_, Session>) -> Result<Vec<SessionView>, Failure> {
    let engine = engine(&session)?;
    let me = engine.agent();
    let mut ended: Vec<SessionView> = engine
        .sessions()
        .iter()
        .filter(|s| s.ended())
        .map(|s| SessionView::of(s, me))
        .collect();
    ended.sort_by_key(|s| std::cmp::Reverse(s.ended_at.unwrap_or(s.created_at)));
    Ok(ended)
}

/// Searches every cached conversation, newest match first. Works offline: the cache holds
/// the transcripts.
#[tauri::command]
pub async fn search_messages(
    session: State<'_, Session>,
    query: String,
) -> Result<Vec<MessageHitView>, Failure> {
    let engine = engine(&session)?;
    let hits = engine
        .cache()
        .search(&query, SEARCH_HITS)
        .await
        .map_err(unsearchable)?;
    Ok(hits
        .into_iter()
        .filter_map(|hit| {
            let found = session_view(&engine, &hit.session_id).ok()?;
            Some(MessageHitView::of(hit, &found))
        })
        .collect())
}

/// Opens a session's window (or brings it up) showing one of its messages, highlighted.
#[tauri::command]
pub async fn show_message(
    app: AppHandle,
    session: State<'_, Session>,
    session_id: String,
    reveal: RevealView,
) -> Result<(), Failure> {
    let engine = engine(&session)?;
    let view = session_view(&engine, &session_id)?;
    app.state::<Toasts>().withdraw(&app, &session_id);
    windows::open_im_at(&app, &view, reveal);
    Ok(())
}

fn unsearchable(e: huddle_client::cache::CacheError) -> Failure {
    Failure::new(format!("Huddle cannot search its conversations: {e}."))
}

/// Puts missed invitations away: the main window no longer lists them.
#[tauri::command]
pub async fn put_away_missed(
    session: State<'_, Session>,
    session_ids: Vec<String>,
) -> Result<(), Failure> {
    Ok(engine(&session)?.put_away_missed(&session_ids).await?)
}

/// Opens a session's window, or brings it up.
#[tauri::command]
pub async fn show_session(
    app: AppHandle,
    session: State<'_, Session>,
    session_id: String,
) -> Result<(), Failure> {
    engine(&session)?;
    invitations::open(&app, &session_id).await
}

/// The text size of IM views, in percent.
#[tauri::command]
pub fn zoom(settings: State<'_, Settings>) -> u16 {
    settings.get().zoom
}

/// Sets the text size of IM views in every window, and remembers it. Returns the size
/// applied (kept within the supported range).
#[tauri::command]
pub fn set_zoom(app: AppHandle, settings: State<'_, Settings>, percent: u16) -> u16 {
    let percent = clamp_zoom(percent);
    settings.update(|v| v.zoom = percent);
    app.state::<WindowEvents>().send_all(ZOOM_EVENT, &percent);
    percent
}

/// Everything the calling IM window shows.
#[tauri::command]
pub async fn im_state(
    window: WebviewWindow,
    session: State<'_, Session>,
    settings: State<'_, Settings>,
) -> Result<ImWindowView, Failure> {
    let engine = engine(&session)?;
    let id = own_session(&window)?;
    let view = session_view(&engine, id)?;
    let tail = engine
        .cache()
        .transcript_tail(id, TRANSCRIPT_TAIL)
        .await
        .map_err(unreadable_transcript)?;
    Ok(ImWindowView {
        session: view,
        messages: tail.messages,
        has_earlier: tail.has_earlier,
        zoom: settings.get().zoom,
        spell_check: settings.get().preferences.spell_check,
        voice: engine.voice_consultation(id),
    })
}

/// The calling window's messages before `before_seq`, a page of them, as the agent scrolls
/// back through a long transcript.
#[tauri::command]
pub async fn im_earlier(
    window: WebviewWindow,
    session: State<'_, Session>,
    before_seq: i64,
) -> Result<TranscriptPageView, Failure> {
    let engine = engine(&session)?;
    let id = own_session(&window)?;
    page_view(
        engine
            .cache()
            .transcript_before(id, before_seq, TRANSCRIPT_PAGE)
            .await,
    )
}

/// The calling window's messages numbered from `from_seq` up to `before_seq`: what it lacks
/// to show a message further back than it has read.
#[tauri::command]
pub async fn im_between(
    window: WebviewWindow,
    session: State<'_, Session>,
    from_seq: i64,
    before_seq: i64,
) -> Result<TranscriptPageView, Failure> {
    let engine = engine(&session)?;
    let id = own_session(&window)?;
    page_view(
        engine
            .cache()
            .transcript_between(id, from_seq, before_seq)
            .await,
    )
}

fn page_view(
    read: Result<huddle_client::cache::TranscriptPage, huddle_client::cache::CacheError>,
) -> Result<TranscriptPageView, Failure> {
    let page = read.map_err(unreadable_transcript)?;
    Ok(TranscriptPageView {
        messages: page.messages,
        has_earlier: page.has_earlier,
    })
}

/// Searches the calling window's transcript, newest match first.
#[tauri::command]
pub async fn im_find(
    window: WebviewWindow,
    session: State<'_, Session>,
    query: String,
) -> Result<Vec<MessageHitView>, Failure> {
    let engine = engine(&session)?;
    let id = own_session(&window)?;
    let view = session_view(&engine, id)?;
    let hits = engine
        .cache()
        .search_session(id, &query, FIND_HITS)
        .await
        .map_err(unsearchable)?;
    Ok(hits
        .into_iter()
        .map(|hit| MessageHitView::of(hit, &view))
        .collect())
}

fn unreadable_transcript(e: huddle_client::cache::CacheError) -> Failure {
    Failure::new(format!("Huddle cannot read this transcript: {e}."))
}

/// Sends what the agent typed in the calling window's session: a consultation's first
/// message invites its colleague; other messages show as pending until the hub has them, and
/// wait in the outbox while Huddle is offline.
#[tauri::command]
pub async fn im_send(
    window: WebviewWindow,
    session: State<'_, Session>,
    text: String,
) -> Result<CachedMessage, Failure> {
    let engine = engine(&session)?;
    Ok(engine.send(own_session(&window)?, &text).await?)
}

/// Accepts the invitation of the calling window.
#[tauri::command]
pub async fn im_accept(app: AppHandle, window: WebviewWindow) -> Result<(), Failure> {
    invitations::accept(&app, own_session(&window)?).await
}

/// Rejects the invitation of the calling window; the inviter is told and the window closes.
#[tauri::command]
pub async fn im_reject(app: AppHandle, window: WebviewWindow) -> Result<(), Failure> {
    invitations::reject(&app, own_session(&window)?).await
}

/// The agent's customer interactions that have not ended.
#[tauri::command]
pub async fn interactions(session: State<'_, Session>) -> Result<Vec<InteractionSummary>, Failure> {
    Ok(engine(&session)?.interactions().await?)
}

/// Drafts an IM consultation with a colleague about one of the agent's interactions, and
/// opens its window, Not Connected: its first message will invite the colleague.
#[tauri::command]
pub async fn start_consultation(
    app: AppHandle,
    session: State<'_, Session>,
    interaction_id: String,
    target: ConsultTarget,
) -> Result<SessionView, Failure> {
    let engine = engine(&session)?;
    let profile = AgentProfile {
        id: target.id,
        login: target.login,
        display_name: target.name,
    };
    let draft = engine.draft(profile, ConsultContext { interaction_id });
    let view = SessionView::of(&draft, engine.agent());
    windows::open_im(&app, &view, windows::Open::Focused);
    Ok(view)
}

/// Turns a connected IM consultation into a voice consultation from the main window's Team
/// Communicator (its Active Consultations): the customer is put on hold and the colleague's
/// phone rings. The session's window comes up to follow it.
#[tauri::command]
pub async fn start_voice_consultation(
    app: AppHandle,
    session: State<'_, Session>,
    session_id: String,
) -> Result<VoiceConsultation, Failure> {
    let engine = engine(&session)?;
    let consultation = engine.start_voice_consultation(&session_id).await?;
    invitations::open(&app, &session_id).await?;
    Ok(consultation)
}

/// The case data, contact and contact history of the calling window's consultation.
#[tauri::command]
pub async fn im_consultation(
    window: WebviewWindow,
    session: State<'_, Session>,
) -> Result<InteractionDetails, Failure> {
    let engine = engine(&session)?;
    let interaction = consulted_interaction(&engine, own_session(&window)?)?;
    Ok(engine.interaction_details(&interaction).await?)
}

/// Searches the contact history of the calling window's consultation.
#[tauri::command]
pub async fn im_contact_history(
    window: WebviewWindow,
    session: State<'_, Session>,
    query: String,
) -> Result<Vec<HistoryEntry>, Failure> {
    let engine = engine(&session)?;
    let interaction = consulted_interaction(&engine, own_session(&window)?)?;
    Ok(engine.contact_history(&interaction, query.trim()).await?)
}

/// Turns the calling window's consultation into a voice consultation: the customer is put
/// on hold and the colleague's phone rings.
#[tauri::command]
pub async fn im_start_voice(
    window: WebviewWindow,
    session: State<'_, Session>,
) -> Result<VoiceConsultation, Failure> {
    let engine = engine(&session)?;
    Ok(engine
        .start_voice_consultation(own_session(&window)?)
        .await?)
}

/// Answers the voice consultation request of the calling window's session.
#[tauri::command]
pub async fn im_answer_voice(
    window: WebviewWindow,
    session: State<'_, Session>,
    accept: bool,
) -> Result<(), Failure> {
    let engine = engine(&session)?;
    let voice = current_voice(&engine, own_session(&window)?)?;
    Ok(engine.answer_voice_consultation(&voice, accept).await?)
}

/// Ends the voice consultation of the calling window's session; the customer is taken off
/// hold.
#[tauri::command]
pub async fn im_end_voice(
    window: WebviewWindow,
    session: State<'_, Session>,
) -> Result<(), Failure> {
    let engine = engine(&session)?;
    let voice = current_voice(&engine, own_session(&window)?)?;
    Ok(engine.end_voice_consultation(&voice).await?)
}

fn consulted_interaction(engine: &Engine, session_id: &str) -> Result<String, Failure> {
    session_view(engine, session_id)?
        .interaction_id
        .ok_or_else(|| Failure::new("This IM session is not a consultation."))
}

fn current_voice(engine: &Engine, session_id: &str) -> Result<String, Failure> {
    engine
        .voice_consultation(session_id)
        .map(|v| v.id)
        .ok_or_else(|| Failure::new("This session has no voice consultation."))
}

/// The invitations the toast shows.
#[tauri::command]
pub fn toast_state(app: AppHandle, toasts: State<'_, Toasts>) -> ToastView {
    toasts.view(&app)
}

/// Accepts an invitation from the toast.
#[tauri::command]
pub async fn toast_accept(app: AppHandle, session_id: String) -> Result<(), Failure> {
    on_toast(&app, &session_id)?;
    invitations::accept(&app, &session_id).await
}

/// Rejects an invitation from the toast.
#[tauri::command]
pub async fn toast_reject(app: AppHandle, session_id: String) -> Result<(), Failure> {
    on_toast(&app, &session_id)?;
    invitations::reject(&app, &session_id).await
}

/// Takes an invitation off the toast; it still waits in the taskbar.
#[tauri::command]
pub fn toast_dismiss(app: AppHandle, toasts: State<'_, Toasts>, session_id: String) {
    toasts.withdraw(&app, &session_id);
}

/// How invitations reach the agent, and whether Huddle starts at login.
#[tauri::command]
pub fn preferences(app: AppHandle) -> Preferences {
    Preferences {
        start_at_login: autostart::enabled(),
        system_do_not_disturb: app.state::<SystemQuiet>().on(),
        ..app.state::<Settings>().get().preferences
    }
}

/// The spelling dictionaries the agent can choose from; none where the system's checker
/// chooses.
#[tauri::command]
pub fn spell_languages() -> Vec<String> {
    spelling::languages()
}

/// Tells the main window the preferences as they are now.
pub fn tell_preferences(app: &AppHandle) {
    app.state::<WindowEvents>()
        .send("main", PREFERENCES_EVENT, &preferences(app.clone()));
}

/// Opens the folder of Huddle's log files in the system's file manager.
#[tauri::command]
pub fn show_logs_folder(app: AppHandle) -> Result<(), Failure> {
    let dir = crate::logs::dir(&app)
        .map_err(|e| Failure::new(format!("Huddle cannot find its logs folder: {e}.")))?;
    let cannot = |e: std::io::Error| {
        tracing::warn!(folder = %dir.display(), error = %e, "cannot show the logs folder");
        Failure::new(format!(
            "Huddle could not open its logs folder ({}): {e}.",
            dir.display()
        ))
    };
    std::fs::create_dir_all(&dir).map_err(cannot)?;
    open::that_detached(&dir).map_err(cannot)
}

/// A window's page reports that it painted and takes input.
#[tauri::command]
pub fn ui_ready(window: WebviewWindow, marks: crate::ready::ReadyMarks) {
    crate::ready::report(window.label(), marks);
}

/// Changes how invitations reach the agent, and whether Huddle starts at login; returns what
/// was applied.
#[tauri::command]
pub fn set_preferences(
    app: AppHandle,
    settings: State<'_, Settings>,
    value: Preferences,
) -> Result<Preferences, Failure> {
    if value.start_at_login != autostart::enabled() {
        autostart::set(value.start_at_login).map_err(|e| {
            tracing::warn!(error = %e, "cannot change whether Huddle starts at login");
            Failure::new(format!("Starting at login could not be changed: {e}."))
        })?;
    }
    let before = settings.get().preferences;
    let spelling_changed =
        value.spell_check != before.spell_check || value.spell_language != before.spell_language;
    settings.update(|v| v.preferences = value);
    let applied = preferences(app.clone());
    if applied.do_not_disturb && !before.do_not_disturb {
        invitations::hold_back(&app);
    }
    if spelling_changed {
        spelling::apply(&app, applied.spell_check, &applied.spell_language);
    }
    tell_preferences(&app);
    Ok(applied)
}

/// The toast acts only on the invitations it shows: a page cannot answer others through it.
fn on_toast(app: &AppHandle, session_id: &str) -> Result<(), Failure> {
    if app.state::<Toasts>().shows(session_id) {
        Ok(())
    } else {
        Err(Failure::new("This invitation is no longer waiting."))
    }
}

/// Ends the calling window's session for both agents (or withdraws its invitation).
#[tauri::command]
pub async fn im_end(window: WebviewWindow, session: State<'_, Session>) -> Result<(), Failure> {
    let engine = engine(&session)?;
    Ok(engine.finish(own_session(&window)?).await?)
}

/// Closes the calling window, ending its session first when it is not over.
#[tauri::command]
pub async fn im_done(window: WebviewWindow, session: State<'_, Session>) -> Result<(), Failure> {
    if let Some(engine) = session.engine() {
        engine.finish(own_session(&window)?).await?;
    }
    window
        .destroy()
        .map_err(|e| Failure::new(format!("Huddle cannot close this window: {e}.")))
}

fn engine(session: &Session) -> Result<Engine, Failure> {
    session
        .engine()
        .ok_or_else(|| Failure::new("You are signed out. Sign in from the main window."))
}

fn own_session(window: &WebviewWindow) -> Result<&str, Failure> {
    windows::session_of(window.label())
        .ok_or_else(|| Failure::new("This window shows no IM session."))
}

fn session_view(engine: &Engine, session_id: &str) -> Result<SessionView, Failure> {
    engine
        .session(session_id)
        .map(|s| SessionView::of(&s, engine.agent()))
        .ok_or_else(|| Failure::new("Huddle knows no such IM session."))
}
