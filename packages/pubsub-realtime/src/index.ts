export {
  OTHER_REALTIME_TOPIC,
  type RealtimeAddress,
  RUN_CHANNEL_PREFIX,
  RUN_CONTROL_REALTIME_TOPIC,
  RUN_STREAM_REALTIME_TOPIC,
  realtimeAddressOf,
  runChannel,
  TOPIC_CHANNEL_PREFIX,
} from "./channels.ts";
export type { InngestClientLike } from "./inngest-client.ts";
export { InngestPubSub } from "./inngest-pubsub.ts";
export type { InngestPubSubLogger, InngestPubSubOptions } from "./inngest-pubsub-options.ts";
export { REALTIME_GAP_EVENT_TYPE, type RealtimeGapData } from "./realtime-gap.ts";
export {
  type CreateRunSubscriptionTokenOptions,
  createRunSubscriptionToken,
  type RunSubscriptionToken,
} from "./run-subscription-token.ts";
