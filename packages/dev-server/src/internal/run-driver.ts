import {
  buildCall,
  type CallOutcome,
  type CallSettings,
  type CallTarget,
  type ReportedOp,
  readOutcome,
  stepName,
} from "./call-app.ts";
import { retryBackoffMs, type ScaledClock } from "./clock.ts";
import { resolveWakeTime } from "./duration.ts";
import type { EngineCounters } from "./engine-counters.ts";
import { serializeError } from "./error-shape.ts";
import type { FaultInjector } from "./faults.ts";
import type { RunState, StepExecution, StepReport } from "./run-state.ts";

/** What the driver needs from the engine around it. */
export interface RunDriverHooks {
  clock: ScaledClock;
  faults: FaultInjector;
  counters: EngineCounters;
  /** A fixed wait before every retry, in real ms, in place of the backoff table; `Retry-After` still wins. */
  retryIntervalMs: number | undefined;
  settings(run: RunState): CallSettings;
  /** Registers a `WaitForEvent` op; the engine memoizes the event (or null on timeout) later. */
  waitForEvent(run: RunState, op: ReportedOp): void;
  /** Registers a `WaitForSignal` op; the engine memoizes the signal (or null on timeout) later. */
  waitForSignal(run: RunState, op: ReportedOp): void;
  /** Makes the HTTP request a `Gateway` op (`step.fetch()`) describes; the engine memoizes the response. */
  gateway(run: RunState, op: ReportedOp): void;
  /** Calls the model an `AIGateway` op (`step.ai.infer()`) names; the engine memoizes its answer. */
  aiGateway(run: RunState, op: ReportedOp): void;
  /** Starts the run a `InvokeFunction` op asks for. */
  invoke(run: RunState, op: ReportedOp): void;
  /** Ends a run that completed. */
  complete(run: RunState, output: unknown): void;
  /** Ends a run that failed for good. */
  fail(run: RunState, error: unknown): void;
  /**
   * Whether the run may make a call now (flow control: throttle, concurrency). When it may not,
   * the engine calls {@link RunDriver.pump} again once it may.
   */
  admit(run: RunState): boolean;
  /** The run has no call in flight or due: it only waits, or it ended; its slots go back. */
  idle(run: RunState): void;
  /** The run's first call is about to be made. */
  firstCall(run: RunState): void;
}

/** The ops the engine resolves itself, and the hook that starts each. */
const blockingOpHooks: Readonly<Record<string, BlockingHook>> = {
  WaitForEvent: "waitForEvent",
  WaitForSignal: "waitForSignal",
  Gateway: "gateway",
  AIGateway: "aiGateway",
  InvokeFunction: "invoke",
};
type BlockingHook = "waitForEvent" | "waitForSignal" | "gateway" | "aiGateway" | "invoke";

interface Dispatch {
  attempt: number;
  crashed: boolean;
}

/**
 * Drives runs the way Inngest's executor does: one discovery call at a time, planned steps called
 * in parallel by id, memoized state sent back on every call, retries with backoff per step and
 * per discovery, and checkpoints accepted while a discovery call runs steps eagerly.
 */
export class RunDriver {
  readonly #hooks: RunDriverHooks;
  readonly #dispatches = new Map<string, Dispatch>();
  #nextDispatch = 0;
  #closed = false;

  constructor(hooks: RunDriverHooks) {
    this.#hooks = hooks;
  }

  /** Asks for a discovery call as soon as no planned step is outstanding. */
  requestDiscovery(run: RunState): void {
    run.discoveryRequested = true;
    this.pump(run);
  }

  /** Memoizes the result of a step the engine resolved itself (sleep, wait, invoke) and moves on. */
  resolve(run: RunState, hashedId: string, value: unknown): void {
    if (!run.isActive) {
      return;
    }
    run.blockers.delete(hashedId);
    if (run.memoize(hashedId, value)) {
      this.requestDiscovery(run);
    }
  }

  /** Stops starting calls: results of calls still in flight are ignored. */
  close(): void {
    this.#closed = true;
  }

  /** Starts every call the run may make now. */
  pump(run: RunState): void {
    if (!run.isActive || this.#closed) {
      return;
    }
    if (!run.wantsCall) {
      if (!run.hasCallInFlight) {
        this.#hooks.idle(run);
      }
      return;
    }
    if (!this.#hooks.admit(run)) {
      return;
    }
    if (run.flow.firstCallAt === undefined) {
      run.flow.firstCallAt = Date.now();
      this.#hooks.firstCall(run);
    }
    for (const [hashedId, state] of run.planned) {
      if (!state.inFlight) {
        state.inFlight = true;
        void this.#dispatch(run, { kind: "step", hashedId });
      }
    }
    if (run.planned.size === 0 && run.discoveryRequested && !run.discoveryInFlight) {
      run.discoveryRequested = false;
      // Parallelism has ended: as Inngest's executor does for v2 executions, the SDK may run steps
      // eagerly (and checkpoint) again, rather than planning every later step in a round trip.
      if (run.disableImmediateExecution && (run.requestVersion ?? 0) >= 2) {
        run.disableImmediateExecution = false;
      }
      run.discoveryInFlight = true;
      void this.#dispatch(run, { kind: "discovery" });
    }
  }

