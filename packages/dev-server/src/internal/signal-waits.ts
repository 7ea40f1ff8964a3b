import type { ReportedOp } from "./call-app.ts";
import type { ScaledClock } from "./clock.ts";
import { parseDurationMs } from "./duration.ts";
import type { RunState } from "./run-state.ts";

interface SignalWait {
  run: RunState;
  hashedId: string;
}

/** What signal waits need from the engine. */
export interface SignalWaitsHooks {
  clock: ScaledClock;
  /** Memoizes a wait's result (`{ signal, data }`, or null on timeout) and moves the run on. */
  resolve(run: RunState, hashedId: string, value: unknown): void;
  /** Fails a run (a wait for a signal another run waits for, with `onConflict: "fail"`). */
  fail(run: RunState, error: { name: string; message: string }): void;
}

/**
 * `step.waitForSignal()` and `POST /v1/signals` (what `step.sendSignal()` and
 * `inngest.sendSignal()` call), as Inngest has them: a signal name is waited for by one run at a
 * time; a second wait replaces the first (which then only times out) with `onConflict: "replace"`,
 * or fails its own run with `"fail"`. A signal sent with no run waiting is answered 404.
 */
export class SignalWaits {
  readonly #hooks: SignalWaitsHooks;
  readonly #waits = new Map<string, SignalWait>();

  constructor(hooks: SignalWaitsHooks) {
    this.#hooks = hooks;
  }

  /** Registers a `WaitForSignal` op of a run. */
  register(run: RunState, op: ReportedOp): void {
    const opts = op.opts ?? {};
    const signal = typeof opts.signal === "string" ? opts.signal : (op.name ?? "");
    const current = this.#waits.get(signal);
    if (opts.conflict === "fail" && current?.run.isActive === true && current.run.blockers.has(current.hashedId)) {
      this.#hooks.fail(run, {
        name: "Error",
        message: `[@mastra/inngest-dev-server] step "${op.userland?.id ?? op.id}" waits for signal "${signal}", which run ${current.run.id} already waits for (onConflict: "fail")`,
      });
      return;
    }
    const wait: SignalWait = { run, hashedId: op.id };
    this.#waits.set(signal, wait);
    const timeoutMs = typeof opts.timeout === "string" ? parseDurationMs(opts.timeout) : undefined;
    const timer =
      timeoutMs === undefined
        ? undefined
        : this.#hooks.clock.schedule(timeoutMs, () => {
            this.#drop(signal, wait);
            this.#hooks.resolve(run, op.id, null);
          });
    run.blockers.set(op.id, () => {
      timer?.cancel();
      this.#drop(signal, wait);
    });
  }

  /** Delivers a signal to the run waiting for it; returns that run's id, or undefined when none waits. */
  send(signal: string, data: unknown): string | undefined {
    const wait = this.#waits.get(signal);
    if (wait === undefined || !wait.run.isActive) {
      return undefined;
    }
    this.#waits.delete(signal);
    const cancel = wait.run.blockers.get(wait.hashedId);
    cancel?.();
    this.#hooks.resolve(wait.run, wait.hashedId, { signal, data: data ?? null });
    return wait.run.id;
  }

  #drop(signal: string, wait: SignalWait): void {
    if (this.#waits.get(signal) === wait) {
      this.#waits.delete(signal);
    }
  }
}
