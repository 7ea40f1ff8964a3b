import { assertValidId, ErrorCode, isFinalRunStatus, MastraInngestError, streamTopic } from "@mastra/inngest-core";
import type { RunTokenOptions } from "../inngest-agent-options.ts";
import { abortRun } from "./abort-run.ts";
import type { AgentRuntime } from "./agent-runtime.ts";
import { authorizeRun, type RunAccessOptions } from "./run-access.ts";
import { signRunToken } from "./run-tokens.ts";
import { packageName } from "./stream-input.ts";

/** `abort(runId)`: the owner (or a token with the `abort` scope) aborts the run wherever it runs. */
export async function abortOwnedRun(runtime: AgentRuntime, runId: string, options: RunAccessOptions): Promise<void> {
  assertValidId("runId", runId, packageName);
  await authorizeRun(runtime, runId, "abort", options);
  await abortRun(runtime, runId);
}

/**
 * `deleteRun(runId)`: the owner deletes the run's history, record and claim (the run id can be
 * used again). A run token does not allow it. A run still going is refused (`RUN_IN_USE`): abort it first.
 */
export async function deleteOwnedRun(runtime: AgentRuntime, runId: string, options: RunAccessOptions): Promise<void> {
  assertValidId("runId", runId, packageName);
  await authorizeRun(runtime, runId, "delete", options);
  const record = await runtime.records.read(runId);
  if (record !== undefined && !isFinalRunStatus(record.status)) {
    // Its next step would write its record again, without the owner it had: abort first.
    throw new MastraInngestError(`[${packageName}] run ${runId} is ${record.status}: abort() it before deleteRun()`, {
      code: ErrorCode.RUN_IN_USE,
    });
  }
  await runtime.pubsub().clearTopic(streamTopic(runId));
  await runtime.records.remove(runId);
}

/** `createRunToken(runId)`: a signed token that lets its bearer do `scopes` to this one run until it expires. */
export async function createRunToken(runtime: AgentRuntime, runId: string, options: RunTokenOptions): Promise<string> {
  assertValidId("runId", runId, packageName);
  const secret = runtime.runTokenSecret;
  if (secret === undefined) {
    throw new MastraInngestError(
      `[${packageName}] run tokens need a secret: pass runTokenSecret to createInngestAgent() or set MASTRA_INNGEST_RUN_TOKEN_SECRET (at least 32 bytes)`,
      { code: ErrorCode.INVALID_OPTION },
    );
  }
  if (options.resourceId !== undefined) {
    await authorizeRun(runtime, runId, "delete", { resourceId: options.resourceId });
  }
  // A token opens the run it was made for: one that exists, by its claim.
  const claimant = await runtime.records.readClaimant(runId);
  if (claimant === undefined) {
    throw new MastraInngestError(`[${packageName}] no run ${runId} is known to the cache (never started, or expired)`, {
      code: ErrorCode.RUN_NOT_FOUND,
    });
  }
  return signRunToken(secret, {
    runId,
    agentId: runtime.id,
    claimId: claimant.claimId,
    scopes: options.scopes,
    expiresInSeconds: options.expiresIn,
    ...(options.resourceId === undefined ? {} : { resourceId: options.resourceId }),
  });
}
