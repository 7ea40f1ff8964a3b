import { randomUUID } from "node:crypto";
import type { Event } from "@mastra/core/events";
import { ErrorCode, MastraInngestError } from "@mastra/inngest-core";

/**
 * The message published for an event: the event's own fields (a given `index` included), a new
 * `id` and `createdAt` as an ISO string, as JSON. A cache that announces stored batches on the
 * channel publishes this same form, so subscribers read both alike.
 */
export function encodeEvent(event: Omit<Event, "id" | "createdAt">, packageName: string): string {
  try {
    return JSON.stringify({ ...event, id: randomUUID(), createdAt: new Date().toISOString() });
  } catch (error) {
    throw new MastraInngestError(
      `[${packageName}] the event must be JSON-serializable (type ${JSON.stringify(String(event.type))})`,
      { code: ErrorCode.INVALID_MESSAGE, cause: error },
    );
  }
}

/** The result of {@link decodeEvent}: the event, or why the message is not one. */
export type DecodedMessage = { event: Event } | { problem: string };

/**
 * Reads a message: a JSON object with a string `type`, whose `createdAt` string becomes a `Date`.
 * Anything else is reported, never thrown, since the channel may carry foreign messages.
 */
export function decodeEvent(message: string): DecodedMessage {
  let parsed: unknown;
  try {
    parsed = JSON.parse(message);
  } catch {
    return { problem: "it is not JSON" };
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
    return { problem: "it is not a JSON object" };
  }
  const candidate = parsed as Record<string, unknown>;
  if (typeof candidate.type !== "string") {
    return { problem: "it has no string type" };
  }
  if (typeof candidate.createdAt === "string") {
    candidate.createdAt = new Date(candidate.createdAt);
  }
  return { event: candidate as unknown as Event };
}
