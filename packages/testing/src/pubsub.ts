export {
  describePubSubConformance,
  type PubSubConformanceCapabilities,
  type PubSubConformanceContext,
  type PubSubConformanceSetup,
} from "./pubsub-conformance.ts";
