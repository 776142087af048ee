/**
 * Time, injectable: the workshop's timers read a {@linkcode Clock}, so that tests drive them with a
 * {@linkcode FakeClock} instead of waiting.
 * @module
 */

/** Milliseconds since the epoch, like `Date.now()`. */
export interface Clock {
  now(): number;
}

/** The real clock. */
export const systemClock: Clock = { now: () => Date.now() };

/** A clock that moves only when told to. */
export class FakeClock implements Clock {
  constructor(private t = Date.UTC(2026, 0, 1, 9, 0, 0)) {}
  now(): number {
    return this.t;
  }
  /** Moves the clock forward by `ms` milliseconds. */
  advance(ms: number): void {
    this.t += ms;
  }
  /** Moves the clock forward by `minutes` minutes. */
  advanceMinutes(minutes: number): void {
    this.advance(minutes * 60_000);
  }
}
