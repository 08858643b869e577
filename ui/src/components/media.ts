import type { Media } from '../lib/bindings';
import type { IconName } from './Icon.svelte';

/** The icon of each media; its label (MEDIA_LABELS) is always said next to it. */
export const MEDIA_ICONS: Readonly<Record<Media, IconName>> = {
  voice: 'voice',
  email: 'email',
  chat: 'customer-chat',
};
