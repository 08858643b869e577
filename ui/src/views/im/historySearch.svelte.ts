// The search of a consultation's contact history as the agent types. It outlives the History
// tab, so that switching tabs keeps it.

import { imContactHistory } from '../../lib/api';
import type { HistoryEntry } from '../../lib/bindings';
import { newestFirst } from '../../lib/interactions';
import { TypedSearch } from '../../lib/typedSearch.svelte';

export class HistorySearch extends TypedSearch<HistoryEntry> {
  constructor() {
    super(async (query) => newestFirst(await imContactHistory(query)));
  }
}
