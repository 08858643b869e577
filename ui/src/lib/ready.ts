// Tells the shell, once per window, when the page first painted and when its view first showed
// its content and took input: the start-up marks in the app's log, which the footprint
// benchmark reads.
import { uiReady } from './api';
import type { ReadyMarks } from './bindings';

/** Marked when the page's script begins to run. */
export const SCRIPT_MARK = 'huddle-script';
/** Marked when the window's view has loaded, before it asks the shell for its data. */
export const VIEW_MARK = 'huddle-view';

let reported = false;

/** Reports this window's marks once: call it when the view shows its content. The report
 * waits for the frame that paints it. */
export function reportReady(): void {
  if (reported) return;
  reported = true;
  requestAnimationFrame(() => {
    // Timers run after the frame the callback above belongs to has been painted.
    setTimeout(() => {
      uiReady(readyMarks()).catch((error: unknown) => console.error('Cannot report the start-up marks:', error));
    }, 0);
  });
}

/** The marks now, as UNIX times in milliseconds: the page's start, its first contentful paint
 * when the webview records one (else the first paint, else now), and now as the time the view
 * took input. */
export function readyMarks(): ReadyMarks {
  const interactive = performance.timeOrigin + performance.now();
  const paints = performance.getEntriesByType('paint');
  const first =
    paints.find((e) => e.name === 'first-contentful-paint') ?? paints.find((e) => e.name === 'first-paint');
  const firstPaint = first === undefined ? interactive : performance.timeOrigin + first.startTime;
  const mark = (name: string): number | null => {
    const entry = performance.getEntriesByName(name, 'mark')[0];
    return entry === undefined ? null : performance.timeOrigin + entry.startTime;
  };
  return {
    navigation_start: performance.timeOrigin,
    script: mark(SCRIPT_MARK),
    view: mark(VIEW_MARK),
    first_paint: Math.min(firstPaint, interactive),
    interactive,
  };
}
