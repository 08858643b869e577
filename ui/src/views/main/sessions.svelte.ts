// The agent's IM sessions that are not over, as the main window knows them: read from the shell
// (again whenever the connection comes back) and followed as they change. Conversations lists
// them; the Team Communicator finds the agent's active consultations among them.

import { listSessions, onSession } from '../../lib/api';
import type { SessionView } from '../../lib/bindings';
import { LiveList } from '../../lib/liveList.svelte';

/** Invitations first (they wait for an answer), then the newest first. */
function ordered(all: SessionView[]): SessionView[] {
  const rank = (s: SessionView): number => (s.status.kind === 'invited' ? 0 : 1);
  return all.sort((a, b) => rank(a) - rank(b) || b.created_at - a.created_at);
}

function upsert(all: readonly SessionView[], session: SessionView): SessionView[] {
  const others = all.filter((s) => s.id !== session.id);
  return session.status.kind === 'ended' ? others : ordered([...others, session]);
}

/** The sessions that are not over: invitations first, then the newest first. */
export class SessionsState extends LiveList<SessionView> {
  constructor() {
    super({
      read: listSessions,
      listen: onSession,
      what: 'the IM sessions',
      settle: (found) => ordered(found.filter((s) => s.status.kind !== 'ended')),
      upsert,
    });
  }
}

/** The connected IM consultations the agent started about this interaction: newest first. */
export function activeConsultations(all: readonly SessionView[], interactionId: string): SessionView[] {
  return all.filter(
    (s) => s.interaction_id === interactionId && s.i_invited && s.status.kind === 'connected',
  );
}
