import { describe, expect, it } from 'vitest';
import { session } from '../views/im/fixtures';
import type { EndCauseView, StatusView } from './bindings';
import {
  canWrite,
  countdown,
  emptyTranscriptText,
  endButton,
  fieldPlaceholder,
  missedReason,
  statusText,
  statusTone,
} from './sessionStatus';

const ended = (cause: EndCauseView): StatusView => ({ kind: 'ended', cause });

describe('statusText', () => {
  it('says where a session stands', () => {
    expect(statusText(session({ kind: 'not_connected' }))).toBe('Not Connected');
    expect(statusText(session({ kind: 'inviting' }))).toBe('Inviting Bob Stone…');
    expect(statusText(session({ kind: 'invited' }, { i_invited: false }))).toBe('Bob Stone invites you');
    expect(statusText(session({ kind: 'connected' }))).toBe('Connected');
  });

  it('says why a session ended', () => {
    const cases: [EndCauseView, string][] = [
      ['ended_by_me', 'Ended — you ended the session'],
      ['ended_by_other', 'Ended — Bob Stone ended the session'],
      ['rejected', 'Ended — Bob Stone rejected the invitation'],
      ['rejected_by_me', 'Ended — you rejected the invitation'],
      ['timed_out', 'Ended — Bob Stone did not answer in time'],
      ['cancelled', 'Ended — Bob Stone cancelled the invitation'],
      ['cancelled_by_me', 'Ended — you cancelled the invitation'],
      ['lost', 'Ended — the hub no longer has this conversation'],
    ];
    for (const [cause, text] of cases) expect(statusText(session(ended(cause)))).toBe(text);
  });

  it('tells the invited agent that the invitation timed out', () => {
    expect(statusText(session(ended('timed_out'), { i_invited: false }))).toBe('Ended — the invitation timed out');
  });

  it('names an agent without a display name by their login', () => {
    const other = { id: 3, login: 'cdupont', display_name: '  ' };
    expect(statusText(session({ kind: 'inviting' }, { other }))).toBe('Inviting cdupont…');
  });
});

describe('what the window allows', () => {
  it('colours the dot by state', () => {
    expect(statusTone({ kind: 'not_connected' })).toBe('idle');
    expect(statusTone({ kind: 'inviting' })).toBe('waiting');
    expect(statusTone({ kind: 'invited' })).toBe('waiting');
    expect(statusTone({ kind: 'connected' })).toBe('live');
    expect(statusTone(ended('rejected'))).toBe('ended');
  });

  it('takes messages when connected, and the first message of a consultation', () => {
    expect(canWrite({ kind: 'connected' })).toBe(true);
    expect(canWrite({ kind: 'not_connected' })).toBe(true);
    expect(canWrite({ kind: 'inviting' })).toBe(false);
    expect(canWrite({ kind: 'invited' })).toBe(false);
    expect(canWrite(ended('ended_by_other'))).toBe(false);
  });

  it('says in the empty field why nothing can be written', () => {
    expect(fieldPlaceholder(session({ kind: 'inviting' }))).toBe('Waiting for Bob Stone to accept…');
    expect(fieldPlaceholder(session(ended('ended_by_me')))).toBe('This session has ended');
    expect(fieldPlaceholder(session({ kind: 'connected' }))).toBe('Message Bob Stone');
  });

  it('offers to end a live session, or to cancel an invitation', () => {
    expect(endButton({ kind: 'connected' })).toEqual({ label: 'End Session', enabled: true });
    expect(endButton({ kind: 'inviting' })).toEqual({ label: 'Cancel invitation', enabled: true });
    expect(endButton({ kind: 'invited' })).toEqual({ label: 'End Session', enabled: false });
    expect(endButton(ended('ended_by_me'))).toEqual({ label: 'End Session', enabled: false });
  });

  it('says what an empty transcript means, except under an invitation panel', () => {
    const statuses: StatusView[] = [{ kind: 'not_connected' }, { kind: 'inviting' }, { kind: 'connected' }, ended('timed_out')];
    const texts = statuses.map((status) => emptyTranscriptText(session(status)));
    expect(texts.every((text) => text !== null && text.length > 0)).toBe(true);
    expect(new Set(texts).size).toBe(statuses.length);
    expect(emptyTranscriptText(session({ kind: 'invited' }))).toBeNull();
  });

  it('counts down the time left to answer', () => {
    expect(countdown(42_000)).toBe('0:42');
    expect(countdown(61_500)).toBe('1:02');
    expect(countdown(0)).toBeNull();
  });
});

describe('missedReason', () => {
  it('says why an invitation to this agent ended before they answered', () => {
    const missed = { i_invited: false, missed: true };
    expect(missedReason(session(ended('cancelled'), missed))).toBe('Bob Stone withdrew the invitation');
    expect(missedReason(session(ended('timed_out'), missed))).toBe('The invitation timed out');
  });

  it('is null for every other session', () => {
    expect(missedReason(session(ended('timed_out'), { i_invited: true }))).toBeNull();
    expect(missedReason(session(ended('cancelled_by_me'), { i_invited: true }))).toBeNull();
    for (const cause of ['ended_by_me', 'ended_by_other', 'rejected_by_me'] as const) {
      expect(missedReason(session(ended(cause), { i_invited: false }))).toBeNull();
    }
    expect(missedReason(session({ kind: 'invited' }, { i_invited: false }))).toBeNull();
  });

  it('asks for the first message of a drafted consultation, which invites', () => {
    expect(fieldPlaceholder(session({ kind: 'not_connected' }))).toBe(
      'Type the first message to Bob Stone — Send invites them',
    );
  });

  it('gives a missed invitation its own placeholder', () => {
    expect(fieldPlaceholder(session(ended('cancelled'), { i_invited: false, missed: true }))).toBe(
      'This invitation is no longer open',
    );
  });
});
