import { randomUUID } from "node:crypto";
import { ErrorCode, MastraInngestError } from "@mastra/inngest-core";
import type { InngestAgentStreamOptions } from "../inngest-agent-options.ts";
import type { AgentRuntime } from "./agent-runtime.ts";
import { callerResourceId } from "./run-access.ts";
import { normalizeMemory, packageName } from "./stream-input.ts";

/**
 * The owner of a new run: Mastra's reserved resource key of its request context (what Mastra's
 * server sets from the authenticated user), else its memory's resource; none without either.
 */
export function runOwner<OUTPUT>(options: InngestAgentStreamOptions<OUTPUT>): string | undefined {
  const memory = normalizeMemory(options).memory as { resource?: string } | undefined;
  return callerResourceId({ resourceId: memory?.resource, requestContext: options.requestContext });
}

/**
 * Claims `runId` for a new run with its owner, in one atomic step, and returns the claim's id,
 * which the run input carries so the worker runs only the input of the claim that won. Throws
 * `RUN_IN_USE` for a run id already claimed, and `INVALID_OPTION` for a run without owner when the
 * agent requires one; nothing is claimed then.
 */
export async function claimRun<OUTPUT>(
  runtime: AgentRuntime,
  runId: string,
  options: InngestAgentStreamOptions<OUTPUT>,
): Promise<string> {
  const owner = runOwner(options);
  if (owner === undefined && runtime.requireOwner) {
    throw new MastraInngestError(
      `[${packageName}] this agent requires an owner for every run (requireOwner): pass memory: { resource } or a requestContext with Mastra's resource key`,
      { code: ErrorCode.INVALID_OPTION },
    );
  }
  const claimId = randomUUID();
  if (!(await runtime.records.claim(runId, { ...(owner === undefined ? {} : { resourceId: owner }), claimId }))) {
    throw new MastraInngestError(`[${packageName}] runId ${runId} is already used by another run; pass a new runId`, {
      code: ErrorCode.RUN_IN_USE,
    });
  }
  return claimId;
}
