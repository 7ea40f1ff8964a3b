import { ErrorCode, MastraInngestError } from "@mastra/inngest-core";
import type { AgentRuntime } from "./agent-runtime.ts";
import { packageName } from "./stream-input.ts";

/**
 * Throws `SHARED_CACHE_REQUIRED` when a run cannot be reached from this process: a cache that is not
 * shared across processes knows only the runs whose history is here (they streamed here, and it was
 * not cleared) and the runs started here.
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
      `[${packageName}] run ${runId} has no history in this process: the cache is not shared across processes, so a run's history lives in the memory of the process that streamed it (and goes with that process, or when it expires); pass a shared cache such as RedisStreamCache to createInngestAgent({ cache }) to ${operation} runs from any process`,
      { code: ErrorCode.SHARED_CACHE_REQUIRED },
    );
  }
}
