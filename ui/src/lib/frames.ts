// Timing work against the webview's frames.

/** Resolves just after the next frame has been painted: work started then has a whole frame
 * before the following one, and what it shows is painted in that one. */
export function afterNextPaint(): Promise<void> {
  // Timers run after the frame the animation callback belongs to has been painted.
  return new Promise((resolve) => requestAnimationFrame(() => setTimeout(resolve, 0)));
}
