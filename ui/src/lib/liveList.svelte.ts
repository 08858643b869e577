// A list the main window keeps live: read from the shell (again whenever the connection comes
// back) and followed as its items are delivered, change and finish.

import { subscribe } from '../components/subscribe';
import { failureMessage } from './failure';

/** Where a live list comes from and how its items fall into place. */
export interface LiveSource<T> {
  /** Reads the whole list from the shell. */
  read: () => Promise<T[]>;
  /** Follows the items' events (one of the api's `on…` functions). */
  listen: (cb: (item: T) => void) => Promise<() => void>;
  /** What is followed, in words for the console. */
  what: string;
  /** The list as read, without the finished items, in its order. */
  settle: (found: T[]) => T[];
  /** The list with `item` put in place of the one with its id, or taken out once it has finished. */
  upsert: (list: readonly T[], item: T) => T[];
}

export class LiveList<T> {
  /** The items that have not finished, in the source's order. */
  list: readonly T[] = $state.raw([]);
  /** Whether a load has answered, so that an empty list means "none". */
  loaded = $state(false);
  /** Why the last load failed, in words for the agent. */
  failure: string | null = $state(null);

  readonly #source: LiveSource<T>;
  /** Numbers the loads: only the latest one's answer is taken. */
  #latest = 0;
  /** Events heard while a load is under way, replayed over its (older) answer. */
  #heard: T[] | null = null;

  constructor(source: LiveSource<T>) {
    this.#source = source;
  }

  /** Follows the items' events; returns what stops following (for `onMount`). */
  start(): () => void {
    return subscribe(
      this.#source.listen,
      (item) => {
        this.#heard?.push(item);
        this.list = this.#source.upsert(this.list, item);
      },
      this.#source.what,
    );
  }

  /** Reads the list from the shell. */
  async load(): Promise<void> {
    const ticket = ++this.#latest;
    this.#heard = [];
    try {
      const found = await this.#source.read();
      if (ticket !== this.#latest) return;
      let next = this.#source.settle(found);
      for (const item of this.#heard) next = this.#source.upsert(next, item);
      this.list = next;
      this.failure = null;
      this.loaded = true;
    } catch (error) {
      if (ticket !== this.#latest) return;
      this.failure = failureMessage(error);
    } finally {
      if (ticket === this.#latest) this.#heard = null;
    }
  }
}
