import { describe, expect, it } from 'vitest';
import type { CachedMessage } from './bindings';
import {
  clockTime,
  dayKey,
  dayLabel,
  mergeMessage,
  orderMessages,
  prependEarlier,
  transcriptRows,
  untilNextDay,
  type TranscriptRow,
} from './transcript';

function msg(id: string, seq: number | null, more: Partial<CachedMessage> = {}): CachedMessage {
  return {
    session_id: 's',
    id,
    seq,
    from: 1,
    text: id,
    at: new Date(2025, 2, 4, 10, 0).getTime(),
    delivery: seq === null ? 'pending' : 'sent',
    failure: null,
    ...more,
  };
}

const ids = (list: readonly CachedMessage[]): string[] => list.map((m) => m.id);

describe('mergeMessage', () => {
  it('inserts by seq, before the messages the hub has not numbered', () => {
    let list: readonly CachedMessage[] = [msg('a', 1), msg('c', 3), msg('p', null)];
    list = mergeMessage(list, msg('b', 2));
    list = mergeMessage(list, msg('d', 4));
    list = mergeMessage(list, msg('z', 0));
    expect(ids(list)).toEqual(['z', 'a', 'b', 'c', 'd', 'p']);
  });

  it('keeps pending messages last, in the order they arrived', () => {
    let list: readonly CachedMessage[] = [msg('a', 1)];
    list = mergeMessage(list, msg('p1', null));
    list = mergeMessage(list, msg('p2', null));
    list = mergeMessage(list, msg('b', 2));
    expect(ids(list)).toEqual(['a', 'b', 'p1', 'p2']);
  });

  it('replaces by id, in place when its position does not change', () => {
    const list = [msg('a', 1), msg('p1', null), msg('p2', null)];
    const failed = msg('p1', null, { delivery: 'failed', failure: 'Too long' });
    const merged = mergeMessage(list, failed);
    expect(ids(merged)).toEqual(['a', 'p1', 'p2']);
    expect(merged[1]).toBe(failed);
    expect(list[1]?.delivery).toBe('pending');
  });

  it('moves a message that becomes sent to its place by seq', () => {
    const list = [msg('a', 1), msg('p1', null), msg('p2', null)];
    const merged = mergeMessage(list, msg('p2', 2));
    expect(ids(merged)).toEqual(['a', 'p2', 'p1']);
    expect(merged[1]?.delivery).toBe('sent');
    expect(merged).toHaveLength(3);
  });

  it('never takes a sent message back to pending', () => {
    const list = [msg('a', 1)];
    expect(mergeMessage(list, msg('a', null))).toBe(list);
  });
});

describe('orderMessages', () => {
  it('orders by seq, then the rest as they came, and keeps each id once', () => {
    const list = [msg('p1', null), msg('c', 3), msg('a', 1), msg('p2', null), msg('b', 2), msg('p1', 4)];
    expect(ids(orderMessages(list))).toEqual(['a', 'b', 'c', 'p1', 'p2']);
  });

  it('keeps the sent version of a message given twice', () => {
    const ordered = orderMessages([msg('a', 1), msg('a', null)]);
    expect(ordered).toHaveLength(1);
    expect(ordered[0]?.delivery).toBe('sent');
  });
});

describe('prependEarlier', () => {
  it('puts the messages before the first numbered one in front, in order, each once', () => {
    const list = [msg('c', 3), msg('d', 4), msg('p', null)];
    const page = [msg('b', 2), msg('a', 1), msg('c', 3), msg('e', 5), msg('p', null)];
    expect(ids(prependEarlier(list, page))).toEqual(['a', 'b', 'c', 'd', 'p']);
  });

  it('gives the same transcript back when the page brings nothing new', () => {
    const list = [msg('c', 3)];
    expect(prependEarlier(list, [msg('c', 3), msg('d', 4)])).toBe(list);
  });

  it('takes the whole page when nothing is numbered yet', () => {
    const list = [msg('p', null)];
    expect(ids(prependEarlier(list, [msg('a', 1), msg('b', 2)]))).toEqual(['a', 'b', 'p']);
  });
});

