import type { Event } from "@mastra/core/events";

/**
 * Who produced an event, so a publish that is repeated (a retried step, a resent command) can be
 * recognised. A step publishes its events with increasing `sequence`; a retry of the step publishes
 * with a higher `attempt` and starts its sequence again at 0.
 */
export interface ProducerKey {
  /** The Inngest step id that published the event, for example `llm:0`. */
  stepId: string;
  /** The Inngest attempt of that step, 0 for the first. */
  attempt: number;
  /** The position of the event among those the attempt published, from 0. */
  sequence: number;
}

/**
 * A stream event as it travels and is stored: `@mastra/core`'s `Event` plus the producer key, and
 * once stored, its `index` (the offset a reconnecting client passes to `observe()`).
 */
export interface StreamEvent extends Event {
  /** Who published the event; absent for events that no step produced (for example control messages). */
  producer?: ProducerKey;
}

/**
 * A stream event in its JSON form: what a transport message or a cache entry holds. `createdAt` is
 * an ISO 8601 string, because JSON has no dates.
 */
export interface StreamEventEnvelope {
  /** The event type, one of `@mastra/core`'s `AgentStreamEventTypes` on agent topics. */
  type: string;
  /** The event's id, unique within its topic. */
  id: string;
  /** The run the event belongs to. */
  runId: string;
  /** The payload. */
  data: unknown;
  /** When the event was created, as an ISO 8601 string. */
  createdAt: string;
  /** The event's position in its topic's history, once stored. */
  index?: number;
  /** Who published the event. */
  producer?: ProducerKey;
}

/**
 * The event types after which a run's stream carries nothing more: `finish`, `error` and `abort`
 * (the values of `@mastra/core`'s `AgentStreamEventTypes`). `suspended` is not among them: the run
 * continues after `resume()`.
 */
export const TERMINAL_EVENT_TYPES: readonly string[] = Object.freeze(["finish", "error", "abort"]);

/** Whether an event of this type ends its run's stream. */
export function isTerminalEventType(type: string): boolean {
  return TERMINAL_EVENT_TYPES.includes(type);
}

/**
 * The event types with which a run starts to wait for a decision: core's `suspended`, and
 * `run-waiting`, which this project's agent publishes once every call that needs a decision asked
 * for it. Nothing follows them until the wait ends, so the history they close is kept as long as
 * the wait can last (the stream cache's `suspendedTtlMs`).
 */
export const WAITING_EVENT_TYPES: readonly string[] = Object.freeze(["suspended", "run-waiting"]);

/** Whether an event of this type starts its run's wait for a decision. */
export function isWaitingEventType(type: string): boolean {
  return WAITING_EVENT_TYPES.includes(type);
}

/** A producer key as one string, `<attempt>:<sequence>@<stepId>`, for use as a hash field or map key. */
export function formatProducerKey(producer: ProducerKey): string {
  return `${producer.attempt}:${producer.sequence}@${producer.stepId}`;
}
