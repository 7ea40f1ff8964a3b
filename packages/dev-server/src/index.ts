export { type ConnectEngineOptions, connectEngine, type EngineConnection, type RestRun } from "./connect-engine.ts";
export type { StoredEvent } from "./internal/engine.ts";
export type {
  CrashAfterStepOptions,
  DelayCallsOptions,
  DuplicateCallsOptions,
  FailRealtimePublishesOptions,
  FaultScope,
  InjectedFault,
} from "./internal/faults.ts";
export type { RealtimeChannelStats, RealtimeStats } from "./internal/realtime-hub.ts";
export type { RunCounters, RunStatus, StepExecution } from "./internal/run-state.ts";
export type { RunView } from "./internal/run-view.ts";
export { signBody } from "./internal/signing.ts";
export {
  type AppView,
  type DevServer,
  type DevServerCounters,
  type DevServerFaults,
  type EventInput,
  type ExecutionMode,
  type StartDevServerOptions,
  startDevServer,
  type WaitForRunOptions,
} from "./start-dev-server.ts";
