import type { RunCounters, RunFlowControl, RunState, RunStatus, StepExecution } from "./run-state.ts";

/** A run as tests inspect it. */
export interface RunView {
  /** The run's id. */
  id: string;
  /** The composite id of the function. */
  functionId: string;
  /** `Running`, `Completed`, `Failed` or `Cancelled`. */
  status: RunStatus;
  /** What the function returned, once completed. */
  output: unknown;
  /** Why it failed, once failed. */
  error: unknown;
  /** The id of the event that started it. */
  eventId: string;
  /** The triggering event. */
  event: Record<string, unknown>;
  /** Every event of the run: a batch has several, any other run one. */
  events: Record<string, unknown>[];
  /**
   * What flow control did to it: `waitingFor` (`concurrency` or `throttle`) while it is queued, how
   * often it waited for a concurrency slot (`queued`), how long the throttle delayed it, how many
   * events its debounce replaced, its priority. A batch's events are in `events`.
   */
  flowControl: RunFlowControl;
  /** Epoch ms. */
  startedAt: number;
  /** Epoch ms, once ended. */
  endedAt: number | undefined;
  /** Every step execution reported, in order, retries and discarded ones included. */
  steps: StepExecution[];
  /** Hashed ids of the sleeps, waits and invokes the run is blocked on now. */
  blockedOn: string[];
  /** The run's counters. */
  counters: RunCounters;
  /** The memoized state of every completed step, by hashed step id, as the engine stores it. */
  memoized: Record<string, unknown>;
  /** Metadata the SDK posted for the run (`metadata()`, warnings), as posted: target and entries. */
  metadata: { target: unknown; metadata: unknown }[];
}

/** A snapshot of a run for tests. */
export function toRunView(run: RunState): RunView {
  return {
    id: run.id,
    functionId: run.fn.id,
    status: run.status,
    output: run.output,
    error: run.error,
    eventId: String(run.event.id ?? ""),
    event: run.event,
    events: [...run.events],
    flowControl: { ...run.flow },
    startedAt: run.startedAt,
    endedAt: run.endedAt,
    steps: [...run.executions],
    blockedOn: [...run.blockers.keys()],
    counters: { ...run.counters },
    memoized: { ...run.steps },
    metadata: [...run.metadata],
  };
}

/** A run in the shape of Inngest's REST API (`GET /v1/runs/:id`). */
export function toRestRun(run: RunState): Record<string, unknown> {
  return {
    run_id: run.id,
    function_id: run.fn.id,
    status: run.status,
    output: run.output,
    error: run.error ?? null,
    event_id: String(run.event.id ?? ""),
    run_started_at: new Date(run.startedAt).toISOString(),
    ended_at: run.endedAt === undefined ? null : new Date(run.endedAt).toISOString(),
  };
}
