import { RUN_STREAM_REALTIME_TOPIC, runChannel } from "./channels.ts";
import type { InngestClientLike } from "./inngest-client.ts";
import { invalidOption } from "./inngest-pubsub-options.ts";
import { createRealtimeTransport } from "./internal/realtime-transport.ts";

/** Options of {@link createRunSubscriptionToken}. */
export interface CreateRunSubscriptionTokenOptions {
  /**
   * Where the browser connects, when it is not where this server reaches Inngest (for example a
   * public URL of a self-hosted Inngest). An absolute `http(s)` URL.
   * @default the client's API base URL
   */
  apiBaseUrl?: string;
}

/**
 * A subscription token for one run's stream, in the shape the Inngest SDKs' browser helpers take
 * (`subscribe()` of `inngest/realtime`, `useRealtime({ token })` of `inngest/react`, and
 * `useInngestSubscription({ token })` of `@inngest/realtime/hooks` for v3).
 */
export interface RunSubscriptionToken {
  /** The token: a short-lived JWT on Inngest Cloud. Treat it as a secret of the caller it was minted for. */
  key: string;
  /** The run's channel, `agent:<runId>`. */
  channel: string;
  /** Only the stream topic: the token never allows reading the run's control messages. */
  topics: string[];
  /** Where to connect; `undefined` means Inngest Cloud. */
  apiBaseUrl: string | undefined;
}

/**
 * Mints a token that lets a browser subscribe to one run's stream events and nothing else: channel
 * `agent:<runId>`, topic `stream` (not `control`). Whoever holds it reads that run's output, so
 * check that the caller may observe the run before calling this, for example in an authenticated
 * route that looks up who started the run. Throws `INVALID_ID` for a bad run id and
 * `INVALID_OPTION` for a bad client or option, before anything is sent.
 *
 * @example
 * app.get("/runs/:runId/token", async (c) => {
 *   if (!(await mayObserve(c.get("user"), c.req.param("runId")))) return c.body(null, 403);
 *   return c.json(await createRunSubscriptionToken(inngest, c.req.param("runId")));
 * });
 */
export async function createRunSubscriptionToken(
  inngest: InngestClientLike,
  runId: string,
  options: CreateRunSubscriptionTokenOptions = {},
): Promise<RunSubscriptionToken> {
  const channel = runChannel(runId);
  if (typeof options !== "object" || options === null) {
    throw invalidOption("options", "an object", options);
  }
  const { apiBaseUrl } = options;
  if (apiBaseUrl !== undefined && !isHttpUrl(apiBaseUrl)) {
    throw invalidOption("apiBaseUrl", "an absolute http(s) URL", apiBaseUrl);
  }
  const transport = createRealtimeTransport(inngest);
  const topics = [RUN_STREAM_REALTIME_TOPIC];
  const token = await transport.token(channel, topics);
  return { key: token.key, channel, topics, apiBaseUrl: apiBaseUrl ?? token.apiBaseUrl };
}

function isHttpUrl(value: unknown): boolean {
  if (typeof value !== "string" || !URL.canParse(value)) {
    return false;
  }
  const { protocol } = new URL(value);
  return protocol === "http:" || protocol === "https:";
}
