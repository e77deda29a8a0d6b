/** The core never reads the system time itself: callers pass a clock so tests can play timelines. */
export interface Clock {
  now(): number;
}

export const systemClock: Clock = { now: () => Date.now() };

/** A clock that moves only when told to: for tests and for `recurd replay`. */
export class ManualClock implements Clock {
  constructor(private current = 0) {}
  now(): number {
    return this.current;
  }
  set(at: number): void {
    this.current = at;
  }
  advance(ms: number): void {
    this.current += ms;
  }
}
