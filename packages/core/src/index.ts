export {
  type CacheNotifiedPubSub,
  expireKeys,
  getDefaultTtlMs,
  getNotificationChannel,
  getStreamCacheCapabilities,
  type IndexedAppendCache,
  type IndexedAppendEntry,
  type IndexedAppendOutcome,
  type IndexedAppendRequest,
  retainKeys,
  type StreamCacheCapabilities,
  supportsIndexedAppend,
} from "./cache-capabilities.ts";
export { describeValue } from "./describe-value.ts";
export { ErrorCode } from "./error-codes.ts";
export {
  createEventBatch,
  EVENT_BATCH_KIND,
  type EventBatch,
  fromEnvelope,
  isEventBatch,
  toEnvelope,
  unpackEvents,
} from "./event-batch.ts";
export { assertValidId, ID_FORM_DESCRIPTION, ID_PATTERN, isValidId, toSafeToolCallId } from "./ids.ts";
export { invalidOption } from "./invalid-option.ts";
export {
  assertValidKeyPrefix,
  createKeyLayout,
  DEFAULT_KEY_PREFIX,
  KEY_PREFIX_PATTERN,
  type KeyLayout,
  type KeyLayoutOptions,
  type RunKeys,
  type TopicKeys,
} from "./keys.ts";
export { MastraInngestError, type MastraInngestErrorOptions } from "./mastra-inngest-error.ts";
export { assertValidOffset, type StreamOffset } from "./offsets.ts";
export { normalizeRedisUrl, type RedisClientLike, redisServerIdentity } from "./redis-connection.ts";
export {
  FINAL_RUN_STATUSES,
  isFinalRunStatus,
  type PendingResume,
  type RunRecord,
  type RunStatus,
} from "./run-record.ts";
export {
  formatProducerKey,
  isTerminalEventType,
  isWaitingEventType,
  type ProducerKey,
  type StreamEvent,
  type StreamEventEnvelope,
  TERMINAL_EVENT_TYPES,
  WAITING_EVENT_TYPES,
} from "./stream-event.ts";
export {
  ATTEMPT_SUPERSEDED_EVENT_TYPE,
  type AttemptSupersededData,
  createSupersededMarker,
  EVENTS_LOST_EVENT_TYPE,
  type EventsLostData,
  OFFSET_EXPIRED_EVENT_TYPE,
  type OffsetExpiredData,
} from "./stream-notices.ts";
export {
  assertValidTopic,
  CONTROL_TOPIC_PREFIX,
  controlTopic,
  parseRunTopic,
  type RunTopic,
  type RunTopicKind,
  STREAM_TOPIC_PREFIX,
  streamTopic,
  TOPIC_PATTERN,
} from "./topics.ts";
