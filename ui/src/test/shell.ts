// The shell as component tests see it: usual answers for every command, and events to emit.
import type {
  ConnectionView,
  DirectoryEntry,
  DirectoryFilter,
  HistoryEntry,
  ImWindowView,
  InteractionDetails,
  InteractionSummary,
  CachedMessage,
  Preferences,
  PresenceChange,
  RevealView,
  SessionView,
  ToastView,
  VoiceConsultation,
} from '../lib/bindings';
import * as api from './api-mock';
import { alice, signedOut } from './fixtures';

type Listener<T> = (payload: T) => void;

export type Shell = {
  emitConnection: (view: ConnectionView) => void;
  emitPresence: (change: PresenceChange) => void;
  emitSession: (session: SessionView) => void;
  emitZoom: (percent: number) => void;
  emitPreferences: (value: Preferences) => void;
  emitToast: (view: ToastView) => void;
  emitInteraction: (interaction: InteractionSummary) => void;
  emitMessage: (message: CachedMessage) => void;
  emitVoice: (consultation: VoiceConsultation) => void;
  /** How many listeners each event has now. */
  listeners: () => {
    connection: number;
    presence: number;
    session: number;
    zoom: number;
    preferences: number;
    toast: number;
    interaction: number;
    message: number;
    voice: number;
  };
};

/** The shell's default preferences. */
export const DEFAULT_PREFERENCES: Preferences = {
  do_not_disturb: false,
  sound: true,
  toast_seconds: 10,
  keep_in_tray: true,
  text_in_notifications: true,
  start_at_login: false,
  system_do_not_disturb: false,
  spell_check: true,
  spell_language: '',
};

/**
 * Gives every mocked command an answer: `directory` is searched by name or login (favorites
 * and recent ones filtered like the hub does) and follows `setFavorite`; the IM sessions are `sessions` (none unless told);
 * the text size is `zoom`; the preferences are `preferences`, and `setPreferences` applies
 * what it is given (the toast's time kept within 3 and 120 seconds); the toast shows nothing.
 *
 * The agent's customer interactions are `interactions`; `startConsultation` drafts a
 * consultation (Not Connected) with the target, and `startVoiceConsultation` turns one of
 * `sessions` into a ringing voice consultation. An IM window shows `im`; its consultation's
 * details are `details` (none: the hub refuses), whose history `imContactHistory` searches
 * by subject, outcome and notes; a voice consultation starts ringing, and answering or ending
 * it succeeds (its outcome comes as an event, to emit).
 */
