import { DEFAULT_KEY_PREFIX, expireKeys, streamTopic } from "@mastra/inngest-core";
import type { InngestAgentStreamOptions } from "../inngest-agent-options.ts";
import type { AgentRuntime } from "./agent-runtime.ts";
import { bookkeepingTtlMs } from "./run-retention.ts";
import { normalizeMemory } from "./stream-input.ts";

/** The chunk type a queued run's stream starts with. */
export const RUN_QUEUED_CHUNK_TYPE = "data-run-queued";

/** How many earlier runs of a thread are looked at: each waits for those before it, so a queue is ordered through them. */
const laneWindow = 8;

/** How often a queued caller looks again at the runs ahead of it, in milliseconds. */
const pollMs = 50;

/** How long a caller's mark that it is alive lasts, and how often it is renewed, in milliseconds. */
const aliveTtlMs = 15_000;
const aliveRenewMs = 5_000;

/** How long a caller keeps marking its run alive while the run has not started yet, in milliseconds. */
const longestAliveMs = 30 * 60_000;

/** An entry of a thread's lane: the run, and its position in the lane. */
export interface LaneEntry {
  runId: string;
  index: number;
}

/** The key of a thread's lane: the runs of its `stream()` calls, in order, as {@link LaneEntry}. */
export function threadLaneKey(threadId: string): string {
  return `${DEFAULT_KEY_PREFIX}:{thread:${encodeURIComponent(threadId)}}:lane`;
}

/** The key that says the caller of the lane's entry at `index` is alive, while its run has no record yet. */
export function laneAliveKey(threadId: string, index: number): string {
  return `${threadLaneKey(threadId)}:alive:${index}`;
}

/**
 * Waits, before a run on a memory thread is prepared, until every earlier run on that thread has
 * ended or waits for a decision. Preparation reads the thread's messages and saves the new input,
 * so a run prepared while another still runs would answer without the other's turn and interleave
 * with it in memory; the Inngest concurrency constraint on the thread only keeps their steps apart.
 * The lane is a list in the cache, so callers in every process sharing it queue in one order.
 * While it waits, the run's stream gets a `data-run-queued` chunk naming the runs ahead and
 * `onQueued` is called at once; an abort of the caller's signal ends the wait with the signal's
 * reason. Until its run has a record, the caller renews a short-lived mark that it is alive: the
 * entry of a caller that died (a deploy, a crash) stops holding the thread within seconds instead
 * of until its claim expires.
 */
export async function waitForThread(
  runtime: AgentRuntime,
  threadId: string,
  runId: string,
  caller: Pick<InngestAgentStreamOptions, "abortSignal" | "onQueued"> = {},
): Promise<void> {
  const { abortSignal } = caller;
  const cache = runtime.cache();
  const key = threadLaneKey(threadId);
  const counterKey = `${key}:count`;
  // The entry and its position in one atomic push: the alive mark is keyed by the position.
  const index = await cache.listPushIndexed(key, counterKey, { runId });
  await cache.set(laneAliveKey(threadId, index), true, aliveTtlMs);
  keepAlive(runtime, threadId, { runId, index });
  await expireKeys(cache, [key, counterKey], bookkeepingTtlMs(runtime.retention(), "running"));
  // The tail of the lane holds this entry unless many callers pushed since: then all of it.
  const length = await cache.listLength(key);
  let entries = (await cache.listFromTo(key, Math.max(0, length - laneWindow * 8))) as LaneEntry[];
  if (!entries.some((entry) => entry.index === index)) {
    entries = (await cache.listFromTo(key, 0)) as LaneEntry[];
  }
  const earlier = entries.filter((entry) => entry.index < index).slice(-laneWindow);
  let ahead = await busyRuns(runtime, threadId, earlier);
  if (ahead.length === 0) {
    return;
  }
  const publisher = runtime.pubsub().createPublisher();
  // A producer key of its own, so the notice is stored once.
  const notice = {
    type: "chunk",
    runId,
    data: { type: RUN_QUEUED_CHUNK_TYPE, runId, from: "AGENT", data: { threadId, ahead: runIdsOf(ahead) } },
    producer: { stepId: "queued", attempt: 0, sequence: 0 },
  };
  await publisher.publish(streamTopic(runId), notice);
  await publisher.flush();
  await caller.onQueued?.({ runId, threadId, ahead: runIdsOf(ahead) });
  while (ahead.length > 0) {
    // An aborted caller stops waiting: its start fails, which gives its claim (and its place) back.
    abortSignal?.throwIfAborted();
    await new Promise((resolve) => setTimeout(resolve, pollMs));
    ahead = await busyRuns(runtime, threadId, ahead);
  }
}

/** The memory thread of a run's options (Mastra's `thread`, a string or `{ id }`, or the reference's `threadId`). */
export function threadIdOf<OUTPUT>(options: InngestAgentStreamOptions<OUTPUT>): string | undefined {
  const thread = (normalizeMemory(options).memory as { thread?: unknown } | undefined)?.thread;
  const id = typeof thread === "string" ? thread : (thread as { id?: unknown } | undefined)?.id;
  return typeof id === "string" && id !== "" ? id : undefined;
}

/** The distinct run ids of lane entries, in order. */
function runIdsOf(entries: readonly LaneEntry[]): string[] {
  return [...new Set(entries.map((entry) => entry.runId))];
}

/**
 * The entries that still hold the thread: running, or not started yet (no record) with a caller
 * that is alive. A run that waits for a decision, ended, was given back, or whose caller died holds
 * it no more.
 */
async function busyRuns(runtime: AgentRuntime, threadId: string, entries: readonly LaneEntry[]): Promise<LaneEntry[]> {
  const cache = runtime.cache();
  const states = await Promise.all(
    entries.map(async ({ runId, index }) => {
      const record = await runtime.records.read(runId);
      if (record !== undefined) {
        return record.status === "running";
      }
      const alive = await cache.get(laneAliveKey(threadId, index));
      return alive !== undefined && alive !== null && (await runtime.records.exists(runId));
    }),
  );
  return entries.filter((_entry, position) => states[position] === true);
}

/**
 * Renews the caller's alive mark until its run has a record (it started), its claim is gone (its
 * start failed), or {@link longestAliveMs} passed. It looks every {@link pollMs}, so the mark goes
 * as soon as the run started: from then on the run's own keys, which live as run-retention.ts
 * says, tell whether it holds the thread. The timer does not keep the process up.
 */
function keepAlive(runtime: AgentRuntime, threadId: string, { runId, index }: LaneEntry): void {
  const key = laneAliveKey(threadId, index);
  const startedAt = Date.now();
  let renewedAt = startedAt;
  const check = async (): Promise<void> => {
    const started = (await runtime.records.read(runId)) !== undefined;
    if (started || !(await runtime.records.exists(runId)) || Date.now() - startedAt > longestAliveMs) {
      await runtime.cache().delete(key);
      return;
    }
    if (Date.now() - renewedAt >= aliveRenewMs) {
      renewedAt = Date.now();
      await runtime.cache().set(key, true, aliveTtlMs);
    }
    schedule();
  };
  const schedule = (): void => {
    setTimeout(() => {
      // A cache that fails now is tried again; the mark expires on its own if it never answers.
      check().catch(schedule);
    }, pollMs).unref();
  };
  schedule();
}
