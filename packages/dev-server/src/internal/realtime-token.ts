import { createHmac, randomBytes, timingSafeEqual } from "node:crypto";

/** One (channel, topic) pair a subscription may receive. */
export interface RealtimeTopic {
  /** The channel name, compared exactly (for example `run:01J…`). */
  channel: string;
  /** The topic name within the channel. */
  topic: string;
}

/** What a token request body parses to: the topics, or why it was rejected. */
export type TokenRequest = { topics: RealtimeTopic[] } | { error: string };

/**
 * Parses the body of `POST /v1/realtime/token`: a JSON array of `{ channel, name, kind }`, one per
 * topic. `kind` is ignored, as every topic the SDKs request is a run topic.
 */
export function parseTokenRequest(body: string): TokenRequest {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    return { error: "Invalid request: the body must be a JSON array of topics" };
  }
  if (!Array.isArray(parsed)) {
    return { error: "Invalid request: the body must be a JSON array of topics" };
  }
  const topics: RealtimeTopic[] = [];
  for (const [index, item] of parsed.entries()) {
    const entry = typeof item === "object" && item !== null ? (item as Record<string, unknown>) : {};
    if (typeof entry.channel !== "string" || entry.channel === "") {
      return { error: `Invalid request: topic ${index} needs a non-empty string "channel"` };
    }
    if (typeof entry.name !== "string" || entry.name === "") {
      return { error: `Invalid request: topic ${index} needs a non-empty string "name"` };
    }
    topics.push({ channel: entry.channel, topic: entry.name });
  }
  return { topics };
}

/**
 * Issues and verifies subscription tokens. A token is `base64url(JSON topics).base64url(HMAC)`,
 * signed with a key that lives only in this process: clients treat it as opaque, it cannot be
 * forged to widen a subscription, and nothing is stored per token, so memory stays constant.
 */
export class RealtimeTokens {
  readonly #key: Buffer = randomBytes(32);

  /** A token that allows exactly `topics`. */
  issue(topics: readonly RealtimeTopic[]): string {
    const pairs = topics.map(({ channel, topic }) => [channel, topic]);
    const payload = Buffer.from(JSON.stringify(pairs), "utf8").toString("base64url");
    return `${payload}.${this.#sign(payload)}`;
  }

  /** The topics of a token this instance issued, or `undefined` for anything else. */
  verify(token: string | undefined | null): RealtimeTopic[] | undefined {
    if (!token) {
      return undefined;
    }
    const separator = token.lastIndexOf(".");
    if (separator <= 0) {
      return undefined;
    }
    const payload = token.slice(0, separator);
    const signature = Buffer.from(token.slice(separator + 1), "base64url");
    const expected = Buffer.from(this.#sign(payload), "base64url");
    if (signature.length !== expected.length || !timingSafeEqual(signature, expected)) {
      return undefined;
    }
    const pairs: unknown = JSON.parse(Buffer.from(payload, "base64url").toString("utf8"));
    if (!Array.isArray(pairs)) {
      return undefined;
    }
    return pairs.map(([channel, topic]: [string, string]) => ({ channel, topic }));
  }

  #sign(payload: string): string {
    return createHmac("sha256", this.#key).update(payload).digest("base64url");
  }
}
