import { getCurrentWindow } from '@tauri-apps/api/window';

/** The kinds of window Huddle opens. More will come (conversation windows, the toast). */
export type WindowKind = 'main';

const KINDS: readonly WindowKind[] = ['main'];

/**
 * The kind of the current window, from its label: `main`, or `<kind>-<id>` for windows
 * that exist several times. Outside Tauri (a plain browser) this is `main`.
 */
export function currentWindowKind(): WindowKind {
  let label = 'main';
  try {
    label = getCurrentWindow().label;
  } catch {
    // Not running inside Tauri.
  }
  const kind = label.split('-', 1)[0];
  return KINDS.find((k) => k === kind) ?? 'main';
}
