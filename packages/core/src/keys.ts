import { describeValue } from "./describe-value.ts";
import { ErrorCode } from "./error-codes.ts";
import { assertValidId, toSafeToolCallId } from "./ids.ts";
import { MastraInngestError } from "./mastra-inngest-error.ts";
import { assertValidTopic, controlTopic, parseRunTopic, streamTopic } from "./topics.ts";

/** The key prefix used when none is configured. */
export const DEFAULT_KEY_PREFIX = "mastra:inngest";

/**
 * The form of a key prefix: 1 to 64 characters of letters, digits and `_ . : -`, starting with a
 * letter or digit. Braces are excluded because Redis Cluster would take them as the hash tag.
 */
export const KEY_PREFIX_PATTERN: RegExp = /^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$/;

/** The cache keys that hold one topic's history. */
export interface TopicKeys {
  /** The list of stored events, in index order. */
  events: string;
  /** The counter that allocates the next index. */
  index: string;
  /** The record of producer keys already stored, for deduplication of retried publishes. */
  producers: string;
  /** The list of attempt supersessions (`{ stepId, attempt, index }`), read before a replay. */
  attempts: string;
}

/** The cache keys of one run, beyond its topics' keys. */
export interface RunKeys {
  /** The run record: status, pending resumes, ids, timestamps. */
  record: string;
  /** The counter that claims the run id: the first claim counts 1, every later one more. */
  claim: string;
  /**
   * The list of claims of the run id, pushed with the claim counter in one atomic step: the entry
   * with index 0 is the run's claimant (its owner's resource id and the claim's id).
   */
  claimants: string;
  /**
   * The list of decisions recorded for one suspension of a tool call (`requestedAt` tells a call's
   * suspensions apart), and the counter that claims it. Throws `INVALID_ID` for a tool call id or
   * timestamp outside the id form once made safe.
   */
  decision(toolCallId: string, requestedAt: string): { list: string; claim: string };
  /**
   * The list and counter that claim the end of a run's root spans, by its agent run span's id (a
   * resumed run has spans of its own): the first push ends them, so a finish, a failure and an
   * abort racing each other end them once. Throws `INVALID_ID` for a span id outside the id form.
   */
  spansEnd(agentSpanId: string): { list: string; claim: string };
  /**
   * The span data of the root spans a resumed run goes on under (the run input carries the first
   * ones): the failure handler, which sees only the input, ends these.
   */
  rootSpans: string;
  /** The history keys of the run's stream topic. */
  stream: TopicKeys;
  /** The history keys of the run's control topic. */
  control: TopicKeys;
}

/** Options of {@link createKeyLayout}. */
export interface KeyLayoutOptions {
  /**
   * Prefix of every key, in the form of {@link KEY_PREFIX_PATTERN}. Give each deployment sharing a
   * Redis its own prefix.
   * @default "mastra:inngest"
   */
  keyPrefix?: string;
}

/** Builds the cache keys of runs and topics under one prefix. */
export interface KeyLayout {
  /** The validated prefix. */
  readonly keyPrefix: string;
  /** The keys of one run. Throws `INVALID_ID` for a bad run id. */
  run(runId: string): RunKeys;
  /** The history keys of any topic. Throws `INVALID_ID` for a bad topic. */
  topic(topic: string): TopicKeys;
  /** The Redis Cluster hash tag a topic's keys carry: the run id for run topics, else the topic. */
  hashTag(topic: string): string;
}

/**
 * Creates the key layout: `<prefix>:{<runId>}:<topic>:events|index|producers|attempts` for a topic's
 * history and `<prefix>:{<runId>}:run` for the run record. Every key of one run carries the run id
 * as its Redis Cluster hash tag, so they all land in one slot and one Lua script may touch them
 * together. A topic that is not a run topic is its own hash tag. Each key contains its topic
 * verbatim and ends in a fixed suffix, so two topics never share a key.
 *
 * @example
 * const keys = createKeyLayout({ keyPrefix: "myapp" }).run(runId);
 * // keys.stream.events === `myapp:{${runId}}:agent.stream.${runId}:events`
 */
export function createKeyLayout(options: KeyLayoutOptions = {}): KeyLayout {
  const keyPrefix = assertValidKeyPrefix(options.keyPrefix ?? DEFAULT_KEY_PREFIX);

  const hashTag = (topic: string): string => {
    assertValidTopic(topic);
    return parseRunTopic(topic)?.runId ?? topic;
  };

  const topicKeys = (topic: string): TopicKeys => {
    const base = `${keyPrefix}:{${hashTag(topic)}}:${topic}`;
    return {
      events: `${base}:events`,
      index: `${base}:index`,
      producers: `${base}:producers`,
      attempts: `${base}:attempts`,
    };
  };

  return {
    keyPrefix,
    hashTag,
    topic: topicKeys,
    run(runId) {
      assertValidId("runId", runId);
      const record = `${keyPrefix}:{${runId}}:run`;
      return {
        record,
        claim: `${record}:claim`,
        claimants: `${record}:claimants`,
        decision(toolCallId, requestedAt) {
          const list = `${record}:decision:${toSafeToolCallId(toolCallId)}:${assertValidRequestedAt(requestedAt)}`;
          return { list, claim: `${list}:claim` };
        },
        spansEnd(agentSpanId) {
          assertValidId("agentSpanId", agentSpanId);
          const list = `${record}:spans-end:${agentSpanId}`;
          return { list, claim: `${list}:claim` };
        },
        rootSpans: `${record}:root-spans`,
        stream: topicKeys(streamTopic(runId)),
        control: topicKeys(controlTopic(runId)),
      };
    },
  };
}

/**
 * Returns `keyPrefix` when it has the form of {@link KEY_PREFIX_PATTERN}; otherwise throws
 * `INVALID_OPTION` naming the field.
 */
export function assertValidKeyPrefix(keyPrefix: unknown, packageName = "@mastra/inngest-core"): string {
  if (typeof keyPrefix === "string" && KEY_PREFIX_PATTERN.test(keyPrefix)) {
    return keyPrefix;
  }
  throw new MastraInngestError(
    `[${packageName}] keyPrefix must match ${KEY_PREFIX_PATTERN.source} (1-64 characters of letters, digits, ` +
      `'_', '.', ':' or '-', no braces), got ${describeValue(keyPrefix)}`,
    { code: ErrorCode.INVALID_OPTION },
  );
}

/** The form of a suspension's `requestedAt`: an ISO 8601 timestamp, as `Date#toISOString` writes it. */
const REQUESTED_AT_PATTERN = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?Z$/;

function assertValidRequestedAt(requestedAt: string): string {
  if (REQUESTED_AT_PATTERN.test(requestedAt)) {
    return requestedAt;
  }
  throw new MastraInngestError(
    `[@mastra/inngest-core] requestedAt must be an ISO 8601 UTC timestamp such as 2026-01-01T00:00:00.000Z, got ${describeValue(requestedAt)}`,
    { code: ErrorCode.INVALID_ID },
  );
}
