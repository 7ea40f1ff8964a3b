import { ErrorCode, MastraInngestError, type PendingResume, type RunRecord } from "@mastra/inngest-core";
import { packageName } from "./stream-input.ts";

/**
 * The suspension a `resume()` decides, from the run's record alone: throws `RUN_NOT_FOUND` for no
 * record, `RESUME_EXPIRED` for a run that stopped waiting, `RUN_NOT_SUSPENDED` for a run that is
 * not waiting, `NO_PENDING_RESUME` for a tool call that is not waiting (or none at all), and
 * `AMBIGUOUS_RESUME` when several wait and `toolCallId` names none. Nothing is sent or written.
 */
export function selectPendingResume(
  runId: string,
  record: RunRecord | undefined,
  toolCallId: string | undefined,
): PendingResume {
  if (record === undefined) {
    throw new MastraInngestError(`[${packageName}] no run ${runId} is known to the cache (never started, or expired)`, {
      code: ErrorCode.RUN_NOT_FOUND,
    });
  }
  // `name` is how records written before the error code existed say it.
  if (record.error?.code === ErrorCode.RESUME_EXPIRED || record.error?.name === ErrorCode.RESUME_EXPIRED) {
    throw new MastraInngestError(
      `[${packageName}] run ${runId} stopped waiting for a decision: ${record.error.message}`,
      {
        code: ErrorCode.RESUME_EXPIRED,
      },
    );
  }
  if (record.status !== "suspended") {
    throw new MastraInngestError(
      `[${packageName}] run ${runId} is ${record.status}, not suspended; there is nothing to resume`,
      { code: ErrorCode.RUN_NOT_SUSPENDED },
    );
  }
  const pending = record.pendingResumes;
  const waiting = pending.map((entry) => entry.toolCallId).join(", ");
  if (toolCallId !== undefined) {
    const named = pending.find((entry) => entry.toolCallId === toolCallId);
    if (named === undefined) {
      throw new MastraInngestError(
        `[${packageName}] tool call ${JSON.stringify(toolCallId)} of run ${runId} is not waiting for a decision; waiting: ${waiting || "none"}`,
        { code: ErrorCode.NO_PENDING_RESUME },
      );
    }
    return named;
  }
  if (pending.length > 1) {
    throw new MastraInngestError(
      `[${packageName}] run ${runId} waits for ${pending.length} decisions; pass toolCallId (one of ${waiting})`,
      { code: ErrorCode.AMBIGUOUS_RESUME },
    );
  }
  const [only] = pending;
  if (only === undefined) {
    throw new MastraInngestError(`[${packageName}] run ${runId} is suspended but waits for no decision`, {
      code: ErrorCode.NO_PENDING_RESUME,
    });
  }
  return only;
}
