export { describeServeConformance } from "./serve-conformance.ts";
export type {
  ServeConformanceAgent,
  ServeConformanceClient,
  ServeConformanceClientOptions,
  ServeConformanceEngine,
  ServeConformanceFunction,
  ServeConformanceServer,
  ServeConformanceSetup,
  ServeConformanceStepTools,
} from "./serve-conformance-types.ts";
