import { describeValue } from "./describe-value.ts";
import { ErrorCode } from "./error-codes.ts";
import { assertValidId, ID_PATTERN } from "./ids.ts";
import { MastraInngestError } from "./mastra-inngest-error.ts";

/**
 * Prefix of the topic that carries a run's stream events, worker to callers. The same name as
 * `AGENT_STREAM_TOPIC` of `@mastra/core/agent/durable`, so core's stream adapter reads it unchanged.
 */
export const STREAM_TOPIC_PREFIX = "agent.stream.";

/**
 * Prefix of the topic that carries control messages (abort requests), callers to worker. The same
 * name as `AGENT_CONTROL_TOPIC` of `@mastra/core/agent/durable`.
 */
export const CONTROL_TOPIC_PREFIX = "agent.control.";

/** The kinds of topic one run has. */
export type RunTopicKind = "stream" | "control";

/** A topic split into the run it belongs to and its kind. */
export interface RunTopic {
  /** Which of the run's topics this is. */
  kind: RunTopicKind;
  /** The run's id, already validated. */
  runId: string;
}

/** The topic of a run's stream events: `agent.stream.<runId>`. Throws `INVALID_ID` for a bad id. */
export function streamTopic(runId: string): string {
  return STREAM_TOPIC_PREFIX + assertValidId("runId", runId);
}

/** The topic of a run's control messages: `agent.control.<runId>`. Throws `INVALID_ID` for a bad id. */
export function controlTopic(runId: string): string {
  return CONTROL_TOPIC_PREFIX + assertValidId("runId", runId);
}

/**
 * Splits a run topic into its kind and run id, or returns `undefined` when `topic` is not a run
 * topic with a valid id. A prefix is followed by exactly one id, so no two runs share a topic.
 */
export function parseRunTopic(topic: string): RunTopic | undefined {
  for (const [prefix, kind] of runTopicPrefixes) {
    if (topic.startsWith(prefix)) {
      const runId = topic.slice(prefix.length);
      return ID_PATTERN.test(runId) ? { kind, runId } : undefined;
    }
  }
  return undefined;
}

/**
 * The form of any topic a PubSub of this project accepts: up to 256 characters of letters, digits
 * and `_ . : -`, starting with a letter or digit. Run topics have this form by construction.
 */
export const TOPIC_PATTERN: RegExp = /^[A-Za-z0-9][A-Za-z0-9_.:-]{0,255}$/;

/**
 * Returns `topic` when it has the form of {@link TOPIC_PATTERN}, and, when it starts with a run
 * topic prefix, a valid run id after it; otherwise throws `INVALID_ID` naming `field`.
 */
export function assertValidTopic(topic: unknown, field = "topic", packageName = "@mastra/inngest-core"): string {
  if (typeof topic === "string" && TOPIC_PATTERN.test(topic)) {
    const isRunTopic = topic.startsWith(STREAM_TOPIC_PREFIX) || topic.startsWith(CONTROL_TOPIC_PREFIX);
    if (!isRunTopic || parseRunTopic(topic) !== undefined) {
      return topic;
    }
  }
  throw new MastraInngestError(
    `[${packageName}] ${field} must match ${TOPIC_PATTERN.source}, and a topic starting with ` +
      `"${STREAM_TOPIC_PREFIX}" or "${CONTROL_TOPIC_PREFIX}" must end in a valid run id, got ${describeValue(topic)}`,
    { code: ErrorCode.INVALID_ID },
  );
}

const runTopicPrefixes: ReadonlyArray<readonly [string, RunTopicKind]> = [
  [STREAM_TOPIC_PREFIX, "stream"],
  [CONTROL_TOPIC_PREFIX, "control"],
];
