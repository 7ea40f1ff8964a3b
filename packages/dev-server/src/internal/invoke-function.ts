import type { ReportedOp } from "./call-app.ts";
import type { ScaledClock } from "./clock.ts";
import { parseDurationMs } from "./duration.ts";
import type { StoredEvent } from "./engine.ts";
import type { FunctionRecord } from "./registry.ts";
import type { RunState } from "./run-state.ts";

/** What an invoke needs from the engine. */
export interface InvokeHooks {
  clock: ScaledClock;
  /** A synced function by composite id. */
  target(functionId: string): FunctionRecord | undefined;
  /** Stores an engine-made event (not routed to triggers). */
  event(raw: { name: string; data: Record<string, unknown> }): StoredEvent | undefined;
  /** Starts the invoked run, which resolves the parent's step when it ends. */
  start(fn: FunctionRecord, event: StoredEvent, invokedBy: { runId: string; hashedId: string }): RunState;
  /** Memoizes a step's result in the parent run. */
  resolve(run: RunState, hashedId: string, value: unknown): void;
}

/**
 * `step.invoke()`: starts the target function with an `inngest/function.invoked` event carrying the
 * payload and the correlation Inngest sends, and fails the step with Inngest's message when the
 * function is not synced, or at the invoke's `timeout`.
 */
export function invokeFunction(run: RunState, op: ReportedOp, hooks: InvokeHooks): void {
  const opts = op.opts ?? {};
  const functionId = typeof opts.function_id === "string" ? opts.function_id : "";
  const target = hooks.target(functionId);
  if (target === undefined) {
    hooks.resolve(run, op.id, {
      // Inngest's wording, which the SDK's own test of a missing function checks.
      error: { name: "Error", message: `could not find function ${functionId}` },
    });
    return;
  }
  const payload = (opts.payload ?? {}) as { data?: Record<string, unknown> };
  const event = hooks.event({
    name: "inngest/function.invoked",
    data: {
      ...payload.data,
      _inngest: {
        source_app_id: run.fn.appName,
        source_fn_id: run.fn.id,
        source_fn_run_id: run.id,
        fn_id: functionId,
        correlation_id: `${run.id}.${op.id}`,
      },
    },
  });
  if (event === undefined) {
    return;
  }
  const child = hooks.start(target, event, { runId: run.id, hashedId: op.id });
  let timer: { cancel(): void } | undefined;
  if (typeof opts.timeout === "string") {
    timer = hooks.clock.schedule(parseDurationMs(opts.timeout), () =>
      hooks.resolve(run, op.id, {
        error: { name: "InngestInvokeTimeoutError", message: "Timed out waiting for invoked function to complete" },
      }),
    );
  }
  run.blockers.set(op.id, () => timer?.cancel());
  void child.finished.then(() => timer?.cancel());
}
