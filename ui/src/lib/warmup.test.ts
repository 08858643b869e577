import { afterEach, describe, expect, it, vi } from 'vitest';

vi.mock('./api', () => import('../test/api-mock'));

describe('warmUpImWindows', () => {
  afterEach(() => {
    vi.useRealTimers();
    vi.restoreAllMocks();
    vi.resetModules();
  });

  it('lays out the IM parts once, after the window has settled, and leaves nothing behind', async () => {
    vi.useFakeTimers();
    const api = await import('../test/api-mock');
    api.zoom.mockResolvedValue(130);
    const before = document.body.innerHTML;
    const { warmUpImWindows } = await import('./warmup');
    warmUpImWindows();
    warmUpImWindows();
    expect(api.zoom).not.toHaveBeenCalled();
    await vi.advanceTimersByTimeAsync(1000);
    vi.useRealTimers();
    await vi.waitFor(() => expect(api.zoom).toHaveBeenCalledTimes(1));
    await vi.waitFor(() => expect(document.body.innerHTML).toBe(before));
  });
});
