import { getCurrentWindow } from '@tauri-apps/api/window';

/**
 * The kinds of window Huddle opens: the main window, one window per IM session, and the toast
 * that shows invitations near the tray.
 */
export type WindowKind = 'main' | 'im' | 'toast';

/** The kinds whose windows exist several times, labelled `<kind>-<id>`. */
const NUMBERED: readonly WindowKind[] = ['im'];

/**
 * The kind of the current window, from its label: `main`, `toast`, or `<kind>-<id>` for
 * windows that exist several times (`im-<session id>`). Outside Tauri (a plain browser) this
 * is `main`.
 */
export function currentWindowKind(): WindowKind {
  let label = 'main';
  try {
    label = getCurrentWindow().label;
  } catch {
    // Not running inside Tauri.
  }
  return windowKindOf(label);
}

/** The kind of window a label names; anything unknown is taken for the main window. */
export function windowKindOf(label: string): WindowKind {
  if (label === 'toast') return 'toast';
  const kind = label.split('-', 1)[0];
  return NUMBERED.find((k) => k === kind) ?? 'main';
}
