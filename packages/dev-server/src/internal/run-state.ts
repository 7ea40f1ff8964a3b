import type { ConcurrencySlot, LimitedRun } from "./concurrency-limiter.ts";
import type { FunctionRecord } from "./registry.ts";

/** The status of a run, spelled as Inngest's REST API spells it. */
export type RunStatus = "Running" | "Completed" | "Failed" | "Cancelled";

/** How a step's result reached the engine. */
export type StepReport = "response" | "checkpoint";

/** One execution of a step, as the engine saw it. */
export interface StepExecution {
  /** The step's user id (`userland.id`), for example `llm:0`. */
  name: string;
  /** The hashed step id the SDK uses. */
  hashedId: string;
  /** The attempt the SDK ran it in, from 0. */
  attempt: number;
  /** `ok` when it returned, `error` when it threw and will be retried, `failed` when it threw for good. */
  outcome: "ok" | "error" | "failed";
  /** Whether the result came in a call's response or in a checkpoint post. */
  reportedBy: StepReport;
  /** Whether the engine discarded the result (an injected crash, or a duplicate delivery). */
  discarded: boolean;
  /** When the engine received it, epoch ms. */
  at: number;
}

/** Per-run counters, the same fields as the engine's totals. */
export interface RunCounters {
  /** Calls the engine made to the app for this run. */
  serveCalls: number;
  /** Checkpoint posts the SDK made for this run. */
  checkpointPosts: number;
  /** Step executions reported, by any route, discarded ones included. */
  stepsExecuted: number;
  /** Bytes of JSON memoized as step state for this run. */
  memoizedBytes: number;
}

/** What flow control did to a run. */
export interface RunFlowControl {
  /** What holds it back now: a concurrency slot, a throttle, or nothing. */
  waitingFor: "concurrency" | "throttle" | undefined;
  /** How often it waited for a concurrency slot. */
  queued: number;
  /** Real milliseconds its start was delayed by the throttle. */
  throttledMs: number;
  /** Events of its debounce key that a later one replaced before it started. */
  debounced: number;
  /** Its priority in seconds (-600 to 600). */
  priority: number;
  /** When its first call was made, epoch ms. */
  firstCallAt: number | undefined;
}

/** A waitForEvent registered by a run. */
export interface PendingWait {
  /** The run that waits. */
  runId: string;
  /** The hashed step id. */
  hashedId: string;
  /** The awaited event name. */
  event: string;
  /** The `if` condition over `event` and `async`, compiled. */
  condition?: (variables: Readonly<Record<string, unknown>>) => unknown;
  /** Cancels the timeout timer. */
  cancelTimeout(): void;
}

/**
 * Everything the engine knows about one run: the memoized step state it sends back to the app on
 * every call, the completion order of steps, which planned steps are outstanding, and counters.
 */
export class RunState implements LimitedRun {
  readonly id: string;
  readonly fn: FunctionRecord;
  readonly event: Record<string, unknown>;
  readonly events: Record<string, unknown>[];
  readonly startedAt: number;
  status: RunStatus = "Running";
  output: unknown = null;
  error: unknown;
  endedAt: number | undefined;
  /** Memoized step state: hashed id to the value the SDK expects (`{data}`, `{error}`, an event, null). */
  readonly steps: Record<string, unknown> = {};
  /** Hashed ids in the order they completed. */
  readonly stack: string[] = [];
  /** Planned steps not yet reported, and whether a call for each is in flight. */
  readonly planned: Map<string, { inFlight: boolean }> = new Map();
  /** Attempts per hashed step id; discovery uses the key `""`. */
  readonly attempts: Map<string, number> = new Map();
  /** Sleeps, waits and invokes that block the run, by hashed id, with how to cancel each. */
  readonly blockers: Map<string, () => void> = new Map();
  /** Set while parallel steps are outstanding: the SDK then plans every step instead of running it. */
  disableImmediateExecution: boolean = false;
  /** The execution version the SDK last answered with (`x-inngest-req-version`). */
  requestVersion: number | undefined;
  discoveryRequested: boolean = false;
  discoveryInFlight: boolean = false;
  /** The dispatch id of the call in flight whose checkpoints are accepted. */
  currentDispatchId: string | undefined;
  readonly executions: StepExecution[] = [];
  readonly counters: RunCounters = { serveCalls: 0, checkpointPosts: 0, stepsExecuted: 0, memoizedBytes: 0 };
  /** The concurrency groups the run needs a slot in. */
  slots: ConcurrencySlot[] = [];
  /** Its place in the concurrency queue: enqueue time less the priority, in ms. */
  score: number;
  /** Whether a call may be made: false until the throttle lets it start. */
  released = true;
  /** Whether `timeouts.finish` passed while a call was in flight: the run is cancelled once it is idle. */
  finishDeadlinePassed = false;
  readonly flow: RunFlowControl = {
    waitingFor: undefined,
    queued: 0,
    throttledMs: 0,
    debounced: 0,
    priority: 0,
    firstCallAt: undefined,
  };
  /** Metadata posted for the run (`POST /v1/runs/:id/metadata`), in arrival order: each post's target and entries. */
  readonly metadata: { target: unknown; metadata: unknown }[] = [];
  /** The parent run and step to resolve when this run was started by `step.invoke`. */
  invokedBy: { runId: string; hashedId: string } | undefined;
  readonly finished: Promise<void>;
  readonly #resolveFinished: () => void;

  constructor(
    id: string,
    fn: FunctionRecord,
    event: Record<string, unknown>,
    now: number,
    events: Record<string, unknown>[] = [event],
  ) {
    this.id = id;
    this.fn = fn;
    this.event = event;
    this.events = events;
    this.startedAt = now;
    this.score = now;
    let resolveFinished: () => void = () => {};
    this.finished = new Promise<void>((resolve) => {
      resolveFinished = resolve;
    });
    this.#resolveFinished = resolveFinished;
  }

  /** Whether the run can still change. */
  get isActive(): boolean {
    return this.status === "Running";
  }

  /** Whether a call of the run is in flight (or held back during a retry's backoff). */
  get hasCallInFlight(): boolean {
    if (this.discoveryInFlight) {
      return true;
    }
    for (const state of this.planned.values()) {
      if (state.inFlight) {
        return true;
      }
    }
    return false;
  }

  /** Whether the run has a call to make now. */
  get wantsCall(): boolean {
    for (const state of this.planned.values()) {
      if (!state.inFlight) {
        return true;
      }
    }
    return this.planned.size === 0 && this.discoveryRequested && !this.discoveryInFlight;
  }

  /** Whether a step's state is memoized. */
  has(hashedId: string): boolean {
    return Object.hasOwn(this.steps, hashedId);
  }

  /** Stores a step's state once; a second report of the same step is ignored and returns false. */
  memoize(hashedId: string, value: unknown): boolean {
    if (this.has(hashedId)) {
      return false;
    }
    this.steps[hashedId] = value;
    this.stack.push(hashedId);
    this.planned.delete(hashedId);
    this.counters.memoizedBytes += Buffer.byteLength(JSON.stringify(value) ?? "null");
    return true;
  }

  /** Ends the run; returns false when it had already ended. */
  end(status: Exclude<RunStatus, "Running">, outcome: { output?: unknown; error?: unknown }, now: number): boolean {
    if (!this.isActive) {
      return false;
    }
    this.status = status;
    this.output = outcome.output ?? null;
    this.error = outcome.error;
    this.endedAt = now;
    for (const cancel of this.blockers.values()) {
      cancel();
    }
    this.blockers.clear();
    this.planned.clear();
    this.#resolveFinished();
    return true;
  }
}
