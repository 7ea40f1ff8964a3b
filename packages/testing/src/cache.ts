export {
  describeServerCacheConformance,
  type ServerCacheConformanceCapabilities,
  type ServerCacheConformanceContext,
  type ServerCacheConformanceSetup,
} from "./server-cache-conformance.ts";
export {
  describeStreamCacheConformance,
  type StreamCache,
  type StreamCacheConformanceContext,
  type StreamCacheConformanceSetup,
} from "./stream-cache-conformance.ts";
