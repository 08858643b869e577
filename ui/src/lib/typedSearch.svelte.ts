// A search as the agent types: debounced, and only the latest search's answer is shown. The
// contact history of a consultation, the agent's conversations and one transcript are searched
// this way.

import { failureMessage } from './failure';

/** Typing must pause this long before a search goes out: not one request per keystroke. */
export const SEARCH_DEBOUNCE_MS = 250;
/** A search shows as in progress only past this, so fast answers do not flicker. */
const SLOW_MS = 300;

export type SearchAnswer<T> = { query: string; entries: T[] };

export class TypedSearch<T> {
  /** What the search field holds. */
  query = $state('');
  /** The answer to the latest search; `null` while the field is empty. */
  answer: SearchAnswer<T> | null = $state.raw(null);
  /** Why the latest search failed, in words for the agent. */
  failure: string | null = $state(null);
  /** Whether a search has been under way for a while. */
  slow = $state(false);

  /** Numbers the searches: only the latest one's answer counts. */
  #latest = 0;
  readonly #run: (query: string) => Promise<T[]>;
  #debounce: ReturnType<typeof setTimeout> | undefined;
  #slowTimer: ReturnType<typeof setTimeout> | undefined;

  /** Searches with `run`, which answers a query with what it found, in the order to show. */
  constructor(run: (query: string) => Promise<T[]>) {
    this.#run = run;
  }

  /** The field changed: search once typing pauses, or forget the answer when it is emptied. */
  typed(): void {
    clearTimeout(this.#debounce);
    const wanted = this.query.trim();
    if (wanted === '') {
      this.#forget();
      return;
    }
    this.#debounce = setTimeout(() => void this.#search(wanted), SEARCH_DEBOUNCE_MS);
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
      const found = await this.#run(wanted);
      if (ticket !== this.#latest) return;
      this.answer = { query: wanted, entries: found };
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
