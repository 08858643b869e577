import { describe, expect, it } from 'vitest';
import { isNearBottom, rowOffsets, visibleRange } from './viewport';

describe('isNearBottom', () => {
  it('counts a list scrolled to its end, or nearly, as at the bottom', () => {
    expect(isNearBottom({ scrollTop: 700, clientHeight: 300, scrollHeight: 1000 })).toBe(true);
    expect(isNearBottom({ scrollTop: 670, clientHeight: 300, scrollHeight: 1000 })).toBe(true);
    expect(isNearBottom({ scrollTop: 500, clientHeight: 300, scrollHeight: 1000 })).toBe(false);
  });

  it('takes a list shorter than its viewport as at the bottom', () => {
    expect(isNearBottom({ scrollTop: 0, clientHeight: 300, scrollHeight: 120 })).toBe(true);
  });
});

describe('visible rows', () => {
  const offsets = rowOffsets(100, (i) => (i % 2 === 0 ? 10 : 30));

  it('adds up the heights', () => {
    expect(Array.from(offsets.slice(0, 4))).toEqual([0, 10, 40, 50]);
    expect(offsets[100]).toBe(2000);
  });

  it('covers the viewport and the margin around it', () => {
    // Rows 50.. start at 1000; the band is 900..1300.
    expect(visibleRange(offsets, 1000, 200, 100)).toEqual({ start: 45, end: 66 });
  });

  it('stays within the rows at both ends', () => {
    expect(visibleRange(offsets, 0, 100, 50)).toEqual({ start: 0, end: 8 });
    expect(visibleRange(offsets, 1900, 100, 50)).toEqual({ start: 93, end: 100 });
    expect(visibleRange(offsets, 5000, 100, 0)).toEqual({ start: 99, end: 100 });
    expect(visibleRange(rowOffsets(0, () => 10), 0, 100, 50)).toEqual({ start: 0, end: 0 });
  });

  it('shows at least one row in an unlaid viewport', () => {
    expect(visibleRange(offsets, 0, 0, 0)).toEqual({ start: 0, end: 1 });
  });
});
