// The only module that talks to the Tauri shell. Views import from here, and tests mock it.

import { Channel, invoke } from '@tauri-apps/api/core';
import type {
  ConnectionView,
  DirectoryEntry,
  DirectoryFilter,
  Failure,
  ImWindowView,
  LoginFailure,
  LoginForm,
  CachedMessage,
  MessageHitView,
  RevealView,
  Presence,
  ConsultTarget,
  HistoryEntry,
  InteractionDetails,
  InteractionSummary,
  Preferences,
  PresenceChange,
  ReadyMarks,
  SessionView,
  ToastView,
  TranscriptPageView,
  VoiceConsultation,
  WindowEvent,
} from './bindings';

/** Signs in. Resolves with the new connection; rejects with a {@link LoginFailure}. */
export async function login(form: LoginForm): Promise<ConnectionView> {
  try {
    return await invoke<ConnectionView>('login', { form });
  } catch (error) {
    throw asLoginFailure(error);
  }
}

/** Where the agent stands with the hub right now. */
export function currentConnection(): Promise<ConnectionView> {
  return invoke<ConnectionView>('current_connection');
}

/** Signs out and forgets the session. */
export function signOut(): Promise<void> {
  return invoke<void>('sign_out');
}

/** Sets the agent's own presence (My Status). Rejects with a {@link Failure}. */
export function setPresence(presence: Presence): Promise<void> {
  return call<void>('set_presence', { presence });
}

/** Searches the Team Communicator's directory. Rejects with a {@link Failure}. */
export function searchDirectory(query: string, filter: DirectoryFilter): Promise<DirectoryEntry[]> {
  return call<DirectoryEntry[]>('search_directory', { query, filter });
}

/** Marks or unmarks an agent as a favorite. Rejects with a {@link Failure}. */
export function setFavorite(agentId: number, favorite: boolean): Promise<void> {
  return call<void>('set_favorite', { agentId, favorite });
}

/**
 * Sends an IM invitation to an agent and opens the session's window (or brings up the
 * session already open with that agent). Rejects with a {@link Failure}.
 */
export function startIm(agentId: number): Promise<SessionView> {
  return call<SessionView>('start_im', { agentId });
}

/** The agent's sessions that are not over (invitations included), and the invitations missed. */
export function listSessions(): Promise<SessionView[]> {
  return call<SessionView[]>('list_sessions');
}

/** Puts missed invitations away: they are no longer listed. Rejects with a {@link Failure}. */
export function putAwayMissed(sessionIds: string[]): Promise<void> {
  return call<void>('put_away_missed', { sessionIds });
}

/** The agent's ended sessions, the most recently ended first. Rejects with a {@link Failure}. */
export function history(): Promise<SessionView[]> {
  return call<SessionView[]>('history');
}

/** Searches every cached conversation, newest match first (offline too). Rejects with a {@link Failure}. */
export function searchMessages(query: string): Promise<MessageHitView[]> {
  return call<MessageHitView[]>('search_messages', { query });
}

/** Opens a session's window showing one of its messages, highlighted. Rejects with a {@link Failure}. */
export function showMessage(sessionId: string, reveal: RevealView): Promise<void> {
  return call<void>('show_message', { sessionId, reveal });
}

/** Opens a session's window, or brings it up. Rejects with a {@link Failure}. */
export function showSession(sessionId: string): Promise<void> {
  return call<void>('show_session', { sessionId });
}

/** The text size of IM views, in percent. */
export function zoom(): Promise<number> {
  return invoke<number>('zoom');
}

/** Sets the text size of IM views in every window; resolves with the size applied. */
export function setZoom(percent: number): Promise<number> {
  return invoke<number>('set_zoom', { percent });
}

/** Everything the current IM window shows. Rejects with a {@link Failure}. */
export function imState(): Promise<ImWindowView> {
  return call<ImWindowView>('im_state');
}

/** This IM window's messages before `beforeSeq`, a page of them. Rejects with a {@link Failure}. */
export function imEarlier(beforeSeq: number): Promise<TranscriptPageView> {
  return call<TranscriptPageView>('im_earlier', { beforeSeq });
}

/** This IM window's messages numbered from `fromSeq` up to `beforeSeq`. Rejects with a {@link Failure}. */
export function imBetween(fromSeq: number, beforeSeq: number): Promise<TranscriptPageView> {
  return call<TranscriptPageView>('im_between', { fromSeq, beforeSeq });
}

/** Searches this IM window's transcript, newest match first. Rejects with a {@link Failure}. */
export function imFind(query: string): Promise<MessageHitView[]> {
  return call<MessageHitView[]>('im_find', { query });
}

