import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';

/** A stand-in for the Web Audio API that records what the chime asks of it. */
class FakeAudioContext {
  static made: FakeAudioContext[] = [];
  state: AudioContextState = 'suspended';
  currentTime = 5;
  destination = {};
  oscillators: { frequency: number; start: number; stop: number; type: string }[] = [];
  resume = vi.fn(() => {
    this.state = 'running';
    return Promise.resolve();
  });

  constructor() {
    FakeAudioContext.made.push(this);
  }

  createGain() {
    return {
      gain: { value: 1, setValueAtTime: vi.fn(), exponentialRampToValueAtTime: vi.fn() },
      connect: vi.fn(),
      disconnect: vi.fn(),
    };
  }

  createOscillator() {
    const record = { frequency: 0, start: 0, stop: 0, type: '' };
    this.oscillators.push(record);
    return {
      set type(value: string) {
        record.type = value;
      },
      frequency: { setValueAtTime: (value: number) => (record.frequency = value) },
      connect: vi.fn(),
      disconnect: vi.fn(),
      start: (at: number) => (record.start = at),
      stop: (at: number) => (record.stop = at),
      onended: null,
    };
  }
}

async function freshChime(): Promise<typeof import('./chime')> {
  vi.resetModules();
  return import('./chime');
}

beforeEach(() => {
  FakeAudioContext.made = [];
});

afterEach(() => {
  vi.unstubAllGlobals();
});

describe('playChime', () => {
  it('plays two rising tones of about 300 ms, on one audio context', async () => {
    vi.stubGlobal('AudioContext', FakeAudioContext);
    const { playChime } = await freshChime();

    playChime();
    expect(FakeAudioContext.made).toHaveLength(1);
    const audio = FakeAudioContext.made[0] as FakeAudioContext;
    expect(audio.resume).toHaveBeenCalledTimes(1);

    const tones = audio.oscillators.filter((o) => o.frequency < 1100);
    expect(tones.map((o) => Math.round(o.frequency))).toEqual([784, 1047]);
    expect(audio.oscillators.every((o) => o.type === 'sine')).toBe(true);
    const first = Math.min(...audio.oscillators.map((o) => o.start));
    const last = Math.max(...audio.oscillators.map((o) => o.stop));
    expect(first).toBeGreaterThanOrEqual(audio.currentTime);
    expect(last - first).toBeGreaterThan(0.25);
    expect(last - first).toBeLessThan(0.4);

    playChime();
    expect(FakeAudioContext.made).toHaveLength(1);
  });

  it('does nothing, without throwing, where there is no Web Audio', async () => {
    const { playChime } = await freshChime();
    expect('AudioContext' in globalThis).toBe(false);
    expect(() => playChime()).not.toThrow();
  });

  it('never throws when the audio refuses', async () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    vi.stubGlobal(
      'AudioContext',
      class {
        constructor() {
          throw new Error('audio is not allowed');
        }
      },
    );
    const { playChime } = await freshChime();
    expect(() => playChime()).not.toThrow();
    expect(warn).toHaveBeenCalled();
  });
});
