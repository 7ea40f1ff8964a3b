import type { ReportedOp } from "./call-app.ts";
import type { GatewayHooks } from "./gateway-fetch.ts";
import type { RunState } from "./run-state.ts";

/** How each request format the SDK's models use carries the API key. */
const authorizationByFormat: Readonly<Record<string, (key: string) => Record<string, string>>> = {
  "openai-chat": (key) => ({ authorization: `Bearer ${key}` }),
  "openai-responses": (key) => ({ authorization: `Bearer ${key}` }),
  grok: (key) => ({ authorization: `Bearer ${key}` }),
  anthropic: (key) => ({ "x-api-key": key }),
  // The key is in the URL (Gemini) or in the model's own headers (Azure's `api-key`).
  gemini: () => ({}),
  "azure-openai": () => ({}),
};

/**
 * `step.ai.infer()` (the `AIGateway` op): the engine calls the model's URL with the request body
 * and the API key in the form the model's format expects, as Inngest's gateway does, and memoizes
 * the provider's JSON answer. A format the engine does not know, or an answer other than 2xx, fails
 * the step with an error naming it.
 */
export function inferForRun(run: RunState, op: ReportedOp, hooks: GatewayHooks): void {
  const opts = (op.opts ?? {}) as {
    url?: unknown;
    headers?: unknown;
    auth_key?: unknown;
    format?: unknown;
    body?: unknown;
  };
  const controller = new AbortController();
  run.blockers.set(op.id, () => controller.abort());
  const fail = (message: string): void =>
    hooks.resolve(run, op.id, { error: { name: "Error", message: `[@mastra/inngest-dev-server] ${message}` } });
  const format = typeof opts.format === "string" ? opts.format : "";
  const authorization = authorizationByFormat[format];
  if (authorization === undefined || typeof opts.url !== "string") {
    fail(`step.ai.infer() with the model format "${format}" is not supported by this engine`);
    return;
  }
  const url = opts.url;
  void (async () => {
    let value: unknown;
    try {
      const response = await fetch(url, {
        method: "POST",
        headers: {
          "content-type": "application/json",
          ...(typeof opts.headers === "object" && opts.headers !== null
            ? (opts.headers as Record<string, string>)
            : {}),
          ...(typeof opts.auth_key === "string" && opts.auth_key !== "" ? authorization(opts.auth_key) : {}),
        },
        body: JSON.stringify(opts.body ?? {}),
        signal: controller.signal,
      });
      const text = await response.text();
      if (!response.ok) {
        fail(`step.ai.infer(): ${url} answered ${response.status}: ${text.slice(0, 500)}`);
        return;
      }
      value = { data: JSON.parse(text) as unknown };
    } catch (error) {
      if (!controller.signal.aborted) {
        fail(`step.ai.infer() of ${url} failed: ${(error as Error).message}`);
      }
      return;
    }
    hooks.resolve(run, op.id, value);
  })();
}
