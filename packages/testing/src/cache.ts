export {
  describeServerCacheConformance,
  type ServerCacheConformanceCapabilities,
  type ServerCacheConformanceContext,
  type ServerCacheConformanceSetup,
} from "./server-cache-conformance.ts";
