/** Engine-wide counters for tests and benchmarks. */
export interface EngineCounters {
  /** Calls the engine made to apps (each delivery of a duplicated call counts). */
  serveCalls: number;
  /** Checkpoint posts received from SDKs. */
  checkpointPosts: number;
  /** Step executions reported by SDKs, by any route. */
  stepsExecuted: number;
  /** Events received on the event API, plus the engine's own lifecycle events. */
  eventsReceived: number;
  /** Runs started. */
  runsStarted: number;
  /** CPU time the engine spent handling requests and responses, in microseconds. */
  engineCpuMicros: number;
  /** Times a run waited for a concurrency slot (once per wait). */
  runsQueued: number;
  /** Runs whose start the throttle delayed. */
  runsThrottled: number;
  /** Events a later event of the same debounce key replaced. */
  eventsDebounced: number;
  /** Runs not started: a rate limit, an idempotency key or a singleton in skip mode. */
  runsSkipped: number;
  /** Events delivered in a batch. */
  eventsBatched: number;
  /** Runs cancelled by `timeouts.start` or `timeouts.finish`. */
  runsTimedOut: number;
}

/** Counters all at zero. */
export function createEngineCounters(): EngineCounters {
  return {
    serveCalls: 0,
    checkpointPosts: 0,
    stepsExecuted: 0,
    eventsReceived: 0,
    runsStarted: 0,
    engineCpuMicros: 0,
    runsQueued: 0,
    runsThrottled: 0,
    eventsDebounced: 0,
    runsSkipped: 0,
    eventsBatched: 0,
    runsTimedOut: 0,
  };
}
