import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { Countdown } from './countdown';

beforeEach(() => {
  vi.useFakeTimers();
});

afterEach(() => {
  vi.useRealTimers();
});

describe('Countdown', () => {
  it('runs out once, after its time, and only once started', () => {
    const onEnd = vi.fn();
    const countdown = new Countdown(10_000, onEnd);
    vi.advanceTimersByTime(20_000);
    expect(onEnd).not.toHaveBeenCalled();
    expect(countdown.remaining).toBe(10_000);

    countdown.resume();
    vi.advanceTimersByTime(9_999);
    expect(onEnd).not.toHaveBeenCalled();
    expect(countdown.remaining).toBe(1);
    vi.advanceTimersByTime(1);
    expect(onEnd).toHaveBeenCalledTimes(1);
    expect(countdown.over).toBe(true);

    countdown.resume();
    vi.advanceTimersByTime(20_000);
    expect(onEnd).toHaveBeenCalledTimes(1);
  });

  it('does not count the time it is paused', () => {
    const onEnd = vi.fn();
    const countdown = new Countdown(10_000, onEnd);
    countdown.resume();
    vi.advanceTimersByTime(4_000);
    countdown.pause();
    expect(countdown.running).toBe(false);
    vi.advanceTimersByTime(60_000);
    expect(onEnd).not.toHaveBeenCalled();
    expect(countdown.remaining).toBe(6_000);

    countdown.resume();
    vi.advanceTimersByTime(5_999);
    expect(onEnd).not.toHaveBeenCalled();
    vi.advanceTimersByTime(1);
    expect(onEnd).toHaveBeenCalledTimes(1);
  });

  it('keeps the time counted when its whole time changes', () => {
    const onEnd = vi.fn();
    const countdown = new Countdown(10_000, onEnd);
    countdown.resume();
    vi.advanceTimersByTime(4_000);
    countdown.setTotal(30_000);
    expect(countdown.remaining).toBe(26_000);
    expect(countdown.running).toBe(true);
    vi.advanceTimersByTime(25_999);
    expect(onEnd).not.toHaveBeenCalled();

    countdown.setTotal(5_000);
    expect(onEnd).toHaveBeenCalledTimes(1);
  });

  it('never runs out once stopped', () => {
    const onEnd = vi.fn();
    const countdown = new Countdown(1_000, onEnd);
    countdown.resume();
    countdown.stop();
    vi.advanceTimersByTime(5_000);
    countdown.resume();
    vi.advanceTimersByTime(5_000);
    expect(onEnd).not.toHaveBeenCalled();
  });
});
