// A countdown that can be paused, as a notification's time on screen is while the pointer rests
// on it. Only the time it runs counts.

export class Countdown {
  #total: number;
  /** The time counted in the runs before the current one, in milliseconds. */
  #spent = 0;
  /** When the current run began; `null` while paused. */
  #since: number | null = null;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #over = false;
  readonly #onEnd: () => void;

  /** A paused countdown of `totalMs`; `onEnd` is called once, when it runs out. */
  constructor(totalMs: number, onEnd: () => void) {
    this.#total = Math.max(0, totalMs);
    this.#onEnd = onEnd;
  }

  /** The whole time, in milliseconds. */
  get total(): number {
    return this.#total;
  }

  /** The time left, in milliseconds. */
  get remaining(): number {
    const running = this.#since === null ? 0 : Date.now() - this.#since;
    return Math.max(0, this.#total - this.#spent - running);
  }

  get running(): boolean {
    return this.#since !== null;
  }

  /** Whether it has run out or been stopped. */
  get over(): boolean {
    return this.#over;
  }

  /** Starts or goes on counting; runs out at once when no time is left. */
  resume(): void {
    if (this.#over || this.#since !== null) return;
    const left = this.remaining;
    if (left <= 0) {
      this.#end();
      return;
    }
    this.#since = Date.now();
    this.#timer = setTimeout(() => this.#end(), left);
  }

  /** Stops counting for now, keeping the time left. */
  pause(): void {
    if (this.#since === null) return;
    clearTimeout(this.#timer);
    this.#spent += Date.now() - this.#since;
    this.#since = null;
  }

  /** Changes the whole time, keeping the time already counted (which may then be up). */
  setTotal(totalMs: number): void {
    if (this.#over || totalMs === this.#total) return;
    const running = this.running;
    this.pause();
    this.#total = Math.max(0, totalMs);
    if (running) this.resume();
  }

  /** Stops for good, without running out. */
  stop(): void {
    this.pause();
    this.#over = true;
  }

  #end(): void {
    if (this.#over) return;
    clearTimeout(this.#timer);
    if (this.#since !== null) this.#spent += Date.now() - this.#since;
    this.#since = null;
    this.#over = true;
    this.#onEnd();
  }
}
