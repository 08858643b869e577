// The toast's chime for a new invitation: two soft bell-like tones rising a fourth, about
// 300 ms long, made with the Web Audio API (no audio file to ship or to allow in the CSP).

type AudioContextConstructor = new () => AudioContext;

/** One tone of the chime: when it starts after the first, its pitch and how long it rings. */
type Note = { at: number; frequency: number; length: number };

const NOTES: readonly Note[] = [
  { at: 0, frequency: 783.99, length: 0.17 }, // G5
  { at: 0.1, frequency: 1046.5, length: 0.22 }, // C6
];

/** The overtones that make a tone sound like a small bell: a multiple of the pitch, and loudness. */
const PARTIALS: readonly { ratio: number; gain: number }[] = [
  { ratio: 1, gain: 1 },
  { ratio: 2, gain: 0.18 },
  { ratio: 3, gain: 0.06 },
];

/** The loudness of the whole chime: noticeable over a headset, never startling. */
const VOLUME = 0.14;
/** How long each tone takes to reach its full loudness, in seconds: no click. */
const ATTACK = 0.012;
/** Gain ramps cannot reach zero exponentially; this is silence. */
const SILENT = 0.0001;

/** The window's audio context, made once; `null` where there is no Web Audio. */
let context: AudioContext | null | undefined;

function audioContext(): AudioContext | null {
  if (context !== undefined) return context;
  const scope = globalThis as { AudioContext?: AudioContextConstructor; webkitAudioContext?: AudioContextConstructor };
  const Constructor = scope.AudioContext ?? scope.webkitAudioContext;
  context = typeof Constructor === 'function' ? new Constructor() : null;
  return context;
}

/**
 * Plays the chime once. Does nothing where Web Audio is missing or refuses (a test's DOM, a
 * browser that holds audio back), and never throws: a chime is not worth a broken toast.
 */
export function playChime(): void {
  try {
    const audio = audioContext();
    if (audio === null) return;
    // A context made before any user gesture may start suspended.
    if (audio.state === 'suspended') {
      audio.resume().catch((error: unknown) => console.warn('Cannot play the chime:', error));
    }
    const start = audio.currentTime + 0.01;
    const master = audio.createGain();
    master.gain.value = VOLUME;
    master.connect(audio.destination);
    let ringing = 0;
    for (const note of NOTES) {
      const begin = start + note.at;
      const end = begin + note.length;
      for (const partial of PARTIALS) {
        const oscillator = audio.createOscillator();
        const envelope = audio.createGain();
        oscillator.type = 'sine';
        oscillator.frequency.setValueAtTime(note.frequency * partial.ratio, begin);
        envelope.gain.setValueAtTime(SILENT, begin);
        envelope.gain.exponentialRampToValueAtTime(partial.gain, begin + ATTACK);
        // Higher overtones fade sooner, as a bell's do.
        envelope.gain.exponentialRampToValueAtTime(SILENT, begin + note.length / partial.ratio ** 0.5);
        oscillator.connect(envelope);
        envelope.connect(master);
        oscillator.start(begin);
        oscillator.stop(end + 0.02);
        ringing++;
        oscillator.onended = () => {
          oscillator.disconnect();
          envelope.disconnect();
          if (--ringing === 0) master.disconnect();
        };
      }
    }
  } catch (error) {
    console.warn('Cannot play the chime:', error);
  }
}
