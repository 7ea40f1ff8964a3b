export {
  type CreateInngestAgentOptions,
  callerIdentityMiddleware,
  createInngestAgent,
  type InngestAgent,
  type InngestAgentMemoryOption,
  type InngestAgentObserveOptions,
  type InngestAgentResumeOptions,
  type InngestAgentStreamOptions,
  type InngestAgentStreamResult,
  isInngestAgent,
  type PrepareResult,
  type RunRetention,
} from "@mastra/inngest-agent";
export { ErrorCode, MastraInngestError } from "@mastra/inngest-core";
export { createRunSubscriptionToken, InngestPubSub, type InngestPubSubOptions } from "@mastra/inngest-pubsub-realtime";
export { collectInngestFunctions, createServe, type MastraServeOptions } from "@mastra/inngest-serve";
export { serve } from "@mastra/inngest-serve-hono";
export {
  CachingPubSub,
  type CachingPubSubOptions,
  InMemoryStreamCache,
  type InMemoryStreamCacheOptions,
} from "@mastra/inngest-stream-cache";
