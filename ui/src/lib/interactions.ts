// How customer interactions read on screen: their media and state in words, how long they have
// lasted, and the list the main window keeps of them.

import type { ContactInfo, HistoryEntry, InteractionState, InteractionSummary, Media } from './bindings';

/** Each media in words. */
export const MEDIA_LABELS: Readonly<Record<Media, string>> = {
  voice: 'Voice call',
  email: 'Email',
  chat: 'Chat',
};

/** Each state in the product's words. */
export const STATE_LABELS: Readonly<Record<InteractionState, string>> = {
  ringing: 'Ringing',
  active: 'Active',
  held: 'On hold',
  ended: 'Ended',
};

/**
 * How long an interaction has lasted: "04:07" (minutes and seconds) within its first hour,
 * "1 h 05 min" within a day, "2 d 3 h" after that. Never negative (clocks may disagree).
 */
export function elapsed(startedAt: number, now: number): string {
  const seconds = Math.max(0, Math.floor((now - startedAt) / 1000));
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${pad(minutes)}:${pad(seconds % 60)}`;
  const hours = Math.floor(minutes / 60);
  if (hours < 24) return `${hours} h ${pad(minutes % 60)} min`;
  return `${Math.floor(hours / 24)} d ${hours % 24} h`;
}

/**
 * The same duration in words, to the minute, for assistive technology and tooltips (a name that
 * changed every second would keep being read out).
 */
export function elapsedWords(startedAt: number, now: number): string {
  const minutes = Math.max(0, Math.floor((now - startedAt) / 60_000));
  if (minutes < 1) return 'less than a minute';
  if (minutes < 60) return plural(minutes, 'minute');
  const hours = Math.floor(minutes / 60);
  if (hours < 24) return `${plural(hours, 'hour')} ${plural(minutes % 60, 'minute')}`;
  return `${plural(Math.floor(hours / 24), 'day')} ${plural(hours % 24, 'hour')}`;
}

/**
 * The list with `next` put in place of the interaction with its id (or added at the end), or
 * taken out once it has ended.
 */
export function upsertInteraction(
  list: readonly InteractionSummary[],
  next: InteractionSummary,
): InteractionSummary[] {
  if (next.state === 'ended') return list.filter((i) => i.id !== next.id);
  const index = list.findIndex((i) => i.id === next.id);
  if (index < 0) return [...list, next];
  const copy = list.slice();
  copy[index] = next;
  return copy;
}

/** The contact's full name; their id when the systems gave no name. */
export function contactName(contact: ContactInfo): string {
  return `${contact.first_name} ${contact.last_name}`.trim() || contact.id;
}

/** History entries newest first (a search answer may come in any order). */
export function newestFirst(entries: readonly HistoryEntry[]): HistoryEntry[] {
  return [...entries].sort((a, b) => b.at - a.at);
}

const historyDate = new Intl.DateTimeFormat(undefined, { day: 'numeric', month: 'short', year: 'numeric' });
const historyDateTime = new Intl.DateTimeFormat(undefined, { dateStyle: 'full', timeStyle: 'short' });

/** A history entry's date, short ("12 Mar 2026"). */
export function historyDay(at: number): string {
  return historyDate.format(at);
}

/** A history entry's date and time in full, for a tooltip. */
export function historyMoment(at: number): string {
  return historyDateTime.format(at);
}

function pad(value: number): string {
  return String(value).padStart(2, '0');
}

function plural(count: number, unit: string): string {
  return `${count} ${unit}${count === 1 ? '' : 's'}`;
}
