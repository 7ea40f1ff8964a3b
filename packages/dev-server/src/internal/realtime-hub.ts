import type { IncomingMessage } from "node:http";
import type { Duplex } from "node:stream";
import { WebSocketServer } from "ws";
import { RealtimeFaultInjector } from "./faults.ts";
import { dataFrame, type FrameAddress, publishBodyToJson, streamFrames, valueToJson } from "./realtime-frames.ts";
import { type HubResponse, jsonResponse, rejectUpgrade, unauthorizedResponse } from "./realtime-responses.ts";
import { RealtimeStatistics, type RealtimeStats } from "./realtime-statistics.ts";
import { RealtimeSubscriptions } from "./realtime-subscriptions.ts";
import { parseTokenRequest, RealtimeTokens } from "./realtime-token.ts";

export type { HubResponse } from "./realtime-responses.ts";
export type { RealtimeChannelStats, RealtimeStats } from "./realtime-statistics.ts";

/** Options of {@link RealtimeHub}. */
export interface RealtimeHubOptions {
  /**
   * Decides whether an API call (token, publish) may proceed, from its Authorization header.
   * Subscriptions are authorized by their token alone, as on the real server.
   * @default allow every call (dev mode: dev SDKs send junk such as `Bearer` or `Bearer undefined`)
   */
  isAuthorized?: (authorization: string | undefined) => boolean;
  /**
   * Interval of WebSocket ping frames, in milliseconds. A socket that leaves three pings in a row
   * unanswered is closed.
   * @default 15000
   */
  pingIntervalMs?: number;
}

/** A publish the engine makes itself, without HTTP. */
export interface RealtimePublish {
  /** The channel name, matched exactly against subscriptions. */
  channel: string;
  /** The topic name. */
  topic: string;
  /** Any JSON-serializable value; `undefined` is sent as `null`. */
  data: unknown;
  /** The run that published, sent as `run_id`. */
  runId?: string;
}

/** Close code sent to every subscriber by {@link RealtimeHub.close}: "going away". */
export const HUB_CLOSE_CODE = 1001;

/** Close code of {@link RealtimeHub.disconnectAll}: "service restart", as a server restart sends. */
export const FAULT_CLOSE_CODE = 1012;

/** Largest message a subscriber may send; the SDK clients send none, so this only bounds misuse. */
const MAX_CLIENT_PAYLOAD_BYTES = 64 * 1024;

/**
 * Inngest Realtime for the dev server: `POST /v1/realtime/token`, `POST /v1/realtime/publish` and
 * the WebSocket at `GET /v1/realtime/connect?token=…`, as the `inngest` v4 client (`inngest/realtime`)
 * and the v3 client (`@inngest/realtime`) use them.
 *
 * Like the real service it is a fire-and-forget feed: a message reaches the subscriptions open when
 * it is published and is then forgotten (no history), in publish order per (channel, topic).
 * Memory stays bounded: tokens are signed rather than stored, and a subscriber whose socket buffers
 * more than 8 MB is closed.
 *
 * @example
 * const hub = new RealtimeHub();
 * server.on("upgrade", (request, socket, head) => hub.handleUpgrade(request, socket, head));
 * const response = hub.handlePublish(url, request.headers.authorization, body, request.headers["content-type"]);
 */
