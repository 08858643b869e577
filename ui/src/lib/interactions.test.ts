import { describe, expect, it } from 'vitest';
import type { InteractionSummary } from './bindings';
import { contactName, elapsed, elapsedWords, newestFirst, upsertInteraction } from './interactions';

const START = Date.UTC(2026, 2, 4, 9, 0, 0);

function interaction(id: string, more: Partial<InteractionSummary> = {}): InteractionSummary {
  return {
    id,
    media: 'voice',
    state: 'active',
    contact: { id: 'c-1', name: 'Maria Souza' },
    subject: 'Where is my order?',
    case_data: [],
    started_at: START,
    ended_at: null,
    ...more,
  };
}

describe('elapsed', () => {
  it('counts minutes and seconds within the first hour', () => {
    expect(elapsed(START, START)).toBe('00:00');
    expect(elapsed(START, START + 4 * 60_000 + 7_000)).toBe('04:07');
    expect(elapsed(START, START + 59 * 60_000 + 59_999)).toBe('59:59');
  });

  it('counts hours and minutes, then days and hours', () => {
    expect(elapsed(START, START + 60 * 60_000)).toBe('1 h 00 min');
    expect(elapsed(START, START + 125 * 60_000)).toBe('2 h 05 min');
    expect(elapsed(START, START + 51 * 3_600_000)).toBe('2 d 3 h');
  });

  it('is never negative', () => {
    expect(elapsed(START, START - 5_000)).toBe('00:00');
  });

  it('says the same in words', () => {
    expect(elapsedWords(START, START + 59_000)).toBe('less than a minute');
    expect(elapsedWords(START, START + 60_000)).toBe('1 minute');
    expect(elapsedWords(START, START + 12 * 60_000 + 30_000)).toBe('12 minutes');
    expect(elapsedWords(START, START + 61 * 60_000)).toBe('1 hour 1 minute');
  });
});

describe('upsertInteraction', () => {
  it('adds at the end, replaces in place, and drops the ended ones', () => {
    let list = upsertInteraction([], interaction('a'));
    list = upsertInteraction(list, interaction('b'));
    expect(list.map((i) => i.id)).toEqual(['a', 'b']);

    list = upsertInteraction(list, interaction('a', { state: 'held' }));
    expect(list.map((i) => [i.id, i.state])).toEqual([
      ['a', 'held'],
      ['b', 'active'],
    ]);

    list = upsertInteraction(list, interaction('a', { state: 'ended', ended_at: START + 1 }));
    expect(list.map((i) => i.id)).toEqual(['b']);
    expect(upsertInteraction(list, interaction('z', { state: 'ended' })).map((i) => i.id)).toEqual(['b']);
  });
});

describe('contacts and history', () => {
  it('names a contact, or gives their id', () => {
    expect(contactName({ id: 'c-1', first_name: 'Maria', last_name: 'Souza', phones: [], emails: [] })).toBe(
      'Maria Souza',
    );
    expect(contactName({ id: 'c-9', first_name: ' ', last_name: '', phones: [], emails: [] })).toBe('c-9');
  });

  it('puts the newest history first', () => {
    const entry = (id: string, at: number) => ({ id, at, media: 'voice' as const, subject: '', outcome: '', notes: '' });
    expect(newestFirst([entry('old', 1), entry('new', 3), entry('mid', 2)]).map((e) => e.id)).toEqual([
      'new',
      'mid',
      'old',
    ]);
  });
});
