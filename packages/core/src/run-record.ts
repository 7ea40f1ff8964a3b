import type { ErrorCode } from "./error-codes.ts";

/**
 * Where a run is in its life. `running` and `suspended` can change; `finished`, `failed` and
 * `aborted` are final.
 */
export type RunStatus = "running" | "suspended" | "finished" | "failed" | "aborted";

/** The statuses after which a run never changes again. */
export const FINAL_RUN_STATUSES: readonly RunStatus[] = Object.freeze(["finished", "failed", "aborted"] as RunStatus[]);

/** Whether a run in this status is over. */
export function isFinalRunStatus(status: RunStatus): boolean {
  return FINAL_RUN_STATUSES.includes(status);
}

/** A tool call that waits for a human: an approval, or a tool that called `suspend()`. */
export interface PendingResume {
  /** The tool call's id, as the stream showed it. */
  toolCallId: string;
  /** The tool's name. */
  toolName: string;
  /** Whether the call waits for an approval decision or for the data a suspended tool asked for. */
  kind: "approval" | "suspension";
  /** When the wait began, as an ISO 8601 string. */
  requestedAt: string;
  /**
   * The durable step that asked (`tool:0:1`, or `tool:0:1:resume:0` for a call that suspended
   * again): a retry of that step asks under the same `requestedAt`, so a decision already taken
   * on its first request applies.
   */
  stepId?: string;
  /** What the tool passed to `suspend()`, for `kind: "suspension"`. */
  suspendPayload?: unknown;
  /** The JSON schema of the expected resume data, as a string, when the tool declares one. */
  resumeSchema?: string;
  /** Set once a decision was recorded, so a second `resume()` is refused with `DUPLICATE_RESUME`. */
  decision?: {
    /** When the decision was recorded, as an ISO 8601 string. */
    recordedAt: string;
    /** The resume's own id, so the run applies each decision once. */
    resumeId: string;
  };
}

/**
 * What the cache keeps about a run, with a TTL: read by `resume()` and `observe()` in any process,
 * written by the run's steps. All timestamps are ISO 8601 strings so the record survives JSON.
 */
export interface RunRecord {
  /** The record's layout version; readers reject versions they do not know. */
  version: 1;
  /** The run's id. */
  runId: string;
  /** The id of the agent that runs it. */
  agentId: string;
  /** Where the run is in its life. */
  status: RunStatus;
  /** The tool calls that wait for a decision; empty unless `status` is `suspended`. */
  pendingResumes: PendingResume[];
  /** The memory thread, when the run has one. */
  threadId?: string;
  /** The memory resource, when the run has one. */
  resourceId?: string;
  /** When the run started. */
  createdAt: string;
  /** When the record last changed. */
  updatedAt: string;
  /**
   * Who claimed the run id: the owner's resource id, if any, and the claim's id. Kept with the record
   * (refreshed with it), so the owner outlives the claim's own keys.
   */
  owner?: {
    resourceId?: string;
    claimId: string;
  };
  /** The index of the last event stored for the run's stream, once there is one. */
  lastIndex?: number;
  /** The error that failed the run, for `status: "failed"`. */
  error?: {
    /** The error's name. */
    name: string;
    /** The error's message. */
    message: string;
    /** The code of the error, when it is one of {@link ErrorCode} (`RESUME_EXPIRED` for an expired wait). */
    code?: ErrorCode;
  };
}
