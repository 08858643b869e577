// An IM transcript's order and its rows: messages the hub has numbered come by their number,
// then the ones it has not (pending or refused) in the order they arrived; day separators
// between messages of different local days.

import type { CachedMessage } from './bindings';

/** Follow-ups within this time of the previous message from the same person join its group. */
const GROUP_GAP_MS = 5 * 60_000;

export type DayRow = { kind: 'day'; key: string; label: string };
export type MessageRow = {
  kind: 'message';
  key: string;
  message: CachedMessage;
  /** Whether it follows the same person's previous message closely, so it shares its header. */
  grouped: boolean;
};
export type TranscriptRow = DayRow | MessageRow;

/**
 * The transcript with `message` added, or put in place of the entry with the same id. A sent
 * message never goes back to an earlier state: an event that overtook the state it follows
 * must not undo it.
 */
export function mergeMessage(list: readonly CachedMessage[], message: CachedMessage): readonly CachedMessage[] {
  const key = messageKey(message);
  const index = list.findIndex((m) => messageKey(m) === key);
  if (index < 0) return insert(list.slice(), message);
  const current = list[index] as CachedMessage;
  if (current.delivery === 'sent' && message.delivery !== 'sent') return list;
  const copy = list.slice();
  if (current.seq === message.seq) {
    copy[index] = message;
    return copy;
  }
  copy.splice(index, 1);
  return insert(copy, message);
}

/** A transcript as the shell gave it, in order, each message once (the sent version first). */
export function orderMessages(list: readonly CachedMessage[]): readonly CachedMessage[] {
  const byKey = new Map<string, CachedMessage>();
  for (const message of list) {
    const key = messageKey(message);
    const known = byKey.get(key);
    if (known?.delivery === 'sent' && message.delivery !== 'sent') continue;
    byKey.delete(key);
    byKey.set(key, message);
  }
  // Array sorts are stable, so messages without a number keep their arrival order.
  return [...byKey.values()].sort((a, b) => {
    if (a.seq !== null && b.seq !== null) return a.seq - b.seq;
    if (a.seq !== null) return -1;
    if (b.seq !== null) return 1;
    return 0;
  });
}

/**
 * A page of earlier messages (in order, as the shell gives them) put before the transcript:
 * those before its first numbered message that it does not have yet.
 */
export function prependEarlier(
  list: readonly CachedMessage[],
  earlier: readonly CachedMessage[],
): readonly CachedMessage[] {
  const first = list.find((m) => m.seq !== null)?.seq ?? null;
  const known = new Set<string>();
  for (const message of list) if (message.seq === null) known.add(messageKey(message));
  const page = earlier
    .filter((m) => m.seq !== null && (first === null || m.seq < first) && !known.has(messageKey(m)))
    .sort((a, b) => (a.seq as number) - (b.seq as number));
  return page.length === 0 ? list : [...page, ...list];
}

/** Inserts in place into `list`, which is in transcript order. */
function insert(list: CachedMessage[], message: CachedMessage): CachedMessage[] {
  if (message.seq === null) {
    list.push(message);
    return list;
  }
  let numbered = list.length;
  while (numbered > 0 && (list[numbered - 1] as CachedMessage).seq === null) numbered--;
  // The first numbered message after `message`, by binary search.
  let low = 0;
  let high = numbered;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if (((list[middle] as CachedMessage).seq as number) <= message.seq) low = middle + 1;
    else high = middle;
  }
  list.splice(low, 0, message);
  return list;
}

/**
 * What is known of each message seen, by message: the rows of a long transcript are made
 * again whenever a page of earlier messages comes in. Its local day is the dearest part to
 * work out, and a row given again as the same object is not rendered again.
 */
type Known = { day: string; row?: MessageRow; dayRow?: DayRow };
const knownOf = new WeakMap<CachedMessage, Known>();

function known(message: CachedMessage): Known {
  let entry = knownOf.get(message);
  if (entry === undefined) {
    entry = { day: dayKey(message.at) };
    knownOf.set(message, entry);
  }
  return entry;
}

/** The rows a transcript shows: its messages, and a day separator before each new local day. */
export function transcriptRows(messages: readonly CachedMessage[], now: number): TranscriptRow[] {
  const rows: TranscriptRow[] = [];
  let previous: CachedMessage | undefined;
  let previousDay = '';
  for (const message of messages) {
    const entry = known(message);
    const day = entry.day;
    const newDay = day !== previousDay;
    if (newDay) {
      const label = dayLabel(message.at, now);
      let dayRow = entry.dayRow;
      if (dayRow === undefined || dayRow.label !== label) {
        // The message's key keeps keys unique when clocks disagree and a day comes back.
        dayRow = { kind: 'day', key: `d:${day}:${messageKey(message)}`, label };
        entry.dayRow = dayRow;
      }
      rows.push(dayRow);
    }
    const grouped =
      !newDay &&
      previous !== undefined &&
      previous.from === message.from &&
      Math.abs(message.at - previous.at) <= GROUP_GAP_MS;
    let row = entry.row;
    if (row === undefined || row.grouped !== grouped) {
      row = { kind: 'message', key: messageRowKey(message), message, grouped };
      entry.row = row;
    }
    rows.push(row);
    previous = message;
    previousDay = day;
  }
  return rows;
}

/**
 * What tells a message from the others. Ids are chosen by each sender's client, so another
 * agent's could be anything: with its sender (and, among the rows, a kind prefix) no id can
 * take the place or the key of another message or row.
 */
export function messageKey(message: Pick<CachedMessage, 'from' | 'id'>): string {
  return `${message.from}:${message.id}`;
}

/** The key of a message's row among the transcript's rows. */
export function messageRowKey(message: Pick<CachedMessage, 'from' | 'id'>): string {
  return `m:${messageKey(message)}`;
}

/** The local calendar day of an instant, as `YYYY-M-D`. */
export function dayKey(at: number): string {
  const date = new Date(at);
  return `${date.getFullYear()}-${date.getMonth() + 1}-${date.getDate()}`;
}

const fullDay = new Intl.DateTimeFormat(undefined, { weekday: 'long', day: 'numeric', month: 'long' });
const fullDayWithYear = new Intl.DateTimeFormat(undefined, {
  weekday: 'long',
  day: 'numeric',
  month: 'long',
  year: 'numeric',
});
const fullDateTime = new Intl.DateTimeFormat(undefined, { dateStyle: 'full', timeStyle: 'medium' });

/** "Today", "Yesterday", or the date (with its year when not this year's), in local time. */
export function dayLabel(at: number, now: number): string {
  const today = new Date(now);
  const day = dayKey(at);
  if (day === dayKey(now)) return 'Today';
  const yesterday = new Date(today.getFullYear(), today.getMonth(), today.getDate() - 1);
  if (day === dayKey(yesterday.getTime())) return 'Yesterday';
  const sameYear = new Date(at).getFullYear() === today.getFullYear();
  return (sameYear ? fullDay : fullDayWithYear).format(at);
}

/** The local time of day as HH:MM, 24-hour. */
export function clockTime(at: number): string {
  const date = new Date(at);
  return `${pad(date.getHours())}:${pad(date.getMinutes())}`;
}

/** The full local date and time, for a tooltip. */
export function fullTime(at: number): string {
  return fullDateTime.format(at);
}

/** Milliseconds from `now` until the next local midnight, when "Today" becomes "Yesterday". */
export function untilNextDay(now: number): number {
  const date = new Date(now);
  return new Date(date.getFullYear(), date.getMonth(), date.getDate() + 1).getTime() - now;
}

function pad(value: number): string {
  return String(value).padStart(2, '0');
}