  /** Handles `POST /v1/checkpoint/:runId/async`: memoizes the steps a discovery call ran eagerly. */
  acceptCheckpoint(run: RunState, body: Record<string, unknown>): number {
    run.counters.checkpointPosts++;
    this.#hooks.counters.checkpointPosts++;
    const dispatchId = typeof body.qi_id === "string" ? body.qi_id : "";
    const dispatch = this.#dispatches.get(dispatchId);
    // 409 tells the SDK its dispatch is stale, and it stops: that is how a cancelled run halts.
    if (!run.isActive || dispatch === undefined || dispatchId !== run.currentDispatchId) {
      return 409;
    }
    for (const step of Array.isArray(body.steps) ? (body.steps as ReportedOp[]) : []) {
      if (step.op !== "StepRun") {
        continue;
      }
      const name = stepName(step);
      if (!dispatch.crashed && this.#hooks.faults.takeCrash(run.fn.id, run.id, name)) {
        dispatch.crashed = true;
      }
      const kept = !dispatch.crashed && run.memoize(step.id, { data: step.data ?? null });
      if (kept) {
        run.attempts.delete("");
      }
      this.#record(run, step, dispatch.attempt, "ok", "checkpoint", !kept);
    }
    // A crash stands for a process that died right after the step: 409 halts the SDK there, as
    // death would. A 200 would let it run later steps eagerly, with effects no real crash has.
    return dispatch.crashed ? 409 : 200;
  }

  async #dispatch(run: RunState, target: CallTarget): Promise<void> {
    const attemptKey = target.kind === "discovery" ? "" : target.hashedId;
    const attempt = run.attempts.get(attemptKey) ?? 0;
    const dispatchId = `${run.id}-${++this.#nextDispatch}`;
    const dispatch: Dispatch = { attempt, crashed: false };
    this.#dispatches.set(dispatchId, dispatch);
    if (target.kind === "discovery") {
      run.currentDispatchId = dispatchId;
    }
    let outcome: CallOutcome;
    try {
      const delayMs = this.#hooks.faults.takeDelay(run.fn.id, run.id);
      if (delayMs > 0) {
        await new Promise((resolve) => setTimeout(resolve, delayMs));
      }
      const request = buildCall(run, target, attempt, dispatchId, this.#hooks.settings(run));
      const copies = this.#hooks.faults.takeDuplicate(run.fn.id, run.id) ? 2 : 1;
      const sends = Array.from({ length: copies }, () => this.#send(run, request));
      const [first, ...duplicates] = await Promise.all(sends);
      outcome = first as CallOutcome;
      for (const duplicate of duplicates) {
        // A redelivered call's outcome is applied too; the memo absorbs what it repeats.
        this.#measure(() => this.#apply(run, target, attempt, dispatch, duplicate));
      }
    } catch (error) {
      outcome = { kind: "error", error: serializeError(error), retriable: true };
    } finally {
      this.#dispatches.delete(dispatchId);
      if (target.kind === "discovery") {
        run.discoveryInFlight = false;
        run.currentDispatchId = undefined;
      } else {
        const planned = run.planned.get(target.hashedId);
        if (planned !== undefined) {
          planned.inFlight = false;
        }
      }
    }
    this.#measure(() => this.#apply(run, target, attempt, dispatch, outcome));
    this.pump(run);
  }

  async #send(run: RunState, request: ReturnType<typeof buildCall>): Promise<CallOutcome> {
    run.counters.serveCalls++;
    this.#hooks.counters.serveCalls++;
    try {
      const response = await fetch(request.url, { method: "POST", headers: request.headers, body: request.body });
      return await readOutcome(response);
    } catch (error) {
      return { kind: "error", error: serializeError(error), retriable: true };
    }
  }

