import type { MastraServerCache } from "@mastra/core/cache";
import type { RunRecord } from "@mastra/inngest-core";
import { until } from "@mastra/inngest-testing/helpers";

/** A run's record as the cache holds it, under the default key layout. Test support only. */
export async function readRunRecord(cache: MastraServerCache, runId: string): Promise<RunRecord | undefined> {
  return (await cache.get(`mastra:inngest:{${runId}}:run`)) as RunRecord | undefined;
}

/** Waits until the run's record has `status` (by default within 20 s), and returns it. Test support only. */
export function untilRunStatus(
  cache: MastraServerCache,
  runId: string,
  status: RunRecord["status"],
  timeoutMs = 20_000,
): Promise<RunRecord> {
  return until(
    async () => {
      const record = await readRunRecord(cache, runId);
      return record?.status === status ? record : undefined;
    },
    { timeoutMs, description: `run ${runId}'s record ${status}` },
  );
}
