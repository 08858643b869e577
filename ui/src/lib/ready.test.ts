import { afterEach, describe, expect, it, vi } from 'vitest';

vi.mock('./api', () => import('../test/api-mock'));

describe('reportReady', () => {
  afterEach(() => {
    vi.restoreAllMocks();
    vi.resetModules();
  });

  it('reports once, after a frame, with the first paint before the view took input', async () => {
    const api = await import('../test/api-mock');
    api.uiReady.mockResolvedValue();
    const { reportReady } = await import('./ready');
    reportReady();
    reportReady();
    expect(api.uiReady).not.toHaveBeenCalled();
    await vi.waitFor(() => expect(api.uiReady).toHaveBeenCalledTimes(1));
    const [marks] = api.uiReady.mock.calls[0] ?? [];
    expect(marks).toBeDefined();
    const now = Date.now();
    expect(marks?.interactive).toBeGreaterThan(now - 60_000);
    expect(marks?.interactive).toBeLessThanOrEqual(now + 1);
    expect(marks?.first_paint).toBeLessThanOrEqual(marks?.interactive ?? 0);
    expect(marks?.navigation_start).toBe(performance.timeOrigin);
    expect(marks?.script).toBeNull();
  });

  it('takes the first contentful paint the webview recorded', async () => {
    const { readyMarks } = await import('./ready');
    vi.spyOn(performance, 'getEntriesByType').mockReturnValue([
      { name: 'first-paint', startTime: 40 } as PerformanceEntry,
      { name: 'first-contentful-paint', startTime: 55 } as PerformanceEntry,
    ]);
    const marks = readyMarks();
    expect(marks.first_paint).toBeCloseTo(performance.timeOrigin + 55, 3);
    expect(marks.interactive).toBeGreaterThanOrEqual(marks.first_paint);
  });
});
