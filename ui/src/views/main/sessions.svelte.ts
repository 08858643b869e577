// The agent's IM sessions that are not over, as the main window knows them: read from the shell
// (again whenever the connection comes back) and followed as they change. Conversations lists
// them; the Team Communicator finds the agent's active consultations among them.

import { subscribe } from '../../components/subscribe';
import { listSessions, onSession } from '../../lib/api';
import type { SessionView } from '../../lib/bindings';
import { failureMessage } from '../../lib/failure';

/** Invitations first (they wait for an answer), then the newest first. */
function ordered(all: SessionView[]): SessionView[] {
  const rank = (s: SessionView): number => (s.status.kind === 'invited' ? 0 : 1);
  return all.sort((a, b) => rank(a) - rank(b) || b.created_at - a.created_at);
}

function upsert(all: readonly SessionView[], session: SessionView): SessionView[] {
  const others = all.filter((s) => s.id !== session.id);
  return session.status.kind === 'ended' ? others : ordered([...others, session]);
}

export class SessionsState {
  /** The sessions that are not over: invitations first, then the newest first. */
  list: readonly SessionView[] = $state.raw([]);
  /** Whether a load has answered, so that an empty list means "none". */
  loaded = $state(false);
  /** Why the last load failed, in words for the agent. */
  failure: string | null = $state(null);

  /** Numbers the loads: only the latest one's answer is taken. */
  #latest = 0;
  /** Session events heard while a load is under way, replayed over its (older) answer. */
  #heard: SessionView[] | null = null;

  /** Follows the sessions' events; returns what stops following (for `onMount`). */
  start(): () => void {
    return subscribe(
      onSession,
      (session) => {
        this.#heard?.push(session);
        this.list = upsert(this.list, session);
      },
      'the IM sessions',
    );
  }

  /** Reads the sessions from the shell. */
  async load(): Promise<void> {
    const ticket = ++this.#latest;
    this.#heard = [];
    try {
      const found = await listSessions();
      if (ticket !== this.#latest) return;
      let next = ordered(found.filter((s) => s.status.kind !== 'ended'));
      for (const session of this.#heard) next = upsert(next, session);
      this.list = next;
      this.failure = null;
      this.loaded = true;
    } catch (error) {
      if (ticket !== this.#latest) return;
      this.failure = failureMessage(error);
    } finally {
      if (ticket === this.#latest) this.#heard = null;
    }
  }
}

/** The connected IM consultations the agent started about this interaction: newest first. */
export function activeConsultations(all: readonly SessionView[], interactionId: string): SessionView[] {
  return all.filter(
    (s) => s.interaction_id === interactionId && s.i_invited && s.status.kind === 'connected',
  );
}
