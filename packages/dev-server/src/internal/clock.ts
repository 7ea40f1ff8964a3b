/** A scheduled callback that can be cancelled. */
export interface TimerHandle {
  /** Cancels the callback if it has not run yet. */
  cancel(): void;
}

/** The longest delay `setTimeout` accepts; longer waits are chained. */
const longestTimeoutMs = 2_147_483_647;

/**
 * Schedules engine timers (sleeps, wait timeouts, retry backoff) on a scaled clock: a delay of
 * `ms` engine milliseconds fires after `ms * timeScale` real milliseconds, so tests can run a
 * `step.sleep("1h")` in a moment. Every live timer is tracked so `close()` leaves none behind.
 */
export class ScaledClock {
  readonly #timeScale: number;
  readonly #timers = new Set<ReturnType<typeof setTimeout>>();
  #closed = false;

  constructor(timeScale: number) {
    this.#timeScale = timeScale;
  }

  /** The factor applied to every delay. */
  get timeScale(): number {
    return this.#timeScale;
  }

  /** Runs `callback` after `delayMs` engine milliseconds (scaled). */
  schedule(delayMs: number, callback: () => void): TimerHandle {
    return this.scheduleReal(this.toRealMs(delayMs), callback);
  }

  /** An engine duration in real milliseconds. */
  toRealMs(delayMs: number): number {
    return Math.max(0, delayMs) * this.#timeScale;
  }

  /** Runs `callback` after `realMs` real milliseconds (already scaled). */
  scheduleReal(realMs: number, callback: () => void): TimerHandle {
    if (this.#closed) {
      // A closed engine starts nothing new: a call that fails while it shuts down is not retried.
      return { cancel: () => {} };
    }
    let remaining = Math.max(0, realMs);
    let current: ReturnType<typeof setTimeout> | undefined;
    let cancelled = false;
    const arm = (): void => {
      const step = Math.min(remaining, longestTimeoutMs);
      remaining -= step;
      current = setTimeout(() => {
        if (current !== undefined) {
          this.#timers.delete(current);
        }
        if (cancelled) {
          return;
        }
        if (remaining > 0) {
          arm();
          return;
        }
        callback();
      }, step);
      this.#timers.add(current);
    };
    arm();
    return {
      cancel: () => {
        cancelled = true;
        if (current !== undefined) {
          clearTimeout(current);
          this.#timers.delete(current);
        }
      },
    };
  }

  /** Cancels every pending timer. */
  close(): void {
    this.#closed = true;
    for (const timer of this.#timers) {
      clearTimeout(timer);
    }
    this.#timers.clear();
  }
}

/**
 * Inngest's retry backoff table (15 s, 30 s, 1 m, ... 2 h), without its random jitter so runs are
 * repeatable. Attempt 1 is the first retry.
 */
export function retryBackoffMs(attempt: number): number {
  const table = [15_000, 30_000, 60_000, 120_000, 300_000, 600_000, 1_200_000, 2_400_000, 3_600_000, 7_200_000];
  return table[Math.min(Math.max(attempt - 1, 0), table.length - 1)] ?? 15_000;
}
