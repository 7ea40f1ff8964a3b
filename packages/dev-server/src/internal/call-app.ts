import { randomUUID } from "node:crypto";
import type { RunState } from "./run-state.ts";
import { signBody } from "./signing.ts";

/** Which call the engine makes: discovery (`stepId=step`) or one planned step. */
export type CallTarget = { kind: "discovery" } | { kind: "step"; hashedId: string };

/** An op an SDK reported in a 206 response, in the fields the engine reads. */
export interface ReportedOp {
  id: string;
  op: string;
  name?: string;
  displayName?: string;
  opts?: Record<string, unknown>;
  userland?: { id?: string; index?: number };
  data?: unknown;
  error?: unknown;
}

/** The user's id of a step: `userland.id`, else its display name, else the op's name. */
export function stepName(op: ReportedOp): string {
  return op.userland?.id ?? op.displayName ?? op.name ?? op.id;
}

/** What came back from one call, classified. */
export type CallOutcome =
  | { kind: "ops"; ops: ReportedOp[]; retryAfterMs?: number; requestVersion?: number }
  | { kind: "completed"; output: unknown }
  | { kind: "error"; error: unknown; retriable: boolean; retryAfterMs?: number };

/** How to call an app. */
export interface CallSettings {
  /** The execution mode: `checkpoint` sends `ctx.fn_id` so the v4 SDK checkpoints. */
  mode: "checkpoint" | "classic";
  /** Signs requests when set (cloud mode). */
  signingKey: string | undefined;
  /** The engine's own stable id for the function, sent as `fn_id`. */
  internalFunctionId: string;
}

/** The request body and headers of a call, built from the run's current state. */
export function buildCall(
  run: RunState,
  target: CallTarget,
  attempt: number,
  dispatchId: string,
  settings: CallSettings,
): { url: string; body: string; headers: Record<string, string> } {
  const ctx: Record<string, unknown> = {
    run_id: run.id,
    attempt,
    max_attempts: run.fn.maxAttempts,
    disable_immediate_execution: run.disableImmediateExecution,
    use_api: false,
    stack: { stack: run.stack, current: run.stack.length },
  };
  if (settings.mode === "checkpoint") {
    ctx.fn_id = settings.internalFunctionId;
    ctx.qi_id = dispatchId;
  }
  const body = JSON.stringify({ event: run.event, events: run.events, steps: run.steps, ctx, version: 2 });
  const url = new URL(run.fn.url);
  url.searchParams.set("fnId", run.fn.id);
  url.searchParams.set("stepId", target.kind === "discovery" ? "step" : target.hashedId);
  const headers: Record<string, string> = {
    "content-type": "application/json",
    "x-inngest-server-kind": settings.signingKey === undefined ? "dev" : "cloud",
    "x-inngest-req-version": "2",
    "x-run-id": run.id,
    "x-request-id": randomUUID(),
    // The SDK gives functions this as their job id: stable across retries of the same call, as
    // Inngest's queue item is (the run, how far it got, and which step or discovery).
    "x-inngest-job-id": `${run.id}:${run.stack.length}:${target.kind === "step" ? target.hashedId : "step"}`,
  };
  if (target.kind === "step") {
    headers["x-inngest-step-id"] = target.hashedId;
  }
  if (settings.signingKey !== undefined) {
    headers["x-inngest-signature"] = signBody(body, settings.signingKey);
  }
  return { url: url.toString(), body, headers };
}

/** Reads an app's response into a {@link CallOutcome}, following the status codes the SDK uses. */
export async function readOutcome(response: Response): Promise<CallOutcome> {
  const text = await response.text();
  if (response.status === 201) {
    // A streamed response (the serve handler's `streaming: true`): whitespace heartbeats, then the
    // response it would have sent, as JSON.
    const streamed = parseJson(text.trim()) as { status?: unknown; headers?: unknown; body?: unknown } | undefined;
    if (typeof streamed?.status === "number" && streamed.status >= 200 && streamed.status <= 599) {
      const headers = (
        typeof streamed.headers === "object" && streamed.headers !== null ? streamed.headers : {}
      ) as Record<string, string>;
      const body = typeof streamed.body === "string" ? streamed.body : JSON.stringify(streamed.body ?? null);
      return await readOutcome(new Response(body, { status: streamed.status, headers }));
    }
    return {
      kind: "error",
      error: { name: "Error", message: `app streamed no final response: ${text.trim().slice(0, 500)}` },
      retriable: true,
    };
  }
  const parsed = parseJson(text);
  const retryAfterMs = parseRetryAfter(response.headers.get("retry-after"));
  const noRetry = response.headers.get("x-inngest-no-retry") === "true";
  if (response.status === 200) {
    return { kind: "completed", output: parsed ?? null };
  }
  if (response.status === 206 && Array.isArray(parsed)) {
    const outcome: CallOutcome = { kind: "ops", ops: parsed as ReportedOp[] };
    if (retryAfterMs !== undefined) {
      outcome.retryAfterMs = retryAfterMs;
    }
    const requestVersion = Number(response.headers.get("x-inngest-req-version") ?? Number.NaN);
    if (Number.isInteger(requestVersion)) {
      outcome.requestVersion = requestVersion;
    }
    return outcome;
  }
  const error =
    parsed !== undefined && typeof parsed === "object"
      ? parsed
      : { name: "Error", message: `app answered ${response.status}: ${text.slice(0, 500)}` };
  const outcome: CallOutcome = { kind: "error", error, retriable: !(noRetry || response.status === 400) };
  if (retryAfterMs !== undefined) {
    outcome.retryAfterMs = retryAfterMs;
  }
  return outcome;
}

function parseJson(text: string): unknown {
  if (text === "") {
    return undefined;
  }
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

function parseRetryAfter(value: string | null): number | undefined {
  if (value === null || value === "") {
    return undefined;
  }
  const seconds = Number(value);
  if (Number.isFinite(seconds)) {
    return Math.max(0, seconds * 1000);
  }
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - Date.now());
}