describe('transcriptRows', () => {
  const now = new Date(2025, 2, 4, 18, 0).getTime();
  const at = (day: number, hour: number, minute = 0): number => new Date(2025, 2, day, hour, minute).getTime();
  const kinds = (rows: TranscriptRow[]): string[] =>
    rows.map((row) => (row.kind === 'day' ? `day:${row.label}` : `${row.message.id}${row.grouped ? '+' : ''}`));

  it('puts a day separator before each new local day', () => {
    const rows = transcriptRows(
      [msg('a', 1, { at: at(1, 9) }), msg('b', 2, { at: at(3, 23, 59) }), msg('c', 3, { at: at(4, 0, 1) })],
      now,
    );
    expect(kinds(rows)[0]).toMatch(/^day:(?!Today|Yesterday)/);
    expect(kinds(rows).slice(1)).toEqual(['a', 'day:Yesterday', 'b', 'day:Today', 'c']);
  });

  it('groups close follow-ups from the same person, and only those', () => {
    const rows = transcriptRows(
      [
        msg('a', 1, { at: at(4, 10, 0) }),
        msg('b', 2, { at: at(4, 10, 4) }),
        msg('c', 3, { at: at(4, 10, 20) }),
        msg('d', 4, { at: at(4, 10, 21), from: 2 }),
        msg('e', 5, { at: at(4, 10, 22) }),
      ],
      now,
    );
    expect(kinds(rows)).toEqual(['day:Today', 'a', 'b+', 'c', 'd', 'e']);
  });

  it('gives each row a distinct key even when a day comes back', () => {
    const rows = transcriptRows(
      [msg('a', 1, { at: at(4, 0, 1) }), msg('b', 2, { at: at(3, 23, 59) }), msg('p', null, { at: at(4, 0, 2) })],
      now,
    );
    const keys = rows.map((row) => row.key);
    expect(new Set(keys).size).toBe(keys.length);
    expect(rows.filter((row) => row.kind === 'day')).toHaveLength(3);
  });

  it('keeps keys apart whatever ids other agents choose', () => {
    // Ids chosen to look like what the rows' keys are made of, and one taken by two senders.
    const day = dayKey(at(4, 10));
    const hostile = [
      msg('a', 1, { at: at(4, 10, 0) }),
      msg(`d:${day}:1:a`, 2, { at: at(4, 10, 1), from: 2 }),
      msg('m:1:a', 3, { at: at(4, 10, 2), from: 2 }),
      msg('a', 4, { at: at(4, 10, 3), from: 2 }),
      msg(`day-${day}-a`, 5, { at: at(4, 10, 4), from: 2 }),
    ];
    const rows = transcriptRows(hostile, now);
    const keys = rows.map((row) => row.key);
    expect(new Set(keys).size).toBe(keys.length);
    expect(rows.filter((row) => row.kind === 'message')).toHaveLength(5);
    // The same id from another sender is another message, not an update of the first.
    let list: readonly CachedMessage[] = [msg('a', 1)];
    list = mergeMessage(list, msg('a', 2, { from: 2, text: 'theirs' }));
    expect(list.map((m) => `${m.from}:${m.text}`)).toEqual(['1:a', '2:theirs']);
    expect(orderMessages([msg('a', 1), msg('a', 2, { from: 2 })])).toHaveLength(2);
  });

  it('gives the same row objects again for messages whose rows did not change', () => {
    const b = msg('b', 2, { at: at(4, 10, 2) });
    const c = msg('c', 3, { at: at(4, 10, 3) });
    const before = transcriptRows([b, c], now);
    // An earlier message from the same person: b joins its group, c stays as it was.
    const after = transcriptRows([msg('a', 1, { at: at(4, 10, 1) }), b, c], now);
    expect(kinds(after)).toEqual(['day:Today', 'a', 'b+', 'c+']);
    expect(after[3]).toBe(before[2]);
    expect(after[2]).not.toBe(before[1]);
    // The day's label is worked out against the time of the call.
    const tomorrow = transcriptRows([b, c], now + 86_400_000);
    expect(kinds(tomorrow)[0]).toBe('day:Yesterday');
  });
});

describe('dates', () => {
  it('labels days relative to now, with the year only when it is not this one', () => {
    const now = new Date(2025, 0, 1, 8, 0).getTime();
    expect(dayLabel(new Date(2025, 0, 1, 0, 0).getTime(), now)).toBe('Today');
    expect(dayLabel(new Date(2024, 11, 31, 23, 59).getTime(), now)).toBe('Yesterday');
    expect(dayLabel(new Date(2024, 11, 30, 12, 0).getTime(), now)).toMatch(/2024/);
    expect(dayLabel(new Date(2025, 0, 1, 8, 0).getTime(), new Date(2025, 5, 1).getTime())).not.toMatch(/2025/);
  });

  it('shows times as HH:MM on the 24-hour clock', () => {
    expect(clockTime(new Date(2025, 2, 4, 9, 5).getTime())).toBe('09:05');
    expect(clockTime(new Date(2025, 2, 4, 23, 59, 59).getTime())).toBe('23:59');
  });

  it('knows local days and the time until the next one', () => {
    const evening = new Date(2025, 2, 4, 23, 59, 30).getTime();
    expect(untilNextDay(evening)).toBe(30_000);
    expect(dayKey(evening)).not.toBe(dayKey(evening + untilNextDay(evening)));
  });
});
