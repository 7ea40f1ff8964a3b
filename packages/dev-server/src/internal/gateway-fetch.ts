import type { ReportedOp } from "./call-app.ts";
import type { RunState } from "./run-state.ts";

/** What `step.fetch()` needs from the engine. */
export interface GatewayHooks {
  /** Memoizes the step's result and moves the run on. */
  resolve(run: RunState, hashedId: string, value: unknown): void;
}

/**
 * `step.fetch()` (the `Gateway` op): the engine makes the HTTP request the SDK describes, as
 * Inngest does, and memoizes the response as the SDK reads it back: `{ status_code, headers, body }`
 * with the body as text. Any status is a response; a request that cannot be made fails the step.
 * Cancelling the run aborts the request.
 */
export function fetchForRun(run: RunState, op: ReportedOp, hooks: GatewayHooks): void {
  const opts = (op.opts ?? {}) as { url?: unknown; method?: unknown; headers?: unknown; body?: unknown };
  const controller = new AbortController();
  run.blockers.set(op.id, () => controller.abort());
  void (async () => {
    let value: unknown;
    try {
      if (typeof opts.url !== "string") {
        throw new Error("step.fetch() sent no url");
      }
      const method = typeof opts.method === "string" ? opts.method : "GET";
      const response = await fetch(opts.url, {
        method,
        headers: (typeof opts.headers === "object" && opts.headers !== null ? opts.headers : {}) as Record<
          string,
          string
        >,
        ...(typeof opts.body === "string" && method !== "GET" && method !== "HEAD" ? { body: opts.body } : {}),
        signal: controller.signal,
      });
      const headers: Record<string, string> = {};
      response.headers.forEach((headerValue, name) => {
        headers[name] = headerValue;
      });
      value = { data: { status_code: response.status, headers, body: await response.text() } };
    } catch (error) {
      if (controller.signal.aborted) {
        return;
      }
      value = {
        error: {
          name: "Error",
          message: `[@mastra/inngest-dev-server] step.fetch() of ${String(opts.url)} failed: ${(error as Error).message}`,
        },
      };
    }
    hooks.resolve(run, op.id, value);
  })();
}
