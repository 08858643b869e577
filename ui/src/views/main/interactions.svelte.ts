// The agent's customer interactions, as the main window knows them: read from the shell (again
// whenever the connection comes back) and followed as they are delivered, change and end.

import { subscribe } from '../../components/subscribe';
import { interactions, onInteraction } from '../../lib/api';
import type { InteractionSummary } from '../../lib/bindings';
import { failureMessage } from '../../lib/failure';
import { upsertInteraction } from '../../lib/interactions';

export class InteractionsState {
  /** The interactions that have not ended, in the order the hub gave them, new ones last. */
  list: readonly InteractionSummary[] = $state.raw([]);
  /** Whether a load has answered, so that an empty list means "none". */
  loaded = $state(false);
  /** Why the last load failed, in words for the agent. */
  failure: string | null = $state(null);

  /** Numbers the loads: only the latest one's answer is taken. */
  #latest = 0;
  /** Events heard while a load is under way, replayed over its (older) answer. */
  #heard: InteractionSummary[] | null = null;

  /** Follows the interactions' events; returns what stops following (for `onMount`). */
  start(): () => void {
    return subscribe(
      onInteraction,
      (interaction) => {
        this.#heard?.push(interaction);
        this.list = upsertInteraction(this.list, interaction);
      },
      'the customer interactions',
    );
  }

  /** Reads the interactions from the shell. */
  async load(): Promise<void> {
    const ticket = ++this.#latest;
    this.#heard = [];
    try {
      const found = await interactions();
      if (ticket !== this.#latest) return;
      let next = found.filter((i) => i.state !== 'ended');
      for (const interaction of this.#heard) next = upsertInteraction(next, interaction);
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

  /** The interaction with this id, if it has not ended. */
  find(id: string | null): InteractionSummary | null {
    if (id === null) return null;
    return this.list.find((i) => i.id === id) ?? null;
  }
}
