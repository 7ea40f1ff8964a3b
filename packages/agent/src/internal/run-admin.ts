import { assertValidId, ErrorCode, MastraInngestError, streamTopic } from "@mastra/inngest-core";
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
 * used again). A run token does not allow it. A run still going is not stopped: abort it first.
 */
export async function deleteOwnedRun(runtime: AgentRuntime, runId: string, options: RunAccessOptions): Promise<void> {
  assertValidId("runId", runId, packageName);
  await authorizeRun(runtime, runId, "delete", options);
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
  return signRunToken(secret, {
    runId,
    agentId: runtime.id,
    scopes: options.scopes,
    expiresInSeconds: options.expiresIn,
    ...(options.resourceId === undefined ? {} : { resourceId: options.resourceId }),
  });
}
