// The agent's customer interactions, as the main window knows them: read from the shell (again
// whenever the connection comes back) and followed as they are delivered, change and end.

import { interactions, onInteraction } from '../../lib/api';
import type { InteractionSummary } from '../../lib/bindings';
import { upsertInteraction } from '../../lib/interactions';
import { LiveList } from '../../lib/liveList.svelte';

/** The interactions that have not ended, in the order the hub gave them, new ones last. */
export class InteractionsState extends LiveList<InteractionSummary> {
  constructor() {
    super({
      read: interactions,
      listen: onInteraction,
      what: 'the customer interactions',
      settle: (found) => found.filter((i) => i.state !== 'ended'),
      upsert: upsertInteraction,
    });
  }

  /** The interaction with this id, if it has not ended. */
  find(id: string | null): InteractionSummary | null {
    if (id === null) return null;
    return this.list.find((i) => i.id === id) ?? null;
  }
}
