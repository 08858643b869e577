// The arithmetic of a long scrolling list: whether it is scrolled to its end, and which rows
// lie near what is visible, so that only those are rendered.

/** Within this distance of the end, a list counts as scrolled to the end. */
const NEAR_END_PX = 40;

export type ScrollMetrics = { scrollTop: number; clientHeight: number; scrollHeight: number };

/** Whether the list shows its last rows, give or take a few pixels of rounding or padding. */
export function isNearBottom(metrics: ScrollMetrics): boolean {
  return metrics.scrollHeight - metrics.clientHeight - metrics.scrollTop <= NEAR_END_PX;
}

/**
 * The top of each row from the heights of the rows, plus the total height at the end
 * (`offsets[i]` is the top of row `i`, `offsets[n]` the height of them all).
 */
export function rowOffsets(count: number, heightOf: (index: number) => number): Float64Array {
  const offsets = new Float64Array(count + 1);
  for (let i = 0; i < count; i++) offsets[i + 1] = (offsets[i] as number) + heightOf(i);
  return offsets;
}

export type RowRange = { start: number; end: number };

/**
 * The rows, `start` included and `end` not, that meet the band from `top - margin` to
 * `top + height + margin`.
 */
export function visibleRange(offsets: Float64Array, top: number, height: number, margin: number): RowRange {
  const count = offsets.length - 1;
  if (count <= 0) return { start: 0, end: 0 };
  const start = Math.min(lastRowStartingAtOrBefore(offsets, top - margin), count - 1);
  const end = Math.max(lastRowStartingAtOrBefore(offsets, top + height + margin) + 1, start + 1);
  return { start, end: Math.min(end, count) };
}

/** The index of the last row whose top is at or above `y` (0 when `y` is above them all). */
function lastRowStartingAtOrBefore(offsets: Float64Array, y: number): number {
  let low = 0;
  let high = offsets.length - 2;
  while (low < high) {
    const middle = (low + high + 1) >>> 1;
    if ((offsets[middle] as number) <= y) low = middle;
    else high = middle - 1;
  }
  return low;
}
