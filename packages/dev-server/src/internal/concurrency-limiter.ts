/** One concurrency group: the runs in it that execute at once are at most `limit`. */
export interface ConcurrencySlot {
  /** The group's id: its scope, function (for `fn` scope) and key value. */
  id: string;
  limit: number;
}

/** A run as the limiter sees it. */
export interface LimitedRun {
  readonly id: string;
  /** The groups the run needs a slot in, one per concurrency constraint of its function. */
  readonly slots: readonly ConcurrencySlot[];
  /** Its place in the queue: lower goes first (the enqueue time less the priority factor). */
  readonly score: number;
}

interface Waiter {
  run: LimitedRun;
  wake: () => void;
}

/**
 * Inngest's concurrency limits: a run holds a slot in each of its groups while it executes steps
 * (a call is in flight or due), and gives it back when it only waits (a sleep, a wait, an invoke)
 * or ends. A run that finds a group full waits in a queue ordered by score (FIFO, moved by
 * priority) and is woken when a slot frees; runs in other groups are not held up behind it.
 */
export class ConcurrencyLimiter {
  readonly #holders = new Map<string, Set<string>>();
  readonly #holding = new Map<string, LimitedRun>();
  #waiting: Waiter[] = [];

  /** Whether the run holds its slots now. */
  holds(run: LimitedRun): boolean {
    return this.#holding.has(run.id);
  }

  /** Whether the run waits in the queue. */
  isWaiting(run: LimitedRun): boolean {
    return this.#waiting.some((waiter) => waiter.run.id === run.id);
  }

  /**
   * Takes the run's slots and returns true, or queues it (once) and returns false; `wake` is
   * called when it got them later.
   */
  acquire(run: LimitedRun, wake: () => void): boolean {
    if (run.slots.length === 0 || this.holds(run)) {
      return true;
    }
    if (this.isWaiting(run)) {
      return false;
    }
    // Every waiter that fits was woken when a slot freed, so the runs still waiting cannot use the
    // slots this one fits in now: taking them passes nobody who could run.
    if (this.#fits(run)) {
      this.#take(run);
      return true;
    }
    const waiter = { run, wake };
    const index = this.#waiting.findIndex((candidate) => candidate.run.score > run.score);
    if (index === -1) {
      this.#waiting.push(waiter);
    } else {
      this.#waiting.splice(index, 0, waiter);
    }
    return false;
  }

  /** Gives back the run's slots (or leaves the queue) and wakes the runs that fit now, in order. */
  release(run: LimitedRun): void {
    this.#waiting = this.#waiting.filter((waiter) => waiter.run.id !== run.id);
    if (!this.#holding.delete(run.id)) {
      return;
    }
    for (const slot of run.slots) {
      const holders = this.#holders.get(slot.id);
      holders?.delete(run.id);
      if (holders?.size === 0) {
        this.#holders.delete(slot.id);
      }
    }
    const woken: Waiter[] = [];
    for (const waiter of this.#waiting) {
      if (this.#fits(waiter.run)) {
        this.#take(waiter.run);
        woken.push(waiter);
      }
    }
    if (woken.length > 0) {
      this.#waiting = this.#waiting.filter((waiter) => !woken.includes(waiter));
      for (const waiter of woken) {
        waiter.wake();
      }
    }
  }

  /** How many runs wait for a slot. */
  get waitingCount(): number {
    return this.#waiting.length;
  }

  #fits(run: LimitedRun): boolean {
    return run.slots.every((slot) => (this.#holders.get(slot.id)?.size ?? 0) < slot.limit);
  }

  #take(run: LimitedRun): void {
    this.#holding.set(run.id, run);
    for (const slot of run.slots) {
      const holders = this.#holders.get(slot.id) ?? new Set<string>();
      holders.add(run.id);
      this.#holders.set(slot.id, holders);
    }
  }
}
