import type { ScaledClock, TimerHandle } from "./clock.ts";
import { ConcurrencyLimiter, type ConcurrencySlot } from "./concurrency-limiter.ts";
import type { EngineCounters } from "./engine-counters.ts";
import { keyOf, priorityOf } from "./flow-control-config.ts";
import type { RunState } from "./run-state.ts";

/** What admission needs from the engine. */
export interface RunAdmissionHooks {
  clock: ScaledClock;
  counters: EngineCounters;
  /** Lets the run make its calls now (the driver's pump). */
  wake(run: RunState): void;
  /** Cancels a run whose timeout passed. */
  timeOut(run: RunState): void;
}

/**
 * Flow control of a run that exists: the throttle delays its start (GCRA: starts spaced evenly
 * over the period, `burst` at once), concurrency holds its calls while its groups are full, and
 * `timeouts.start` / `timeouts.finish` cancel it, as Inngest does.
 */
export class RunAdmission {
  readonly #hooks: RunAdmissionHooks;
  readonly #limiter = new ConcurrencyLimiter();
  /** The throttle's theoretical arrival time per key, in real ms. */
  readonly #throttleArrivals = new Map<string, number>();
  readonly #timers = new Map<string, TimerHandle[]>();

  constructor(hooks: RunAdmissionHooks) {
    this.#hooks = hooks;
  }

  /** Sets up a new run: its concurrency groups, priority, throttle delay and start timeout. */
  created(run: RunState): void {
    const { flow, id: functionId } = run.fn;
    const { clock, counters } = this.#hooks;
    run.slots = flow.concurrency.map(
      (rule): ConcurrencySlot => ({
        id: `${rule.scope === "fn" ? `fn:${functionId}` : rule.scope}\u0000${keyOf(rule.key, run.event)}`,
        limit: rule.limit,
      }),
    );
    run.flow.priority = priorityOf(flow.priority, run.event);
    run.score = run.startedAt - run.flow.priority * 1000;
    if (flow.throttle !== undefined) {
      const rule = flow.throttle;
      const id = `${functionId}\u0000${keyOf(rule.key, run.event)}`;
      const interval = clock.toRealMs(rule.periodMs / rule.limit);
      const now = Date.now();
      const arrival = Math.max(this.#throttleArrivals.get(id) ?? now, now);
      const startAt = Math.max(now, arrival - (rule.burst - 1) * interval);
      this.#throttleArrivals.set(id, Math.max(arrival, startAt) + interval);
      if (startAt > now) {
        run.released = false;
        run.flow.waitingFor = "throttle";
        run.flow.throttledMs = startAt - now;
        counters.runsThrottled++;
        this.#keep(
          run,
          clock.scheduleReal(startAt - now, () => {
            run.released = true;
            run.flow.waitingFor = undefined;
            this.#hooks.wake(run);
          }),
        );
      }
    }
    if (flow.startTimeoutMs !== undefined) {
      this.#keep(
        run,
        clock.schedule(flow.startTimeoutMs, () => {
          if (run.flow.firstCallAt === undefined) {
            this.#timeOut(run);
          }
        }),
      );
    }
  }

  /** Whether the run may make a call now; when not, it is woken once it may. */
  admit(run: RunState): boolean {
    if (run.finishDeadlinePassed) {
      this.#timeOut(run);
      return false;
    }
    if (!run.released) {
      return false;
    }
    const acquired = this.#limiter.acquire(run, () => {
      run.flow.waitingFor = undefined;
      this.#hooks.wake(run);
    });
    if (!acquired && run.flow.waitingFor !== "concurrency") {
      run.flow.waitingFor = "concurrency";
      run.flow.queued++;
      this.#hooks.counters.runsQueued++;
    }
    return acquired;
  }

  /** The run's first call starts its finish timeout. */
  firstCall(run: RunState): void {
    const finishMs = run.fn.flow.finishTimeoutMs;
    if (finishMs === undefined) {
      return;
    }
    this.#keep(
      run,
      this.#hooks.clock.schedule(finishMs, () => {
        // A call in flight may still finish the run, as Inngest lets a final request complete.
        run.finishDeadlinePassed = true;
        if (!run.hasCallInFlight) {
          this.#timeOut(run);
        }
      }),
    );
  }

  /** The run only waits now, or ended: its slots go to the next runs. */
  idle(run: RunState): void {
    this.#limiter.release(run);
    if (run.finishDeadlinePassed) {
      this.#timeOut(run);
    }
  }

  /** The run ended: its slots and timers go. */
  ended(run: RunState): void {
    this.#limiter.release(run);
    for (const timer of this.#timers.get(run.id) ?? []) {
      timer.cancel();
    }
    this.#timers.delete(run.id);
  }

  #timeOut(run: RunState): void {
    if (run.isActive) {
      this.#hooks.counters.runsTimedOut++;
      this.#hooks.timeOut(run);
    }
  }

  #keep(run: RunState, timer: TimerHandle): void {
    const list = this.#timers.get(run.id) ?? [];
    list.push(timer);
    this.#timers.set(run.id, list);
  }
}
