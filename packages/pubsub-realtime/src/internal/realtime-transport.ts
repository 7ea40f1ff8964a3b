import { ErrorCode, MastraInngestError } from "@mastra/inngest-core";
import type { RealtimeAddress } from "../channels.ts";
import type { InngestClientLike } from "../inngest-client.ts";
import { invalidOption } from "../inngest-pubsub-options.ts";
import { packageName } from "./package-name.ts";
import type { MessageHandler, RealtimeConnection } from "./realtime-connection.ts";
import { ensureGlobalWebSocket } from "./web-socket.ts";
import { openWireConnection } from "./wire-connection.ts";

/** A subscription token: the key, and where a subscriber connects with it. */
export interface MintedToken {
  key: string;
  apiBaseUrl: string | undefined;
}

/** What `InngestPubSub` needs from an Inngest client, whichever SDK major it is. */
export interface RealtimeTransport {
  /** The SDK's major version, detected from the client's features. */
  readonly sdkMajor: 3 | 4;
  /** Publishes one message; `run_id` is attached by the SDK when called inside a function run. */
  publish(address: RealtimeAddress, data: unknown): Promise<void>;
  /** Mints a subscription token for exactly these topics of the channel. */
  token(channel: string, topics: readonly string[]): Promise<MintedToken>;
  /** Opens a WebSocket subscription; resolves once it is open. */
  connect(channel: string, topics: readonly string[], onMessage: MessageHandler): Promise<RealtimeConnection>;
}

interface V4Message {
  kind?: unknown;
  topic?: unknown;
  data?: unknown;
}

interface V4Realtime {
  publish(topicRef: { channel: string; topic: string; config: undefined }, data: unknown): Promise<unknown>;
  subscribe(options: {
    channel: string;
    topics: string[];
    validate: boolean;
  }): Promise<ReadableStream<V4Message> & { close(reason?: string): void }>;
  token(options: { channel: string; topics: string[] }): Promise<{ key?: string; apiBaseUrl?: string }>;
}

interface V3Realtime {
  publish(message: { channel: string; topic: string; data: unknown }): Promise<unknown>;
  getSubscriptionToken(options: { channel: string; topics: string[] }): Promise<{ key?: string }>;
}

const closeReason = "Closed by InngestPubSub";

/**
 * Detects the SDK major by feature: v4 clients have `realtime.subscribe` and `realtime.token`; v3
 * clients (3.50+) have `realtime.publish` and `realtime.getSubscriptionToken`. Throws
 * `INVALID_OPTION` naming `field` for anything else.
 */
export function createRealtimeTransport(inngest: unknown, field = "inngest"): RealtimeTransport {
  const realtime = (inngest as { realtime?: Record<string, unknown> } | null)?.realtime;
  if (typeof realtime === "object" && realtime !== null) {
    if (
      typeof realtime.publish === "function" &&
      typeof realtime.subscribe === "function" &&
      typeof realtime.token === "function"
    ) {
      return createV4Transport(realtime as unknown as V4Realtime);
    }
    if (typeof realtime.publish === "function" && typeof realtime.getSubscriptionToken === "function") {
      return createV3Transport(inngest as InngestClientLike, realtime as unknown as V3Realtime);
    }
  }
  throw invalidOption(
    field,
    "an Inngest client of inngest ^4, or of ^3.50 (with realtime.publish and realtime.getSubscriptionToken)",
    inngest,
  );
}

function createV4Transport(realtime: V4Realtime): RealtimeTransport {
  return {
    sdkMajor: 4,
    async publish(address, data) {
      // `config: undefined` skips the SDK's schema validation: these topics have no schema.
      await realtime.publish({ channel: address.channel, topic: address.topic, config: undefined }, data);
    },
    async token(channel, topics) {
      const token = await realtime.token({ channel, topics: [...topics] });
      return { key: requireKey(token.key), apiBaseUrl: token.apiBaseUrl };
    },
    async connect(channel, topics, onMessage) {
      await ensureGlobalWebSocket();
      let stream: Awaited<ReturnType<V4Realtime["subscribe"]>>;
      try {
        stream = await realtime.subscribe({ channel, topics: [...topics], validate: false });
      } catch (error) {
        throw asError(error, `the WebSocket to channel ${channel} did not open`);
      }
      const reader = stream.getReader();
      const ended = (async () => {
        try {
          for (;;) {
            const { done, value } = await reader.read();
            if (done) {
              return;
            }
            if (value?.kind === "data" && typeof value.topic === "string") {
              onMessage(value.topic, value.data);
            }
          }
        } catch {
          // An errored stream is an ended connection, which the caller handles.
        }
      })();
      return { ended, close: () => stream.close(closeReason) };
    },
  };
}

function createV3Transport(inngest: InngestClientLike, realtime: V3Realtime): RealtimeTransport {
  const token = async (channel: string, topics: readonly string[]): Promise<MintedToken> => {
    const minted = await realtime.getSubscriptionToken({ channel, topics: [...topics] });
    return { key: requireKey(minted.key), apiBaseUrl: v3ApiBaseUrl(inngest) };
  };
  return {
    sdkMajor: 3,
    async publish(address, data) {
      await realtime.publish({ channel: address.channel, topic: address.topic, data });
    },
    token,
    async connect(channel, topics, onMessage) {
      await ensureGlobalWebSocket();
      // `@inngest/realtime` 0.4.x cannot close the WebSocket of its subscribe() (cancelling the
      // stream leaves the socket open), so v3 subscriptions speak the same wire protocol directly.
      const { key, apiBaseUrl } = await token(channel, topics);
      const url = new URL("/v1/realtime/connect", apiBaseUrl);
      url.protocol = url.protocol === "http:" ? "ws:" : "wss:";
      url.searchParams.set("token", key);
      return openWireConnection(url, channel, topics, onMessage, closeReason);
    },
  };
}

/**
 * Where a v3 client's subscribers connect: its `apiBaseUrl`, else what `@inngest/realtime` 0.4
 * resolves from the environment (`INNGEST_BASE_URL`, `INNGEST_API_BASE_URL`, `INNGEST_DEV`, then
 * Inngest Cloud in production and the local dev server otherwise).
 */
export function v3ApiBaseUrl(inngest: InngestClientLike, env: NodeJS.ProcessEnv = process.env): string {
  const explicit = inngest.apiBaseUrl || env.INNGEST_BASE_URL || env.INNGEST_API_BASE_URL;
  if (explicit) {
    return explicit;
  }
  const dev = env.INNGEST_DEV;
  if (dev) {
    if (URL.canParse(dev)) {
      return dev;
    }
    return ["0", "false", "no", "off"].includes(dev.trim().toLowerCase())
      ? "https://api.inngest.com/"
      : "http://localhost:8288/";
  }
  return env.NODE_ENV === "production" ? "https://api.inngest.com/" : "http://localhost:8288/";
}

function requireKey(key: string | undefined): string {
  if (typeof key !== "string" || key === "") {
    throw new MastraInngestError(`[${packageName}] Inngest returned no realtime subscription token`, {
      code: ErrorCode.TRANSPORT_CLOSED,
    });
  }
  return key;
}

function asError(error: unknown, message: string): Error {
  return error instanceof Error ? error : new Error(message, { cause: error });
}
