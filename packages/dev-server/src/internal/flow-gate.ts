import type { ScaledClock, TimerHandle } from "./clock.ts";
import type { EngineCounters } from "./engine-counters.ts";
import { keyOf } from "./flow-control-config.ts";
import type { FunctionRecord } from "./registry.ts";
import type { RunState } from "./run-state.ts";

/** An event as flow control reads it. */
type FlowEvent = Record<string, unknown>;

/** What the gate needs from the engine. */
export interface FlowGateHooks {
  clock: ScaledClock;
  counters: EngineCounters;
  /** Starts a run of `fn` for these events (the first is the run's `event`). */
  start(fn: FunctionRecord, events: FlowEvent[]): RunState;
  /** Cancels a run (a singleton in cancel mode). */
  cancel(run: RunState): void;
}

interface PendingDebounce {
  event: FlowEvent;
  /** Events a later one replaced. */
  replaced: number;
  firstAt: number;
  timer: TimerHandle;
}

interface PendingBatch {
  fn: FunctionRecord;
  events: FlowEvent[];
  timer: TimerHandle;
}

/**
 * What happens between an event that triggers a function and the run it starts, in Inngest's
 * order: the rate limit (and idempotency) skips events over the limit, debounce holds an event
 * until its key is quiet and keeps the last one, batching gathers events into one run, and a
 * singleton skips the new run or cancels the active one. Times are real (scaled) milliseconds.
 */
export class FlowGate {
  readonly #hooks: FlowGateHooks;
  readonly #rateLimitStarts = new Map<string, number[]>();
  readonly #debounces = new Map<string, PendingDebounce>();
  readonly #batches = new Map<string, PendingBatch>();
  readonly #singletons = new Map<string, RunState>();

  constructor(hooks: FlowGateHooks) {
    this.#hooks = hooks;
  }

  /** Routes one triggering event of `fn` through its flow control. */
  trigger(fn: FunctionRecord, event: FlowEvent): void {
    if (!this.#withinRateLimit(fn, event)) {
      this.#hooks.counters.runsSkipped++;
      return;
    }
    const { debounce, batch } = fn.flow;
    if (debounce !== undefined) {
      this.#debounce(fn, `${fn.id}\u0000${keyOf(debounce.key, event)}`, event);
      return;
    }
    if (batch !== undefined && (batch.condition === undefined || batch.condition({ event }) === true)) {
      this.#batch(fn, `${fn.id}\u0000${keyOf(batch.key, event)}`, event);
      return;
    }
    this.#startSingleton(fn, [event]);
  }

  /** Cancels pending debounces and batches: nothing starts after close. */
  close(): void {
    for (const pending of this.#debounces.values()) {
      pending.timer.cancel();
    }
    for (const pending of this.#batches.values()) {
      pending.timer.cancel();
    }
    this.#debounces.clear();
    this.#batches.clear();
  }

  #withinRateLimit(fn: FunctionRecord, event: FlowEvent): boolean {
    const rule = fn.flow.rateLimit;
    if (rule === undefined) {
      return true;
    }
    const id = `${fn.id}\u0000${keyOf(rule.key, event)}`;
    const now = Date.now();
    const windowStart = now - this.#hooks.clock.toRealMs(rule.periodMs);
    const starts = (this.#rateLimitStarts.get(id) ?? []).filter((at) => at > windowStart);
    if (starts.length >= rule.limit) {
      this.#rateLimitStarts.set(id, starts);
      return false;
    }
    starts.push(now);
    this.#rateLimitStarts.set(id, starts);
    return true;
  }

  #debounce(fn: FunctionRecord, id: string, event: FlowEvent): void {
    const rule = fn.flow.debounce;
    if (rule === undefined) {
      return;
    }
    const { clock, counters } = this.#hooks;
    const now = Date.now();
    const pending = this.#debounces.get(id);
    if (pending !== undefined) {
      // The later event replaces the held one, and the period starts again (up to the timeout).
      pending.timer.cancel();
      pending.event = event;
      pending.replaced++;
      counters.eventsDebounced++;
    }
    const firstAt = pending?.firstAt ?? now;
    let delay = clock.toRealMs(rule.periodMs);
    if (rule.timeoutMs !== undefined) {
      delay = Math.min(delay, firstAt + clock.toRealMs(rule.timeoutMs) - now);
    }
    const entry: PendingDebounce = pending ?? { event, replaced: 0, firstAt, timer: { cancel: () => {} } };
    entry.timer = clock.scheduleReal(delay, () => {
      this.#debounces.delete(id);
      const run = this.#startSingleton(fn, [entry.event]);
      if (run !== undefined) {
        run.flow.debounced = entry.replaced;
      }
    });
    this.#debounces.set(id, entry);
  }

  #batch(fn: FunctionRecord, id: string, event: FlowEvent): void {
    const rule = fn.flow.batch;
    if (rule === undefined) {
      return;
    }
    let pending = this.#batches.get(id);
    if (pending === undefined) {
      const created: PendingBatch = {
        fn,
        events: [],
        timer: this.#hooks.clock.schedule(rule.timeoutMs, () => this.#flush(id, created)),
      };
      pending = created;
      this.#batches.set(id, pending);
    }
    pending.events.push(event);
    this.#hooks.counters.eventsBatched++;
    if (pending.events.length >= rule.maxSize) {
      this.#flush(id, pending);
    }
  }

  #flush(id: string, pending: PendingBatch): void {
    if (this.#batches.get(id) !== pending) {
      return;
    }
    pending.timer.cancel();
    this.#batches.delete(id);
    this.#startSingleton(pending.fn, pending.events);
  }

  #startSingleton(fn: FunctionRecord, events: FlowEvent[]): RunState | undefined {
    const rule = fn.flow.singleton;
    const first = events[0] ?? {};
    if (rule === undefined) {
      return this.#hooks.start(fn, events);
    }
    const id = `${fn.id}\u0000${keyOf(rule.key, first)}`;
    const active = this.#singletons.get(id);
    if (active?.isActive === true) {
      if (rule.mode === "skip") {
        this.#hooks.counters.runsSkipped++;
        return undefined;
      }
      this.#hooks.cancel(active);
    }
    const run = this.#hooks.start(fn, events);
    this.#singletons.set(id, run);
    return run;
  }
}
