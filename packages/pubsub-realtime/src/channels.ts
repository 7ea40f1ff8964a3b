import { assertValidId, assertValidTopic, parseRunTopic } from "@mastra/inngest-core";
import { packageName } from "./internal/package-name.ts";

/** Prefix of the Inngest channel of one run: `agent:<runId>`. */
export const RUN_CHANNEL_PREFIX = "agent:";

/** Prefix of the Inngest channel of any topic that is not a run topic: `topic:<topic>`. */
export const TOPIC_CHANNEL_PREFIX = "topic:";

/** The Inngest topic, on a run's channel, of its stream events (`agent.stream.<runId>`). */
export const RUN_STREAM_REALTIME_TOPIC = "stream";

/** The Inngest topic, on a run's channel, of its control messages (`agent.control.<runId>`). */
export const RUN_CONTROL_REALTIME_TOPIC = "control";

/** The Inngest topic of every `topic:<topic>` channel. */
export const OTHER_REALTIME_TOPIC = "events";

/** Where a PubSub topic lives on Inngest Realtime. */
export interface RealtimeAddress {
  /** The Inngest channel, e.g. `agent:run-1`. */
  channel: string;
  /** The Inngest topic within it, e.g. `stream`. */
  topic: string;
}

/**
 * The Inngest channel of a run: `agent:<runId>`, carrying the topics `stream` and `control`.
 * Throws `INVALID_ID` for a run id outside core's id grammar.
 *
 * @example
 * runChannel("run-1"); // "agent:run-1"
 */
export function runChannel(runId: string): string {
  return RUN_CHANNEL_PREFIX + assertValidId("runId", runId, packageName);
}

/**
 * Maps a PubSub topic to its Inngest channel and topic. A run topic `agent.stream.<runId>` or
 * `agent.control.<runId>` goes to channel `agent:<runId>`, topic `stream` or `control`; any other
 * topic `<topic>` goes to channel `topic:<topic>`, topic `events`. Every channel is a fixed prefix
 * followed by exactly one variable part (the run id, or the whole topic), and the two prefixes
 * differ, so two different topics never share a channel and topic, even though ids may contain
 * `:` and `.`. Throws `INVALID_ID`, before anything is sent, for a topic outside core's grammar.
 *
 * @example
 * realtimeAddressOf("agent.stream.run-1"); // { channel: "agent:run-1", topic: "stream" }
 * realtimeAddressOf("jobs.progress"); // { channel: "topic:jobs.progress", topic: "events" }
 */
export function realtimeAddressOf(topic: string): RealtimeAddress {
  const valid = assertValidTopic(topic, "topic", packageName);
  const runTopic = parseRunTopic(valid);
  if (runTopic !== undefined) {
    return {
      channel: RUN_CHANNEL_PREFIX + runTopic.runId,
      topic: runTopic.kind === "stream" ? RUN_STREAM_REALTIME_TOPIC : RUN_CONTROL_REALTIME_TOPIC,
    };
  }
  return { channel: TOPIC_CHANNEL_PREFIX + valid, topic: OTHER_REALTIME_TOPIC };
}
