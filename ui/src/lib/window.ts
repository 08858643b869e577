import { getCurrentWindow } from '@tauri-apps/api/window';

/** The kinds of window Huddle opens: the main window, and one window per IM session. */
export type WindowKind = 'main' | 'im';

const KINDS: readonly WindowKind[] = ['main', 'im'];

/**
 * The kind of the current window, from its label: `main`, or `<kind>-<id>` for windows
 * that exist several times (`im-<session id>`). Outside Tauri (a plain browser) this is `main`.
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