  #measure(work: () => void): void {
    const before = process.cpuUsage();
    work();
    const used = process.cpuUsage(before);
    this.#hooks.counters.engineCpuMicros += used.user + used.system;
  }

  #apply(run: RunState, target: CallTarget, attempt: number, dispatch: Dispatch, outcome: CallOutcome): void {
    if (!run.isActive || this.#closed) {
      return;
    }
    if (outcome.kind === "ops" && !dispatch.crashed) {
      const crashed = outcome.ops.find(
        (op) => op.op === "StepRun" && this.#hooks.faults.takeCrash(run.fn.id, run.id, stepName(op)),
      );
      if (crashed !== undefined) {
        dispatch.crashed = true;
        this.#record(run, crashed, attempt, "ok", "response", true);
      }
    }
    if (dispatch.crashed) {
      // The app's process "died" after the step ran: the call is retried like any lost call.
      this.#retryCall(run, target, attempt + 1, undefined);
      return;
    }
    switch (outcome.kind) {
      case "completed":
        this.#hooks.complete(run, outcome.output);
        return;
      case "error":
        if (!outcome.retriable || attempt + 1 >= run.fn.maxAttempts) {
          this.#hooks.fail(run, outcome.error);
        } else {
          this.#retryCall(run, target, attempt + 1, outcome.retryAfterMs);
        }
        return;
      case "ops":
        this.#applyOps(run, target, attempt, outcome);
    }
  }

  #applyOps(run: RunState, target: CallTarget, attempt: number, outcome: Extract<CallOutcome, { kind: "ops" }>): void {
    if (outcome.requestVersion !== undefined) {
      run.requestVersion = outcome.requestVersion;
    }
    if (outcome.ops.length > 1) {
      run.disableImmediateExecution = true;
    }
    let progressed = false;
    for (const op of outcome.ops) {
      if (!run.isActive) {
        return;
      }
      const stepAttempt =
        target.kind === "step" && target.hashedId === op.id ? attempt : (run.attempts.get(op.id) ?? attempt);
      switch (op.op) {
        case "StepRun": {
          const kept = run.memoize(op.id, { data: op.data ?? null });
          this.#record(run, op, stepAttempt, "ok", "response", !kept);
          run.attempts.delete(op.id);
          progressed ||= kept;
          break;
        }
        case "StepPlanned":
          if (!run.has(op.id) && !run.planned.has(op.id)) {
            run.planned.set(op.id, { inFlight: false });
          }
          break;
        case "StepError":
          this.#record(run, op, stepAttempt, "error", "response", false);
          if (stepAttempt + 1 >= run.fn.maxAttempts) {
            progressed ||= run.memoize(op.id, { error: op.error ?? null });
          } else {
            this.#retryStep(run, op.id, stepAttempt + 1, outcome.retryAfterMs);
          }
          break;
        case "StepFailed":
          this.#record(run, op, stepAttempt, "failed", "response", false);
          progressed ||= run.memoize(op.id, { error: op.error ?? null });
          break;
        case "Sleep":
          this.#sleep(run, op);
          break;
        case "RunComplete":
          this.#hooks.complete(run, op.data ?? null);
          return;
        case "DiscoveryRequest":
          progressed = true;
          break;
        default: {
          const hook = blockingOpHooks[op.op];
          if (hook !== undefined) {
            // Resolved by the engine later; a replay that reports the op again starts nothing twice.
            if (!run.has(op.id) && !run.blockers.has(op.id)) {
              this.#hooks[hook](run, op);
            }
            break;
          }
          this.#hooks.fail(run, {
            name: "UnsupportedStepError",
            message: `[@mastra/inngest-dev-server] step "${stepName(op)}" uses the ${op.op} op, which this engine does not support`,
          });
          return;
        }
      }
    }
    if (progressed) {
      // Attempts count per step: once the run moved on, its next discovery starts again at 0.
      run.attempts.delete("");
    }
    if (progressed && run.planned.size === 0) {
      run.discoveryRequested = true;
    }
  }

  #sleep(run: RunState, op: ReportedOp): void {
    if (run.has(op.id) || run.blockers.has(op.id)) {
      return;
    }
    const duration = typeof op.opts?.duration === "string" ? op.opts.duration : (op.name ?? "0s");
    const now = Date.now();
    const timer = this.#hooks.clock.schedule(resolveWakeTime(duration, now) - now, () =>
      this.resolve(run, op.id, null),
    );
    run.blockers.set(op.id, () => timer.cancel());
  }

  #retryStep(run: RunState, hashedId: string, attempt: number, retryAfterMs: number | undefined): void {
    run.attempts.set(hashedId, attempt);
    // Held as in flight during the backoff so pump() does not call it early.
    run.planned.set(hashedId, { inFlight: true });
    this.#afterBackoff(attempt, retryAfterMs, () => {
      const planned = run.planned.get(hashedId);
      if (planned !== undefined) {
        planned.inFlight = false;
      }
      this.pump(run);
    });
  }

  #retryCall(run: RunState, target: CallTarget, attempt: number, retryAfterMs: number | undefined): void {
    if (target.kind === "step") {
      this.#retryStep(run, target.hashedId, attempt, retryAfterMs);
      return;
    }
    run.attempts.set("", attempt);
    run.discoveryInFlight = true;
    this.#afterBackoff(attempt, retryAfterMs, () => {
      run.discoveryInFlight = false;
      this.requestDiscovery(run);
    });
  }

  #afterBackoff(attempt: number, retryAfterMs: number | undefined, retry: () => void): void {
    const { clock, retryIntervalMs } = this.#hooks;
    if (retryAfterMs === undefined && retryIntervalMs !== undefined) {
      clock.scheduleReal(retryIntervalMs, retry);
    } else {
      clock.schedule(retryAfterMs ?? retryBackoffMs(attempt), retry);
    }
  }

  #record(
    run: RunState,
    op: ReportedOp,
    attempt: number,
    outcome: StepExecution["outcome"],
    reportedBy: StepReport,
    discarded: boolean,
  ): void {
    run.counters.stepsExecuted++;
    this.#hooks.counters.stepsExecuted++;
    run.executions.push({
      name: stepName(op),
      hashedId: op.id,
      attempt,
      outcome,
      reportedBy,
      discarded,
      at: Date.now(),
    });
  }
}