export class RealtimeHub {
  readonly #isAuthorized: (authorization: string | undefined) => boolean;
  readonly #tokens = new RealtimeTokens();
  readonly #statistics = new RealtimeStatistics();
  readonly #subscriptions: RealtimeSubscriptions;
  readonly #server = new WebSocketServer({
    noServer: true,
    clientTracking: false,
    perMessageDeflate: false,
    maxPayload: MAX_CLIENT_PAYLOAD_BYTES,
  });
  #closed = false;

  /** Faults for tests: publishes that fail with 500. */
  readonly faults: RealtimeFaultInjector = new RealtimeFaultInjector();

  constructor(options: RealtimeHubOptions = {}) {
    const { isAuthorized = () => true, pingIntervalMs = 15_000 } = options;
    if (typeof isAuthorized !== "function") {
      throw new TypeError(`[@mastra/inngest-dev-server] isAuthorized must be a function, got ${typeof isAuthorized}`);
    }
    if (!Number.isFinite(pingIntervalMs) || pingIntervalMs <= 0) {
      throw new RangeError(
        `[@mastra/inngest-dev-server] pingIntervalMs must be a positive number, got ${pingIntervalMs}`,
      );
    }
    this.#isAuthorized = isAuthorized;
    this.#subscriptions = new RealtimeSubscriptions(pingIntervalMs);
  }

  /** A snapshot of the counters: publishes, body bytes and delivered frames, in total and per channel. */
  get stats(): RealtimeStats {
    return this.#statistics.snapshot(this.#subscriptions.size);
  }

  /**
   * `POST /v1/realtime/token`: the body is a JSON array of `{ channel, name, kind }`. Answers 201
   * `{"jwt": "<token>"}`; the token is opaque and allows exactly those topics.
   */
  handleToken(authorization: string | undefined, body: string): HubResponse {
    if (!this.#isAuthorized(authorization)) {
      return unauthorizedResponse();
    }
    const request = parseTokenRequest(body);
    if ("error" in request) {
      return jsonResponse(400, { error: request.error });
    }
    return jsonResponse(201, { jwt: this.#tokens.issue(request.topics) });
  }

  /**
   * `POST /v1/realtime/publish?channel=&topic=&run_id=`: `body` is the raw request body. A JSON body
   * is delivered as that JSON, anything else as a string; `text/stream` bodies are delivered as
   * `datastream-start`, `chunk`… and `datastream-end` frames. Only the first `topic` counts.
   * Answers 200 with an empty body, 400 naming a missing parameter, or 401.
   */
  handlePublish(
    url: URL,
    authorization: string | undefined,
    body: string,
    contentType: string | undefined,
  ): HubResponse {
    if (!this.#isAuthorized(authorization)) {
      return unauthorizedResponse();
    }
    const channel = url.searchParams.get("channel");
    if (!channel) {
      return jsonResponse(400, { error: 'Missing query parameter "channel"' });
    }
    const topic = url.searchParams.get("topic");
    if (!topic) {
      return jsonResponse(400, { error: 'Missing query parameter "topic"' });
    }
    if (this.faults.takePublishFailure(channel, topic)) {
      return jsonResponse(500, { error: "The publish failed (an injected fault)" });
    }
    const address = { channel, topic, runId: url.searchParams.get("run_id") || undefined, createdAt: new Date() };
    const isStream = contentType?.split(";")[0]?.trim().toLowerCase() === "text/stream";
    const frames = isStream ? streamFrames(address, body) : [dataFrame(address, publishBodyToJson(body))];
    this.#broadcast(address, Buffer.byteLength(body, "utf8"), frames);
    return { status: 200 };
  }

  /**
   * Publishes from inside the engine (for example run lifecycle messages), exactly as an HTTP
   * publish of `JSON.stringify(data)` would. Throws for an empty channel or topic.
   */
  publish(message: RealtimePublish): void {
    if (!message.channel || !message.topic) {
      throw new RangeError(
        `[@mastra/inngest-dev-server] a realtime publish needs a channel and a topic, got ${JSON.stringify([message.channel, message.topic])}`,
      );
    }
    const dataJson = valueToJson(message.data);
    const address = { channel: message.channel, topic: message.topic, runId: message.runId, createdAt: new Date() };
    this.#broadcast(address, Buffer.byteLength(dataJson, "utf8"), [dataFrame(address, dataJson)]);
  }

  /**
   * The upgrade of `GET /v1/realtime/connect?token=…` (or `Authorization: Bearer <token>`). A token
   * this hub did not issue gets a 401 response instead of a WebSocket; after {@link close}, a 503.
   */
  handleUpgrade(request: IncomingMessage, socket: Duplex, head: Buffer): void {
    if (this.#closed) {
      rejectUpgrade(socket, jsonResponse(503, { message: "The realtime hub is closed" }));
      return;
    }
    const topics = this.#tokens.verify(tokenOf(request));
    if (!topics) {
      rejectUpgrade(socket, unauthorizedResponse());
      return;
    }
    this.#server.handleUpgrade(request, socket, head, (webSocket) => {
      if (this.#closed) {
        webSocket.close(HUB_CLOSE_CODE, "The realtime hub is closed");
        return;
      }
      this.#subscriptions.add(webSocket, topics);
    });
  }

  /**
   * Closes every subscriber socket now with code {@link FAULT_CLOSE_CODE}, as a server restart
   * would, and returns how many were open. Unlike {@link close}, new subscriptions are accepted.
   */
  disconnectAll(): number {
    return this.#subscriptions.disconnectAll(FAULT_CLOSE_CODE, "Closed by an injected fault");
  }

  /** Closes every subscriber socket with code 1001 and stops pinging; later upgrades get a 503. */
  async close(): Promise<void> {
    this.#closed = true;
    await this.#subscriptions.closeAll(HUB_CLOSE_CODE, "The realtime hub is closing");
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  #broadcast(address: FrameAddress, bytes: number, frames: readonly string[]): void {
    this.#statistics.recordPublish(address.channel, bytes);
    const delivered = this.#subscriptions.deliver(address.channel, address.topic, frames);
    this.#statistics.recordDelivered(address.channel, delivered);
  }
}

function tokenOf(request: IncomingMessage): string | undefined {
  const fromQuery = URL.parse(request.url ?? "/", "http://localhost")?.searchParams.get("token");
  if (fromQuery) {
    return fromQuery;
  }
  const authorization = request.headers.authorization;
  return authorization?.startsWith("Bearer ") ? authorization.slice("Bearer ".length).trim() : undefined;
}
