import { randomUUID } from "node:crypto";
import { assertValidId, ErrorCode, isFinalRunStatus, MastraInngestError } from "@mastra/inngest-core";
import type { InngestAgentObserveOptions } from "../inngest-agent-options.ts";
import type { InngestAgentStreamResult } from "../inngest-agent-types.ts";
import type { AgentRuntime } from "./agent-runtime.ts";
import { openRunStream, toStreamResult } from "./open-run-stream.ts";
import { authorizeRun } from "./run-access.ts";
import { abortOwnedRun } from "./run-admin.ts";
import { waitsForDecision } from "./run-waiting.ts";
import { assertReachable } from "./shared-cache-check.ts";
import { packageName } from "./stream-input.ts";

/** `observe()`: streams a known run from `offset`, replaying its history; `cleanup()` also clears it. */
export async function observeRun<OUTPUT>(
  runtime: AgentRuntime,
  runId: string,
  options: InngestAgentObserveOptions<OUTPUT>,
): Promise<InngestAgentStreamResult<OUTPUT>> {
  assertValidId("runId", runId, packageName);
  await authorizeRun(runtime, runId, "observe", options);
  await assertReachable(runtime, runId, () => runtime.records.historyLength(runId), "observe");
  await assertHistoryKept(runtime, runId);
  const stream = await openRunStream<OUTPUT>(runtime, runId, {
    messageId: randomUUID(),
    model: await runtime.modelInfo(),
    offset: options.offset,
    indexedChunks: options.indexedChunks,
    callbacks: options,
    // A reconnecting client sees the run as it is now: it stops where the run waits for a decision
    // nobody gave yet, and goes past suspensions that were decided since.
    endsAtWaiting: (data) => waitsForDecision(runtime.records, runId, data),
  });
  return toStreamResult(stream, runId, {
    // Leaving is not deleting: the run's history stays for others (deleteRun() is the owner's).
    cleanup: () => stream.cleanup(),
    abort: () => abortOwnedRun(runtime, runId, options),
  });
}

/**
 * Throws `OFFSET_EXPIRED` for a run that ended and whose history is gone (expired before its record,
 * or deleted): nothing will ever arrive on its topic, so a stream would wait forever.
 */
async function assertHistoryKept(runtime: AgentRuntime, runId: string): Promise<void> {
  const record = await runtime.records.read(runId);
  if (record !== undefined && isFinalRunStatus(record.status) && (await runtime.records.historyLength(runId)) === 0) {
    throw new MastraInngestError(
      `[${packageName}] run ${runId} is ${record.status} and its history is no longer kept (it expired or was deleted): there is nothing to observe`,
      { code: ErrorCode.OFFSET_EXPIRED },
    );
  }
}
