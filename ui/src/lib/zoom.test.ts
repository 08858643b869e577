import { describe, expect, it } from 'vitest';
import { clampZoom, zoomForKey, type ZoomKey } from './zoom';

const ctrl = (key: string, more: Partial<ZoomKey> = {}): ZoomKey => ({
  key,
  ctrlKey: true,
  metaKey: false,
  altKey: false,
  ...more,
});

describe('zoomForKey', () => {
  it('enlarges with Ctrl+=, Ctrl++ and Ctrl+Shift+= (which types +)', () => {
    expect(zoomForKey(ctrl('='), 100)).toBe(110);
    expect(zoomForKey(ctrl('+'), 100)).toBe(110);
  });

  it('shrinks with Ctrl+- and resets with Ctrl+0', () => {
    expect(zoomForKey(ctrl('-'), 100)).toBe(90);
    expect(zoomForKey(ctrl('0'), 150)).toBe(100);
  });

  it('stays within 70 and 200', () => {
    expect(zoomForKey(ctrl('='), 200)).toBe(200);
    expect(zoomForKey(ctrl('='), 195)).toBe(200);
    expect(zoomForKey(ctrl('-'), 70)).toBe(70);
    expect(zoomForKey(ctrl('-'), 75)).toBe(70);
  });

  it('takes Cmd for Ctrl', () => {
    expect(zoomForKey(ctrl('=', { ctrlKey: false, metaKey: true }), 100)).toBe(110);
  });

  it('ignores other keys and combinations', () => {
    expect(zoomForKey(ctrl('=', { ctrlKey: false }), 100)).toBeNull();
    expect(zoomForKey(ctrl('=', { altKey: true }), 100)).toBeNull();
    expect(zoomForKey(ctrl('a'), 100)).toBeNull();
    expect(zoomForKey(ctrl('9'), 100)).toBeNull();
  });
});

describe('clampZoom', () => {
  it('keeps sizes whole and within range', () => {
    expect(clampZoom(123.4)).toBe(123);
    expect(clampZoom(10)).toBe(70);
    expect(clampZoom(900)).toBe(200);
    expect(clampZoom(Number.NaN)).toBe(100);
  });
});
