import type { Event } from "@mastra/core/events";
import { describeValue } from "./describe-value.ts";
import { ErrorCode } from "./error-codes.ts";
import { MastraInngestError } from "./mastra-inngest-error.ts";
import type { ProducerKey, StreamEvent, StreamEventEnvelope } from "./stream-event.ts";

/** The `kind` that marks a transport message as a batch of events. */
export const EVENT_BATCH_KIND = "mastra-inngest.batch";

/**
 * Many events in one transport message, in publish order. Sending a batch instead of one message
 * per event is what keeps publishing at one round trip per flush rather than per chunk.
 */
export interface EventBatch {
  /** Marks the message as a batch. */
  kind: typeof EVENT_BATCH_KIND;
  /** The envelope version; readers reject versions they do not know. */
  version: 1;
  /** The events, in publish order. */
  events: StreamEventEnvelope[];
}

/** Converts an event to its JSON form, with `createdAt` as an ISO string. */
export function toEnvelope(event: StreamEvent | Event): StreamEventEnvelope {
  const envelope: StreamEventEnvelope = {
    type: event.type,
    id: event.id,
    runId: event.runId,
    data: event.data,
    createdAt: event.createdAt instanceof Date ? event.createdAt.toISOString() : String(event.createdAt),
  };
  if (event.index !== undefined) {
    envelope.index = event.index;
  }
  const producer = (event as StreamEvent).producer;
  if (producer !== undefined) {
    envelope.producer = producer;
  }
  return envelope;
}

/** Converts an envelope back to an event, with `createdAt` as a `Date`. */
export function fromEnvelope(envelope: StreamEventEnvelope): StreamEvent {
  const event: StreamEvent = {
    type: envelope.type,
    id: envelope.id,
    runId: envelope.runId,
    data: envelope.data,
    createdAt: new Date(envelope.createdAt),
  };
  if (envelope.index !== undefined) {
    event.index = envelope.index;
  }
  if (envelope.producer !== undefined) {
    event.producer = envelope.producer;
  }
  return event;
}

/** Packs events, in order, into one batch message. */
export function createEventBatch(events: ReadonlyArray<StreamEvent | Event>): EventBatch {
  return { kind: EVENT_BATCH_KIND, version: 1, events: events.map(toEnvelope) };
}

/** Whether a transport message is a batch (of any version). */
export function isEventBatch(message: unknown): message is EventBatch {
  return typeof message === "object" && message !== null && (message as { kind?: unknown }).kind === EVENT_BATCH_KIND;
}

/**
 * Reads a transport message, a batch or a single event envelope (already parsed from JSON), and
 * returns its events in order. Anything else throws `INVALID_MESSAGE`, so a foreign or corrupted
 * message is reported instead of delivered half-read.
 */
export function unpackEvents(message: unknown): StreamEvent[] {
  if (isEventBatch(message)) {
    if (message.version !== 1 || !Array.isArray(message.events)) {
      throw invalidMessage(`a batch of version 1 with an events array, got version ${describeValue(message.version)}`);
    }
    return message.events.map((envelope, position) => fromEnvelope(assertEnvelope(envelope, `events[${position}]`)));
  }
  return [fromEnvelope(assertEnvelope(message, "message"))];
}

function assertEnvelope(value: unknown, field: string): StreamEventEnvelope {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw invalidMessage(`${field} to be an event object, got ${describeValue(value)}`);
  }
  const candidate = value as Record<string, unknown>;
  for (const name of ["type", "id", "runId"] as const) {
    if (typeof candidate[name] !== "string") {
      throw invalidMessage(`${field}.${name} to be a string, got ${describeValue(candidate[name])}`);
    }
  }
  if (typeof candidate.createdAt !== "string" && !(candidate.createdAt instanceof Date)) {
    throw invalidMessage(`${field}.createdAt to be an ISO date string, got ${describeValue(candidate.createdAt)}`);
  }
  if (candidate.index !== undefined && !(Number.isSafeInteger(candidate.index) && (candidate.index as number) >= 0)) {
    throw invalidMessage(`${field}.index to be a non-negative integer, got ${describeValue(candidate.index)}`);
  }
  if (candidate.producer !== undefined && !isProducerKey(candidate.producer)) {
    throw invalidMessage(`${field}.producer to be { stepId: string, attempt: integer, sequence: integer }`);
  }
  return candidate as unknown as StreamEventEnvelope;
}

function isProducerKey(value: unknown): value is ProducerKey {
  if (typeof value !== "object" || value === null) {
    return false;
  }
  const candidate = value as Record<string, unknown>;
  return (
    typeof candidate.stepId === "string" &&
    Number.isSafeInteger(candidate.attempt) &&
    (candidate.attempt as number) >= 0 &&
    Number.isSafeInteger(candidate.sequence) &&
    (candidate.sequence as number) >= 0
  );
}

function invalidMessage(expected: string): MastraInngestError {
  return new MastraInngestError(`[@mastra/inngest-core] a transport message must have ${expected}`, {
    code: ErrorCode.INVALID_MESSAGE,
  });
}
