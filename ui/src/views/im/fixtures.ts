// Sessions and messages for the IM window's tests.

import type { AgentProfile, CachedMessage, SessionView, StatusView } from '../../lib/bindings';

export const me: AgentProfile = { id: 7, login: 'alice', display_name: 'Alice Martin' };
export const bob: AgentProfile = { id: 12, login: 'bob', display_name: 'Bob Stone' };

export const SESSION_ID = 's-1';

export function session(status: StatusView = { kind: 'connected' }, more: Partial<SessionView> = {}): SessionView {
  return {
    id: SESSION_ID,
    me,
    other: bob,
    i_invited: true,
    status,
    created_at: Date.now() - 60_000,
    invite_expires_at: Date.now() + 45_000,
    first_message: null,
    consultation: false,
    interaction_id: null,
    missed: false,
    ended_at: null,
    ...more,
  };
}

let nextId = 0;

/** A message the hub has (numbered `seq`), or one it does not have yet (`seq` null, pending). */
export function message(seq: number | null, text: string, more: Partial<CachedMessage> = {}): CachedMessage {
  return {
    session_id: SESSION_ID,
    id: more.id ?? `m-${seq ?? 'p'}-${++nextId}`,
    seq,
    from: bob.id,
    text,
    at: Date.now(),
    delivery: seq === null ? 'pending' : 'sent',
    failure: null,
    ...more,
  };
}
