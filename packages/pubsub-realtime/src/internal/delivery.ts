import { randomUUID } from "node:crypto";
import type { Event, EventCallback } from "@mastra/core/events";
import { describeValue } from "@mastra/inngest-core";
import type { InngestPubSubLogger } from "../inngest-pubsub-options.ts";
import { packageName } from "./package-name.ts";

const acknowledge = async (): Promise<void> => {};

/**
 * Reads a received payload as an event: an object with a string `type`, as `InngestPubSub`
 * publishes it. `createdAt` becomes a `Date`; a missing `id` or `runId` is filled in, so events
 * published by other code to the same channel are delivered too. Anything else gives `undefined`.
 */
export function toEvent(data: unknown): Event | undefined {
  if (typeof data !== "object" || data === null || Array.isArray(data)) {
    return undefined;
  }
  const candidate = data as Record<string, unknown>;
  if (typeof candidate.type !== "string") {
    return undefined;
  }
  const createdAt =
    typeof candidate.createdAt === "string" || typeof candidate.createdAt === "number"
      ? new Date(candidate.createdAt)
      : new Date();
  return {
    ...candidate,
    type: candidate.type,
    id: typeof candidate.id === "string" ? candidate.id : randomUUID(),
    runId: typeof candidate.runId === "string" ? candidate.runId : "",
    data: candidate.data,
    createdAt,
  };
}

/**
 * Calls a subscriber with an event and a no-op `ack` (Realtime keeps nothing to acknowledge). A
 * callback that throws or rejects is reported to the logger and does not stop the others.
 */
export function deliver(callback: EventCallback, event: Event, topic: string, logger: InngestPubSubLogger): void {
  const report = (error: unknown) =>
    logger.warn(`[${packageName}] a subscriber of ${topic} failed on a ${describeValue(event.type)} event`, error);
  try {
    const result = callback(event, acknowledge);
    if (result instanceof Promise) {
      result.catch(report);
    }
  } catch (error) {
    report(error);
  }
}
