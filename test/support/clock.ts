/** A clock that tests move by hand. */
export class TestClock {
  private current: number;

  constructor(start = Date.parse("2026-01-05T09:00:00.000Z")) {
    this.current = start;
  }

  now = (): Date => new Date(this.current);

  advance(milliseconds: number): void {
    this.current += milliseconds;
  }

  set(time: Date): void {
    this.current = time.getTime();
  }
}

export const SECOND = 1000;
export const MINUTE = 60 * SECOND;
export const DAY = 24 * 60 * MINUTE;
