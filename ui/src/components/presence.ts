import type { Presence } from '../lib/bindings';

/** How each presence reads, in the product's words. */
export const PRESENCE_LABELS: Readonly<Record<Presence, string>> = {
  ready: 'Ready',
  not_ready: 'Not Ready',
  busy: 'Busy',
  away: 'Away',
  offline: 'Offline',
};

/** The presences an agent may choose; Offline is Huddle's to show, never the agent's to pick. */
export const CHOOSABLE_PRESENCES: readonly Presence[] = ['ready', 'not_ready', 'busy', 'away'];
