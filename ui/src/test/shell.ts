// The shell as component tests see it: usual answers for every command, and events to emit.
import type {
  ConnectionView,
  DirectoryEntry,
  DirectoryFilter,
  PresenceChange,
  SessionView,
} from '../lib/bindings';
import * as api from './api-mock';
import { signedOut } from './fixtures';

type Listener<T> = (payload: T) => void;

export type Shell = {
  emitConnection: (view: ConnectionView) => void;
  emitPresence: (change: PresenceChange) => void;
  emitSession: (session: SessionView) => void;
  emitZoom: (percent: number) => void;
  /** How many listeners each event has now. */
  listeners: () => { connection: number; presence: number; session: number; zoom: number };
};

/**
 * Gives every mocked command an answer: `directory` is searched by name or login (favorites
 * and recent ones filtered like the hub does) and follows `setFavorite`; nobody has sessions;
 * the text size is `zoom`.
 */
export function stubShell({
  directory = [],
  zoom = 100,
}: { directory?: DirectoryEntry[]; zoom?: number } = {}): Shell {
  const connection = new Set<Listener<ConnectionView>>();
  const presence = new Set<Listener<PresenceChange>>();
  const session = new Set<Listener<SessionView>>();
  const zoomed = new Set<Listener<number>>();

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
  api.listSessions.mockResolvedValue([]);
  api.showSession.mockResolvedValue();
  api.zoom.mockResolvedValue(zoom);
  api.setZoom.mockImplementation((percent) => Promise.resolve(percent));

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
    listeners: () => ({
      connection: connection.size,
      presence: presence.size,
      session: session.size,
      zoom: zoomed.size,
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

/** A promise to settle by hand, to hold an answer back. */
export function deferred<T>(): { promise: Promise<T>; resolve: (value: T) => void } {
  let resolve: (value: T) => void = () => {};
  const promise = new Promise<T>((res) => (resolve = res));
  return { promise, resolve };
}