export function stubShell({
  directory = [],
  zoom = 100,
  preferences = DEFAULT_PREFERENCES,
  interactions = [],
  sessions = [],
  im,
  details = null,
}: {
  directory?: DirectoryEntry[];
  zoom?: number;
  preferences?: Preferences;
  interactions?: InteractionSummary[];
  sessions?: SessionView[];
  im?: ImWindowView;
  details?: InteractionDetails | null;
} = {}): Shell {
  const connection = new Set<Listener<ConnectionView>>();
  const presence = new Set<Listener<PresenceChange>>();
  const session = new Set<Listener<SessionView>>();
  const zoomed = new Set<Listener<number>>();
  const preferred = new Set<Listener<Preferences>>();
  const toasts = new Set<Listener<ToastView>>();
  const interaction = new Set<Listener<InteractionSummary>>();
  const message = new Set<Listener<CachedMessage>>();
  const voice = new Set<Listener<VoiceConsultation>>();

  function listen<T>(set: Set<Listener<T>>) {
    return (cb: Listener<T>): Promise<() => void> => {
      set.add(cb);
      return Promise.resolve(() => {
        set.delete(cb);
      });
    };
  }

  api.onConnection.mockImplementation(listen(connection));
  api.onPresence.mockImplementation(listen(presence));
  api.onSession.mockImplementation(listen(session));
  api.onZoom.mockImplementation(listen(zoomed));
  api.onPreferences.mockImplementation(listen(preferred));
  api.onToast.mockImplementation(listen(toasts));
  api.onInteraction.mockImplementation(listen(interaction));
  api.onMessage.mockImplementation(listen(message));
  api.onVoice.mockImplementation(listen(voice));
  api.onReveal.mockImplementation(listen(new Set<Listener<RevealView>>()));

  api.currentConnection.mockResolvedValue(signedOut());
  api.signOut.mockResolvedValue();
  api.setPresence.mockResolvedValue();
  api.searchDirectory.mockImplementation((query, filter) =>
    Promise.resolve(search(directory, query, filter)),
  );
  api.setFavorite.mockImplementation((agentId, favorite) => {
    const entry = directory.find((e) => e.id === agentId);
    if (entry !== undefined) entry.favorite = favorite;
    return Promise.resolve();
  });
  api.listSessions.mockImplementation(() => Promise.resolve(structuredClone(sessions)));
  api.history.mockImplementation(() =>
    Promise.resolve(structuredClone(sessions.filter((s) => s.status.kind === 'ended'))),
  );
  api.searchMessages.mockResolvedValue([]);
  api.showMessage.mockResolvedValue();
  api.imFind.mockResolvedValue([]);
  api.imBetween.mockResolvedValue({ messages: [], has_earlier: false });
  api.revealAtOpen.mockReturnValue(null);
  api.showSession.mockResolvedValue();
  api.zoom.mockResolvedValue(zoom);
  api.setZoom.mockImplementation((percent) => Promise.resolve(percent));
  let stored = { ...preferences };
  api.preferences.mockImplementation(() => Promise.resolve({ ...stored }));
  api.setPreferences.mockImplementation((value) => {
    stored = { ...value, toast_seconds: Math.min(120, Math.max(3, value.toast_seconds)) };
    return Promise.resolve({ ...stored });
  });
  api.showLogsFolder.mockResolvedValue();
  api.spellLanguages.mockResolvedValue(['en_US', 'fr_FR']);
  api.uiReady.mockResolvedValue();
  api.toastState.mockResolvedValue({ invitations: [], seconds: stored.toast_seconds, sound: stored.sound });
  api.toastAccept.mockResolvedValue();
  api.toastReject.mockResolvedValue();
  api.toastDismiss.mockResolvedValue();

  api.interactions.mockImplementation(() => Promise.resolve(structuredClone(interactions)));
  api.startConsultation.mockImplementation((interactionId, target) =>
    Promise.resolve(draft(interactionId, { id: target.id, login: target.login, display_name: target.name })),
  );
  api.startVoiceConsultation.mockImplementation((sessionId) =>
    Promise.resolve({
      id: `vc-${sessionId}`,
      session_id: sessionId,
      interaction_id: sessions.find((s) => s.id === sessionId)?.interaction_id ?? 'i-1',
      state: 'ringing',
      customer_held: true,
    }),
  );
  if (im !== undefined) api.imState.mockImplementation(() => Promise.resolve(structuredClone(im)));
  api.imConsultation.mockImplementation(() =>
    details === null
      ? Promise.reject({ message: 'This IM session is not a consultation.' })
      : Promise.resolve(structuredClone(details)),
  );
  api.imContactHistory.mockImplementation((query) =>
    details === null
      ? Promise.reject({ message: 'This IM session is not a consultation.' })
      : Promise.resolve(searchHistory(details.history, query)),
  );
  api.imStartVoice.mockImplementation(() =>
    Promise.resolve({
      id: 'vc-1',
      session_id: im?.session.id ?? 's-1',
      interaction_id: details?.interaction.id ?? im?.session.interaction_id ?? 'i-1',
      state: 'ringing',
      customer_held: true,
    }),
  );
  api.imAnswerVoice.mockResolvedValue();
  api.imEndVoice.mockResolvedValue();

  const emit =
    <T>(set: Set<Listener<T>>) =>
    (payload: T): void => {
      for (const cb of set) cb(payload);
    };

  return {
    emitConnection: emit(connection),
    emitPresence: emit(presence),
    emitSession: emit(session),
    emitZoom: emit(zoomed),
    emitPreferences: emit(preferred),
    emitToast: emit(toasts),
    emitInteraction: emit(interaction),
    emitMessage: emit(message),
    emitVoice: emit(voice),
    listeners: () => ({
      connection: connection.size,
      presence: presence.size,
      session: session.size,
      zoom: zoomed.size,
      preferences: preferred.size,
      toast: toasts.size,
      interaction: interaction.size,
      message: message.size,
      voice: voice.size,
    }),
  };
}

function search(directory: DirectoryEntry[], query: string, filter: DirectoryFilter): DirectoryEntry[] {
  const wanted = query.trim().toLowerCase();
  return directory
    .filter((e) => filter !== 'favorites' || e.favorite)
    .filter((e) => filter !== 'recent' || e.recent_at !== null)
    .filter((e) => e.name.toLowerCase().includes(wanted) || e.login.includes(wanted))
    .map((e) => ({ ...e }));
}

/** A consultation about `interactionId` as `startConsultation` drafts it: Not Connected. */
function draft(interactionId: string, other: SessionView['other']): SessionView {
  const now = Date.now();
  return {
    id: `draft-${interactionId}-${other.id}`,
    me: alice,
    other,
    i_invited: true,
    status: { kind: 'not_connected' },
    created_at: now,
    invite_expires_at: now + 60_000,
    first_message: null,
    consultation: true,
    interaction_id: interactionId,
    missed: false,
    ended_at: null,
  };
}

/** The history entries whose subject, outcome or notes hold the words of `query`, newest first. */
function searchHistory(history: HistoryEntry[], query: string): HistoryEntry[] {
  const words = query.trim().toLowerCase().split(/\s+/).filter((w) => w !== '');
  return history
    .filter((e) => {
      const text = `${e.subject} ${e.outcome} ${e.notes}`.toLowerCase();
      return words.every((w) => text.includes(w));
    })
    .sort((a, b) => b.at - a.at)
    .map((e) => ({ ...e }));
}

/** A promise to settle by hand, to hold an answer back. */
export function deferred<T>(): { promise: Promise<T>; resolve: (value: T) => void } {
  let resolve: (value: T) => void = () => {};
  const promise = new Promise<T>((res) => (resolve = res));
  return { promise, resolve };
}
