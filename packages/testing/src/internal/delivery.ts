import type { Event, EventCallback, PubSub } from "@mastra/core/events";
import { describe, expect, it, vi } from "vitest";

type Publishable = Parameters<PubSub["publish"]>[1];

const deliveryTimeoutMs = 5_000;
const pollIntervalMs = 10;
const markerType = "conformance.marker";

/** A subscriber callback that keeps every event it is given, in arrival order. */
export interface Recorder {
  /** The events delivered so far. */
  readonly events: Event[];
  /** The callback to subscribe; the same reference unsubscribes it. */
  readonly callback: EventCallback;
}

/** Creates a {@link Recorder}. It acknowledges every delivery, as persistent backends require. */
export function createRecorder(): Recorder {
  const events: Event[] = [];
  const callback: EventCallback = async (event, ack) => {
    events.push(event);
    await ack?.();
  };
  return { events, callback };
}

/** The event the suite publishes as number `sequence` of a run. */
export function sequenceEvent(runId: string, sequence: number): Publishable {
  return { type: "conformance.event", runId, data: { sequence, text: `event ${sequence}` } };
}

/** The recorded events without the markers {@link settle} published. */
export function withoutMarkers(recorder: Recorder): Event[] {
  return recorder.events.filter((event) => event.type !== markerType);
}

/** The `sequence` each event was published with. */
export function sequencesOf(events: readonly Event[]): number[] {
  return events.map((event) => (event.data as { sequence: number }).sequence);
}

/** The integers from `from` up to, not including, `to`. */
export function range(from: number, to: number): number[] {
  return Array.from({ length: to - from }, (_, offset) => from + offset);
}

/** A sorted copy, for comparing what arrived regardless of order; a missing number sorts first. */
export function ascending(numbers: ReadonlyArray<number | undefined>): Array<number | undefined> {
  return [...numbers].sort(
    (left, right) => (left ?? Number.NEGATIVE_INFINITY) - (right ?? Number.NEGATIVE_INFINITY) || 0,
  );
}

/** Retries `assertion` until it passes, for up to 5 seconds: deliveries are asynchronous. */
export async function waitForDelivery(assertion: () => void): Promise<void> {
  await vi.waitFor(assertion, { timeout: deliveryTimeoutMs, interval: pollIntervalMs });
}

/** Waits until `count` events arrived; the caller then asserts the exact count, so a surplus fails at once. */
export async function waitForEvents(recorder: Recorder, count: number): Promise<void> {
  await waitForDelivery(() => expect(recorder.events.length).toBeGreaterThanOrEqual(count));
}

/** Publishes events `from..to-1` of a run to `topic`, one after the other. */
export async function publishSequence(
  pubsub: PubSub,
  topic: string,
  runId: string,
  from: number,
  to: number,
): Promise<void> {
  for (const sequence of range(from, to)) {
    await pubsub.publish(topic, sequenceEvent(runId, sequence));
  }
}

/**
 * Publishes a marker and waits until every recorder has it. Delivery is asynchronous, so an event
 * delivered twice may still be on its way when the expected count is first reached; the marker
 * comes after it on the same topic and gives it that time.
 */
export async function settle(
  pubsub: PubSub,
  topic: string,
  runId: string,
  recorders: readonly Recorder[],
): Promise<void> {
  await pubsub.publish(topic, { type: markerType, runId, data: {} });
  await waitForDelivery(() => {
    for (const recorder of recorders) {
      expect(recorder.events.some((event) => event.type === markerType)).toBe(true);
    }
  });
}

/**
 * Checks a replaying subscription: indices `from..end-1`, each once, each carrying the data
 * published at that index; the replayed part (`from..live-1`) first and in order, and everything
 * in order when the PubSub is ordered.
 */
export function expectReplayed(
  events: readonly Event[],
  expected: { from: number; live: number; end: number; ordered: boolean },
): void {
  const indices = events.map((event) => event.index);
  expect(ascending(indices)).toEqual(range(expected.from, expected.end));
  expect(indices.slice(0, expected.live - expected.from)).toEqual(range(expected.from, expected.live));
  if (expected.ordered) {
    expect(indices).toEqual(range(expected.from, expected.end));
  }
  for (const event of events) {
    expect((event.data as { sequence: number }).sequence).toBe(event.index);
  }
}

/**
 * `it`, or nothing when `condition` holds: a case that a declared capability rules out is not
 * registered at all, rather than reported as skipped.
 */
export function itUnless(condition: boolean): typeof it {
  return condition ? ((() => {}) as unknown as typeof it) : it;
}

/** `describe`, or nothing when `condition` holds: a group that a declared capability rules out. */
export function describeUnless(condition: boolean): typeof describe {
  return condition ? ((() => {}) as unknown as typeof describe) : describe;
}
