// What an IM window says about where its session stands, and what the agent can do there.

import type { EndCauseView, SessionView, StatusView } from './bindings';
import { displayName } from './names';

/** The colour family of the status dot. */
export type StatusTone = 'idle' | 'waiting' | 'live' | 'ended';

/** The status indicator's text, from this agent's point of view. */
export function statusText(session: SessionView): string {
  const name = displayName(session.other);
  const { status } = session;
  switch (status.kind) {
    case 'not_connected':
      return 'Not Connected';
    case 'inviting':
      return `Inviting ${name}…`;
    case 'invited':
      return `${name} invites you`;
    case 'connected':
      return 'Connected';
    case 'ended':
      return `Ended — ${endReason(status.cause, session.i_invited, name)}`;
  }
}

function endReason(cause: EndCauseView, iInvited: boolean, name: string): string {
  switch (cause) {
    case 'ended_by_me':
      return 'you ended the session';
    case 'ended_by_other':
      return `${name} ended the session`;
    case 'rejected':
      return `${name} rejected the invitation`;
    case 'rejected_by_me':
      return 'you rejected the invitation';
    case 'timed_out':
      return iInvited ? `${name} did not answer in time` : 'the invitation timed out';
    case 'cancelled':
      return `${name} cancelled the invitation`;
    case 'cancelled_by_me':
      return 'you cancelled the invitation';
    case 'lost':
      return 'the hub no longer has this conversation';
  }
}

export function statusTone(status: StatusView): StatusTone {
  switch (status.kind) {
    case 'not_connected':
      return 'idle';
    case 'inviting':
    case 'invited':
      return 'waiting';
    case 'connected':
      return 'live';
    case 'ended':
      return 'ended';
  }
}

/**
 * Whether the message field takes messages: in a connected session, and in a consultation not
 * sent yet, whose first message is what invites the other agent.
 */
export function canWrite(status: StatusView): boolean {
  return status.kind === 'connected' || status.kind === 'not_connected';
}

/**
 * Why an invitation to this agent ended before they answered it (the inviter withdrew it, or
 * it timed out): a missed instant message. `null` for any other session.
 */
export function missedReason(session: SessionView): string | null {
  if (!session.missed || session.status.kind !== 'ended') return null;
  switch (session.status.cause) {
    case 'cancelled':
      return `${displayName(session.other)} withdrew the invitation`;
    case 'timed_out':
      return 'The invitation timed out';
    default:
      return null;
  }
}

/** What the empty message field says: what to write, or why nothing can be written. */
export function fieldPlaceholder(session: SessionView): string {
  const name = displayName(session.other);
  if (missedReason(session) !== null) return 'This invitation is no longer open';
  switch (session.status.kind) {
    case 'not_connected':
      return `Type the first message to ${name} — Send invites them`;
    case 'inviting':
      return `Waiting for ${name} to accept…`;
    case 'invited':
      return 'Accept the invitation to reply';
    case 'connected':
      return `Message ${name}`;
    case 'ended':
      return 'This session has ended';
  }
}

/** The End Session button: withdraws one's own invitation while it waits, ends a live session. */
export function endButton(status: StatusView): { label: string; enabled: boolean } {
  if (status.kind === 'inviting') return { label: 'Cancel invitation', enabled: true };
  return { label: 'End Session', enabled: status.kind === 'connected' };
}

/** "0:42" for the time left to answer an invitation; `null` once it is up. */
export function countdown(remainingMs: number): string | null {
  if (remainingMs <= 0) return null;
  const seconds = Math.ceil(remainingMs / 1000);
  return `${Math.floor(seconds / 60)}:${String(seconds % 60).padStart(2, '0')}`;
}

/**
 * What an empty transcript says, so that the window never looks broken; nothing while an
 * invitation waits, whose panel says it all.
 */
export function emptyTranscriptText(session: SessionView): string | null {
  const name = displayName(session.other);
  switch (session.status.kind) {
    case 'not_connected':
      return `Your first message invites ${name} to this consultation.`;
    case 'inviting':
      return `${name} has been invited. You can write as soon as they accept.`;
    case 'invited':
      return null;
    case 'connected':
      return `No messages yet. Say hello to ${name}.`;
    case 'ended':
      return 'No messages were exchanged.';
  }
}
