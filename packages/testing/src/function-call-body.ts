import { randomUUID } from "node:crypto";

/** Options of {@link functionCallBody}. */
export interface FunctionCallBodyOptions {
  /**
   * The triggering event's `data`.
   * @default { probe: <a random UUID> }, so that two bodies never sign alike
   */
  data?: Record<string, unknown>;
  /**
   * The run id in `ctx.run_id`.
   * @default a random ULID-shaped id
   */
  runId?: string;
}

/**
 * The JSON body of a call from the engine to one function, as a serve endpoint receives it: the
 * first attempt of a run for `eventName`, no memoized steps, and immediate execution off so that the
 * SDK reports the first step instead of running the whole function. POST it to
 * `<serve URL>?fnId=<composite id>&stepId=step`, signed or not, to test how an app checks calls.
 *
 * @example
 * const body = functionCallBody("app/hello");
 * const response = await fetch(`${server.url}?fnId=app-hello&stepId=step`, {
 *   method: "POST",
 *   headers: { "content-type": "application/json", "x-inngest-signature": signBody(body, signingKey) },
 *   body,
 * });
 */
export function functionCallBody(eventName: string, options: FunctionCallBodyOptions = {}): string {
  const event = { name: eventName, data: options.data ?? { probe: randomUUID() } };
  return JSON.stringify({
    event,
    events: [event],
    steps: {},
    ctx: {
      run_id: options.runId ?? `01J${randomUUID().replaceAll("-", "").slice(0, 23).toUpperCase()}`,
      attempt: 0,
      max_attempts: 1,
      disable_immediate_execution: true,
      use_api: false,
      stack: { stack: [], current: 0 },
    },
    version: 2,
  });
}
