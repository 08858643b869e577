// How invitations reach the agent, as the main window knows it: read from the shell, followed
// as it changes, and changed from the main menu.

import { subscribe } from '../../components/subscribe';
import { onPreferences, preferences, setPreferences } from '../../lib/api';
import type { Preferences } from '../../lib/bindings';
import { failureMessage } from '../../lib/failure';

/** How long the toast can stay, in seconds, as the main menu offers it. */
export const TOAST_SECONDS: readonly number[] = [5, 10, 20, 30, 60];

export class PreferencesState {
  /** `null` until the shell has said. */
  value: Preferences | null = $state(null);
  /** Why the last read or change failed, in words for the agent. */
  failure: string | null = $state(null);

  /** Only the answer to the latest change counts: quick clicks must not step back. */
  #latest = 0;
  /** Changes not answered yet: events meanwhile are older than what the agent just chose. */
  #pending = 0;

  /** Reads the preferences and follows them; returns what stops following (for `onMount`). */
  start(): () => void {
    let heard = false;
    const stop = subscribe(
      onPreferences,
      (next) => {
        heard = true;
        if (this.#pending === 0) this.value = next;
      },
      'the preferences',
    );
    preferences().then(
      (current) => {
        // An event that arrived meanwhile is at least as recent.
        if (!heard && this.#pending === 0) this.value = current;
      },
      (error: unknown) => {
        console.error('Cannot read the preferences:', error);
        this.failure = 'Huddle could not read your notification settings.';
      },
    );
    return stop;
  }

  /** Changes some preferences: shown at once, then as the shell applied them. */
  async change(patch: Partial<Preferences>): Promise<void> {
    const before = this.value;
    if (before === null) return;
    const next: Preferences = { ...before, ...patch };
    const ticket = ++this.#latest;
    this.value = next;
    this.failure = null;
    this.#pending++;
    try {
      const applied = await setPreferences(next);
      if (ticket === this.#latest) this.value = applied;
    } catch (error) {
      console.error('Cannot change the preferences:', error);
      if (ticket === this.#latest) {
        this.value = before;
        this.failure = `Huddle could not save this change. ${failureMessage(error)}`;
      }
    } finally {
      this.#pending--;
    }
  }
}