/** Sends a message in the current IM window's session. Rejects with a {@link Failure}. */
export function imSend(text: string): Promise<CachedMessage> {
  return call<CachedMessage>('im_send', { text });
}

/** Accepts the current IM window's invitation. Rejects with a {@link Failure}. */
export function imAccept(): Promise<void> {
  return call<void>('im_accept');
}

/** Rejects the current IM window's invitation. Rejects with a {@link Failure}. */
export function imReject(): Promise<void> {
  return call<void>('im_reject');
}

/** Ends the current IM window's session for both agents. Rejects with a {@link Failure}. */
export function imEnd(): Promise<void> {
  return call<void>('im_end');
}

/** Closes the current IM window, ending its session first. Rejects with a {@link Failure}. */
export function imDone(): Promise<void> {
  return call<void>('im_done');
}

/** The agent's customer interactions that have not ended (main window). */
export function interactions(): Promise<InteractionSummary[]> {
  return call<InteractionSummary[]>('interactions');
}

/**
 * Drafts an IM consultation with a colleague about one of the agent's interactions and opens
 * its window, Not Connected: its first message invites the colleague. Rejects with a
 * {@link Failure}.
 */
export function startConsultation(
  interactionId: string,
  target: ConsultTarget,
): Promise<SessionView> {
  return call<SessionView>('start_consultation', { interactionId, target });
}

/**
 * Turns a connected IM consultation into a voice consultation from the Team Communicator's
 * Active Consultations: the customer is put on hold and the colleague's phone rings.
 */
export function startVoiceConsultation(sessionId: string): Promise<VoiceConsultation> {
  return call<VoiceConsultation>('start_voice_consultation', { sessionId });
}

/** The case data, contact and history of the current IM window's consultation. */
export function imConsultation(): Promise<InteractionDetails> {
  return call<InteractionDetails>('im_consultation');
}

/** Searches the contact history of the current IM window's consultation. */
export function imContactHistory(query: string): Promise<HistoryEntry[]> {
  return call<HistoryEntry[]>('im_contact_history', { query });
}

/** Turns the current IM window's consultation into a voice consultation. */
export function imStartVoice(): Promise<VoiceConsultation> {
  return call<VoiceConsultation>('im_start_voice');
}

/** Answers the current IM window's voice consultation request; the outcome comes as an event. */
export function imAnswerVoice(accept: boolean): Promise<void> {
  return call<void>('im_answer_voice', { accept });
}

/** Ends the current IM window's voice consultation; the customer is taken off hold. */
export function imEndVoice(): Promise<void> {
  return call<void>('im_end_voice');
}

/** Calls `cb` when one of the agent's interactions is delivered, changes or ends (main). */
export function onInteraction(cb: (interaction: InteractionSummary) => void): Promise<() => void> {
  return listenHere<InteractionSummary>('interaction', cb);
}

/** Calls `cb` when the current IM window's voice consultation changes. */
export function onVoice(cb: (consultation: VoiceConsultation) => void): Promise<() => void> {
  return listenHere<VoiceConsultation>('voice', cb);
}

/** How invitations reach the agent (do not disturb, sound, toast time, tray). */
export function preferences(): Promise<Preferences> {
  return invoke<Preferences>('preferences');
}

/** Changes the preferences; resolves with what was applied (kept in range). Rejects with a {@link Failure}. */
export function setPreferences(value: Preferences): Promise<Preferences> {
  return call<Preferences>('set_preferences', { value });
}

/** The spelling dictionaries the agent can choose from; none where the system's checker chooses. */
export function spellLanguages(): Promise<string[]> {
  return invoke<string[]>('spell_languages');
}

/** Opens the folder of Huddle's log files in the system's file manager. Rejects with a {@link Failure}. */
export function showLogsFolder(): Promise<void> {
  return call<void>('show_logs_folder');
}

/** Reports this window's start-up marks to the shell, which logs them. */
export function uiReady(marks: ReadyMarks): Promise<void> {
  return invoke<void>('ui_ready', { marks });
}

/** The invitations the toast shows now. */
export function toastState(): Promise<ToastView> {
  return invoke<ToastView>('toast_state');
}

/** Accepts an invitation from the toast: its IM window comes up connected. */
export function toastAccept(sessionId: string): Promise<void> {
  return call<void>('toast_accept', { sessionId });
}

/** Rejects an invitation from the toast; the inviter is told. */
export function toastReject(sessionId: string): Promise<void> {
  return call<void>('toast_reject', { sessionId });
}

/** Takes an invitation off the toast (its time is up); it still waits in the taskbar. */
export function toastDismiss(sessionId: string): Promise<void> {
  return invoke<void>('toast_dismiss', { sessionId });
}

