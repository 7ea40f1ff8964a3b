import { DEFAULT_KEY_PREFIX, expireKeys, streamTopic } from "@mastra/inngest-core";
import type { InngestAgentStreamOptions } from "../inngest-agent-options.ts";
import type { AgentRuntime } from "./agent-runtime.ts";
import { bookkeepingTtlMs } from "./run-retention.ts";
import { normalizeMemory } from "./stream-input.ts";

/** The chunk type a queued run's stream starts with. */
export const RUN_QUEUED_CHUNK_TYPE = "data-run-queued";

/** How many earlier runs of a thread are looked at: older ones ended long ago or wait behind these. */
const laneWindow = 32;

/** How often a queued caller looks again at the runs ahead of it, in milliseconds. */
const pollMs = 50;

/**
 * Waits, before a run on a memory thread is prepared, until every earlier run on that thread has
 * ended or waits for a decision. Preparation reads the thread's messages and saves the new input,
 * so a run prepared while another still runs would answer without the other's turn and interleave
 * with it in memory; the Inngest concurrency constraint on the thread only keeps their steps apart.
 * The lane is a list in the cache, so callers in every process sharing it queue in one order.
 * While it waits, the run's stream gets a `data-run-queued` chunk naming the runs ahead; an abort of
 * the caller's signal ends the wait with the signal's reason.
 */
export async function waitForThread(
  runtime: AgentRuntime,
  threadId: string,
  runId: string,
  abortSignal?: AbortSignal,
): Promise<void> {
  const cache = runtime.cache();
  const key = `${DEFAULT_KEY_PREFIX}:{thread:${encodeURIComponent(threadId)}}:lane`;
  await cache.listPush(key, runId);
  await expireKeys(cache, [key], bookkeepingTtlMs(runtime.retention(), "running"));
  const entries = (await cache.listFromTo(key, 0)) as string[];
  let ahead = await busyRuns(runtime, entries.slice(0, entries.lastIndexOf(runId)).slice(-laneWindow));
  if (ahead.length === 0) {
    return;
  }
  const publisher = runtime.pubsub().createPublisher();
  // A producer key of its own, so the notice is stored once.
  const notice = {
    type: "chunk",
    runId,
    data: { type: RUN_QUEUED_CHUNK_TYPE, runId, from: "AGENT", data: { threadId, ahead } },
    producer: { stepId: "queued", attempt: 0, sequence: 0 },
  };
  await publisher.publish(streamTopic(runId), notice);
  await publisher.flush();
  while (ahead.length > 0) {
    // An aborted caller stops waiting: its start fails, which gives its claim (and its place) back.
    abortSignal?.throwIfAborted();
    await new Promise((resolve) => setTimeout(resolve, pollMs));
    ahead = await busyRuns(runtime, ahead);
  }
}

/** The memory thread of a run's options (Mastra's `thread`, a string or `{ id }`, or the reference's `threadId`). */
export function threadIdOf<OUTPUT>(options: InngestAgentStreamOptions<OUTPUT>): string | undefined {
  const thread = (normalizeMemory(options).memory as { thread?: unknown } | undefined)?.thread;
  const id = typeof thread === "string" ? thread : (thread as { id?: unknown } | undefined)?.id;
  return typeof id === "string" && id !== "" ? id : undefined;
}

/**
 * The runs that still hold the thread: claimed and not yet started (no record), or running. A run
 * that waits for a decision, ended, or is unknown (its claim given back) holds it no more.
 */
async function busyRuns(runtime: AgentRuntime, runIds: readonly string[]): Promise<string[]> {
  const states = await Promise.all(
    runIds.map(async (runId) => {
      const record = await runtime.records.read(runId);
      return record === undefined ? await runtime.records.exists(runId) : record.status === "running";
    }),
  );
  return runIds.filter((_runId, index) => states[index] === true);
}
