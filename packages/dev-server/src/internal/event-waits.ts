import type { ReportedOp } from "./call-app.ts";
import type { ScaledClock } from "./clock.ts";
import { parseDurationMs } from "./duration.ts";
import { compileExpression } from "./expression.ts";
import type { PendingWait, RunState } from "./run-state.ts";

/** What event waits need from the engine. */
export interface EventWaitsHooks {
  clock: ScaledClock;
  /** The run of a wait, while the engine keeps it. */
  run(runId: string): RunState | undefined;
  /** Memoizes a wait's result (the event, or null on timeout) and moves the run on. */
  resolve(run: RunState, hashedId: string, value: unknown): void;
}

/**
 * `step.waitForEvent()`: waits indexed by event name, each with its `if` (over `event`, the run's
 * trigger, and `async`, the incoming event) and timeout. Only events that arrive after a wait was
 * registered resolve it, as in Inngest.
 */
export class EventWaits {
  readonly #hooks: EventWaitsHooks;
  readonly #waits = new Map<string, Set<PendingWait>>();

  constructor(hooks: EventWaitsHooks) {
    this.#hooks = hooks;
  }

  /** Registers a `WaitForEvent` op of a run. */
  register(run: RunState, op: ReportedOp): void {
    const opts = op.opts ?? {};
    const eventName = typeof opts.event === "string" ? opts.event : (op.name ?? "");
    const condition = typeof opts.if === "string" && opts.if !== "" ? compileExpression(opts.if) : undefined;
    const timeoutMs = typeof opts.timeout === "string" ? parseDurationMs(opts.timeout) : undefined;
    const timer =
      timeoutMs === undefined
        ? undefined
        : this.#hooks.clock.schedule(timeoutMs, () => {
            this.#drop(wait);
            this.#hooks.resolve(run, op.id, null);
          });
    const wait: PendingWait = {
      runId: run.id,
      hashedId: op.id,
      event: eventName,
      cancelTimeout: () => timer?.cancel(),
    };
    if (condition !== undefined) {
      wait.condition = condition;
    }
    const set = this.#waits.get(eventName) ?? new Set<PendingWait>();
    set.add(wait);
    this.#waits.set(eventName, set);
    run.blockers.set(op.id, () => {
      wait.cancelTimeout();
      this.#drop(wait);
    });
  }

  /** Resolves every wait this event matches. */
  deliver(event: { name: string }): void {
    for (const wait of [...(this.#waits.get(event.name) ?? [])]) {
      const run = this.#hooks.run(wait.runId);
      if (run === undefined || !run.isActive) {
        this.#drop(wait);
        continue;
      }
      if (wait.condition === undefined || wait.condition({ event: run.event, async: event }) === true) {
        this.#drop(wait);
        wait.cancelTimeout();
        this.#hooks.resolve(run, wait.hashedId, event);
      }
    }
  }

  #drop(wait: PendingWait): void {
    const set = this.#waits.get(wait.event);
    set?.delete(wait);
    if (set?.size === 0) {
      this.#waits.delete(wait.event);
    }
  }
}