/** Calls `cb` whenever the toast's invitations change (the toast window). */
export function onToast(cb: (view: ToastView) => void): Promise<() => void> {
  return listenHere<ToastView>('toast', cb);
}

/** Calls `cb` when the preferences change (main window). */
export function onPreferences(cb: (value: Preferences) => void): Promise<() => void> {
  return listenHere<Preferences>('preferences', cb);
}

/** Calls `cb` whenever the connection changes. Resolves with a function that stops listening. */
export function onConnection(cb: (view: ConnectionView) => void): Promise<() => void> {
  return listenHere<ConnectionView>('connection', cb);
}

/** Calls `cb` when another agent's presence changes (main window). */
export function onPresence(cb: (change: PresenceChange) => void): Promise<() => void> {
  return listenHere<PresenceChange>('presence', cb);
}

/** Calls `cb` when a session changes (main window: all; an IM window: its own). */
export function onSession(cb: (session: SessionView) => void): Promise<() => void> {
  return listenHere<SessionView>('session', cb);
}

/** Calls `cb` when a message of the IM window's session is added or changes. */
export function onMessage(cb: (message: CachedMessage) => void): Promise<() => void> {
  return listenHere<CachedMessage>('message', cb);
}

/** Calls `cb` when the IM window is asked to show one of its messages (a search result). */
export function onReveal(cb: (reveal: RevealView) => void): Promise<() => void> {
  return listenHere<RevealView>('reveal', cb);
}

/** The message a new IM window was opened to show, if any (set by the shell before the page's script). */
export function revealAtOpen(): RevealView | null {
  const value = (window as { __HUDDLE_REVEAL__?: unknown }).__HUDDLE_REVEAL__;
  if (typeof value !== 'object' || value === null) return null;
  const { message_id, from, seq } = value as Record<string, unknown>;
  if (typeof message_id !== 'string' || typeof from !== 'number') return null;
  return { message_id, from, seq: typeof seq === 'number' ? seq : null };
}

/** Calls `cb` when the text size of IM views changes (every window). */
export function onZoom(cb: (percent: number) => void): Promise<() => void> {
  return listenHere<number>('zoom', cb);
}

/** What this window listens for, by event name. */
const handlers = new Map<string, Set<(payload: unknown) => void>>();
/** This window's channel from the shell, opened at the first listener. */
let opened: Promise<void> | null = null;

/** Opens this window's channel: the shell sends a window only its own news on it. */
function openChannel(): Promise<void> {
  if (opened === null) {
    const channel = new Channel<WindowEvent>();
    channel.onmessage = (news) => {
      for (const handler of handlers.get(news.event) ?? []) handler(news.payload);
    };
    opened = invoke<void>('window_events', { channel }).catch((error: unknown) => {
      opened = null;
      throw asFailure(error);
    });
  }
  return opened;
}

/** Listens for an event the shell sends this window. Resolves with a function that stops. */
function listenHere<T>(event: string, cb: (payload: T) => void): Promise<() => void> {
  const handler = (payload: unknown): void => cb(payload as T);
  let set = handlers.get(event);
  if (set === undefined) {
    set = new Set();
    handlers.set(event, set);
  }
  set.add(handler);
  const registered = set;
  return openChannel().then(
    () => () => {
      registered.delete(handler);
    },
    (error: unknown) => {
      registered.delete(handler);
      throw error;
    },
  );
}

/** Invokes a command whose failures are {@link Failure}s. */
async function call<T>(command: string, args?: Record<string, unknown>): Promise<T> {
  try {
    return await invoke<T>(command, args);
  } catch (error) {
    throw asFailure(error);
  }
}

/** The shell rejects with a `Failure`; anything else (an IPC error string) becomes one. */
export function asFailure(error: unknown): Failure {
  if (typeof error === 'object' && error !== null && 'message' in error) {
    const { message } = error as { message: unknown };
    if (typeof message === 'string') return { message };
  }
  return { message: `Something went wrong: ${String(error)}` };
}

/** The shell rejects with a `LoginFailure`; anything else (an IPC error string) becomes one. */
function asLoginFailure(error: unknown): LoginFailure {
  if (typeof error === 'object' && error !== null && 'message' in error) {
    const { message, field, unencrypted } = error as { message: unknown; field?: unknown; unencrypted?: unknown };
    if (typeof message === 'string') {
      const known = field === 'hub' || field === 'login' || field === 'password';
      return { message, field: known ? field : null, unencrypted: unencrypted === true };
    }
  }
  return { message: `Signing in failed: ${String(error)}`, field: null, unencrypted: false };
}
