import { MASTRA_RESOURCE_ID_KEY, type RequestContext } from "@mastra/core/request-context";
import { ErrorCode, MastraInngestError } from "@mastra/inngest-core";
import type { RunTokenScope } from "../inngest-agent-options.ts";
import type { AgentRuntime } from "./agent-runtime.ts";
import type { RunClaimant } from "./run-records.ts";
import { verifyRunToken } from "./run-tokens.ts";
import { packageName } from "./stream-input.ts";

/** Who is asking, as `observe()`, `resume()`, `abort()` and `deleteRun()` take it. */
export interface RunAccessOptions {
  /** The caller's resource (the user): an owned run answers its owner only. */
  resourceId?: string;
  /**
   * A request context: Mastra's reserved resource key in it (what Mastra's server sets from the
   * authenticated user) is the caller's resource, and wins over `resourceId`.
   */
  requestContext?: RequestContext;
  /** A run token from `createRunToken()`, in place of the owner's identity. */
  token?: string;
}

/** What a caller does to a run: a token scope, or deleting it (the owner's alone). */
export type RunOperation = RunTokenScope | "delete";

/**
 * The caller's resource: Mastra's reserved key of the request context, else `resourceId`. The
 * reserved key wins, as in Mastra's server, so a client-supplied id cannot override the user's.
 */
export function callerResourceId(options: {
  resourceId?: string | undefined;
  requestContext?: RequestContext | undefined;
}): string | undefined {
  const fromContext = options.requestContext?.get(MASTRA_RESOURCE_ID_KEY);
  return typeof fromContext === "string" && fromContext !== "" ? fromContext : options.resourceId;
}

/** The outcome of {@link decideRunAccess}. */
export type RunAccessDecision = "allowed" | "not-found" | "forbidden" | "hidden";

/**
 * The access rule, on the run's claimant alone: a valid token for the operation, or the owner's
 * identity, or any caller for a run without owner. A caller with no identity learns nothing about
 * whether an owned run exists: it is `hidden`, as an unknown run is to it.
 */
export function decideRunAccess(input: {
  claimant: RunClaimant | undefined;
  caller: string | undefined;
  /** Whether a token was given, and whether it holds for this run, agent and operation. */
  token: "none" | "valid" | "invalid";
}): RunAccessDecision {
  const { claimant, caller, token } = input;
  // The owner is the owner, whatever stale token it also sends.
  if (claimant !== undefined && claimant.resourceId !== undefined && claimant.resourceId === caller) {
    return "allowed";
  }
  if (token === "invalid") {
    return "forbidden";
  }
  if (claimant === undefined) {
    return token === "valid" || caller !== undefined ? "not-found" : "hidden";
  }
  if (token === "valid" || claimant.resourceId === undefined || claimant.resourceId === caller) {
    return "allowed";
  }
  return caller === undefined ? "hidden" : "forbidden";
}

/**
 * Checks that the caller may do `operation` on the run, reading its claimant only (no history, no
 * event sent): throws `RUN_FORBIDDEN` or `RUN_NOT_FOUND` otherwise.
 */
export async function authorizeRun(
  runtime: AgentRuntime,
  runId: string,
  operation: RunOperation,
  options: RunAccessOptions,
): Promise<void> {
  const claimant = await runtime.records.readClaimant(runId);
  const token =
    options.token === undefined
      ? "none"
      : operation !== "delete" &&
          verifyRunToken(runtime.runTokenSecret, options.token, {
            runId,
            agentId: runtime.id,
            // A token for a run that is gone, or for an earlier run of the id, matches no claim.
            claimId: claimant?.claimId ?? "",
            scope: operation,
          })
        ? "valid"
        : "invalid";
  const decision = decideRunAccess({ claimant, caller: callerResourceId(options), token });
  if (decision === "allowed") {
    return;
  }
  if (decision === "not-found") {
    throw new MastraInngestError(`[${packageName}] no run ${runId} is known to the cache (never started, or expired)`, {
      code: ErrorCode.RUN_NOT_FOUND,
    });
  }
  const reason =
    decision === "hidden"
      ? `run ${runId} cannot be reached without an identity: pass the owner's resourceId (or a requestContext with Mastra's resource key) or a run token; a run that does not exist answers the same`
      : token === "invalid"
        ? `the run token does not allow ${operation} of run ${runId} (expired, altered, or for another run, agent or scope${operation === "delete" ? "; deleting a run takes the owner's identity" : ""})`
        : `run ${runId} belongs to another resource`;
  throw new MastraInngestError(`[${packageName}] ${reason}`, { code: ErrorCode.RUN_FORBIDDEN });
}
