import { ErrorCode, MastraInngestError } from "@mastra/inngest-core";
import type { AgentRuntime } from "./agent-runtime.ts";
import { packageName } from "./stream-input.ts";

/**
 * Throws `SHARED_CACHE_REQUIRED` when a run cannot be reached from this process: a cache that is not
 * shared across processes knows only the runs that streamed here (started here, or with history here).
 */
export async function assertReachable(
  runtime: AgentRuntime,
  runId: string,
  historyLength: () => Promise<number>,
  operation: "observe" | "resume",
): Promise<void> {
  if (runtime.pubsub().crossProcess || runtime.callerRuns.has(runId)) {
    return;
  }
  if ((await historyLength()) === 0) {
    throw new MastraInngestError(
      `[${packageName}] run ${runId} did not stream through this process, and the cache is not shared across processes: configure a shared cache (such as RedisStreamCache) to ${operation} it here`,
      { code: ErrorCode.SHARED_CACHE_REQUIRED },
    );
  }
}
