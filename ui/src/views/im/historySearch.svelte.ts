// A search of the consultation's contact history as the agent types: debounced, and only the
// latest search's answer is shown. It outlives the History tab, so that switching tabs keeps it.

import { imContactHistory } from '../../lib/api';
import type { HistoryEntry } from '../../lib/bindings';
import { failureMessage } from '../../lib/failure';
import { newestFirst } from '../../lib/interactions';

/** Typing must pause this long before a search goes out: not one request per keystroke. */
export const HISTORY_DEBOUNCE_MS = 250;
/** A search shows as in progress only past this, so fast answers do not flicker. */
const SLOW_MS = 300;

export type HistoryAnswer = { query: string; entries: HistoryEntry[] };

export class HistorySearch {
  /** What the search field holds. */
  query = $state('');
  /** The answer to the latest search; `null` while the field is empty (the recent history shows). */
  answer: HistoryAnswer | null = $state.raw(null);
  /** Why the latest search failed, in words for the agent. */
  failure: string | null = $state(null);
  /** Whether a search has been under way for a while. */
  slow = $state(false);

  /** Numbers the searches: only the latest one's answer counts. */
  #latest = 0;
  #debounce: ReturnType<typeof setTimeout> | undefined;
  #slowTimer: ReturnType<typeof setTimeout> | undefined;

  /** The field changed: search once typing pauses, or go back to the recent history. */
  typed(): void {
    clearTimeout(this.#debounce);
    const wanted = this.query.trim();
    if (wanted === '') {
      this.#forget();
      return;
    }
    this.#debounce = setTimeout(() => void this.#search(wanted), HISTORY_DEBOUNCE_MS);
  }

  /** Searches now, without waiting for the pause (Enter). */
  now(): void {
    clearTimeout(this.#debounce);
    const wanted = this.query.trim();
    if (wanted !== '') void this.#search(wanted);
  }

  clear(): void {
    this.query = '';
    clearTimeout(this.#debounce);
    this.#forget();
  }

  /** Stops for good: nothing under way counts any more. */
  dispose(): void {
    clearTimeout(this.#debounce);
    this.#forget();
  }

  #forget(): void {
    // A search still under way no longer counts.
    this.#latest++;
    clearTimeout(this.#slowTimer);
    this.slow = false;
    this.answer = null;
    this.failure = null;
  }

  async #search(wanted: string): Promise<void> {
    const ticket = ++this.#latest;
    clearTimeout(this.#slowTimer);
    this.#slowTimer = setTimeout(() => (this.slow = true), SLOW_MS);
    try {
      const found = await imContactHistory(wanted);
      if (ticket !== this.#latest) return;
      this.answer = { query: wanted, entries: newestFirst(found) };
      this.failure = null;
    } catch (error) {
      if (ticket !== this.#latest) return;
      this.failure = failureMessage(error);
    } finally {
      if (ticket === this.#latest) {
        clearTimeout(this.#slowTimer);
        this.slow = false;
      }
    }
  }
}
