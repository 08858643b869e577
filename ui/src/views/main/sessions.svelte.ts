// The agent's IM sessions that are not over, and the invitations they missed, as the main window
// knows them: read from the shell (again whenever the connection comes back) and followed as
// they change. Conversations lists them; the Team Communicator finds the agent's active
// consultations among them.

import { history, listSessions, onSession, putAwayMissed } from '../../lib/api';
import type { SessionView } from '../../lib/bindings';
import { LiveList } from '../../lib/liveList.svelte';

/** Whether the main window lists it: not over, or an invitation the agent missed. */
function listed(session: SessionView): boolean {
  return session.status.kind !== 'ended' || session.missed;
}

/** Invitations first (they wait for an answer), then the newest first; the missed ones last. */
function ordered(all: SessionView[]): SessionView[] {
  const rank = (s: SessionView): number => (s.missed ? 2 : s.status.kind === 'invited' ? 0 : 1);
  return all.sort((a, b) => rank(a) - rank(b) || b.created_at - a.created_at);
}

function upsert(all: readonly SessionView[], session: SessionView): SessionView[] {
  const others = all.filter((s) => s.id !== session.id);
  return listed(session) ? ordered([...others, session]) : others;
}

/** The sessions that are not over, then the missed invitations. */
export class SessionsState extends LiveList<SessionView> {
  constructor() {
    super({
      read: listSessions,
      listen: onSession,
      what: 'the IM sessions',
      settle: (found) => ordered(found.filter(listed)),
      upsert,
    });
  }

  /** Puts the missed invitations away; they leave the list once the shell has done it. */
  async putAwayMissed(): Promise<void> {
    const ids = this.list.filter((s) => s.missed).map((s) => s.id);
    if (ids.length === 0) return;
    await putAwayMissed(ids);
    this.list = this.list.filter((s) => !ids.includes(s.id));
  }
}

/** The connected IM consultations the agent started about this interaction: newest first. */
export function activeConsultations(all: readonly SessionView[], interactionId: string): SessionView[] {
  return all.filter(
    (s) => s.interaction_id === interactionId && s.i_invited && s.status.kind === 'connected',
  );
}

/** When a session ended, for the history's order and days (its invitation's time if not known). */
export function endedAt(session: SessionView): number {
  return session.ended_at ?? session.created_at;
}

function byEnd(all: SessionView[]): SessionView[] {
  return all.sort((a, b) => endedAt(b) - endedAt(a));
}

/** The agent's ended sessions, the most recently ended first: the history. */
export class HistoryState extends LiveList<SessionView> {
  constructor() {
    super({
      read: history,
      listen: onSession,
      what: 'the ended IM sessions',
      settle: (found) => byEnd(found.filter((s) => s.status.kind === 'ended')),
      upsert: (all, session) => {
        const others = all.filter((s) => s.id !== session.id);
        return session.status.kind === 'ended' ? byEnd([...others, session]) : others;
      },
    });
  }
}

/** The sessions whose colleague's name or login holds `filter`, ignoring case and accents. */
export function withColleague(all: readonly SessionView[], filter: string): readonly SessionView[] {
  const wanted = fold(filter.trim());
  if (wanted === '') return all;
  return all.filter((s) => fold(s.other.display_name).includes(wanted) || fold(s.other.login).includes(wanted));
}

function fold(text: string): string {
  return text.normalize('NFD').replace(/\p{Diacritic}/gu, '').toLowerCase();
}
