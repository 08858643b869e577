// The text size of IM views: its bounds, and the keys that change it.

export const ZOOM_MIN = 70;
export const ZOOM_MAX = 200;
export const ZOOM_STEP = 10;
export const ZOOM_DEFAULT = 100;

/** A size in percent, whole and within the supported range. */
export function clampZoom(percent: number): number {
  if (!Number.isFinite(percent)) return ZOOM_DEFAULT;
  return Math.min(ZOOM_MAX, Math.max(ZOOM_MIN, Math.round(percent)));
}

export type ZoomKey = Pick<KeyboardEvent, 'key' | 'ctrlKey' | 'metaKey' | 'altKey'>;

/**
 * The size a key press asks for, or `null` when it is not a zoom key: Ctrl+= (also Ctrl++ and
 * Ctrl+Shift+=, which type "+") enlarges, Ctrl+- shrinks, Ctrl+0 resets. Cmd works as Ctrl, as
 * macOS users expect.
 */
export function zoomForKey(event: ZoomKey, current: number): number | null {
  if (!(event.ctrlKey || event.metaKey) || event.altKey) return null;
  switch (event.key) {
    case '=':
    case '+':
      return clampZoom(current + ZOOM_STEP);
    case '-':
      return clampZoom(current - ZOOM_STEP);
    case '0':
      return ZOOM_DEFAULT;
    default:
      return null;
  }
}
