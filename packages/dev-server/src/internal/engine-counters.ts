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
}

/** Counters all at zero. */
export function createEngineCounters(): EngineCounters {
  return { serveCalls: 0, checkpointPosts: 0, stepsExecuted: 0, eventsReceived: 0, runsStarted: 0, engineCpuMicros: 0 };
}
