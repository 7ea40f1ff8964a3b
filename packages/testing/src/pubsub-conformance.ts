import type { PubSub } from "@mastra/core/events";
import { describe, expect, it, onTestFinished } from "vitest";
import {
  ascending,
  createRecorder,
  describeUnless,
  expectReplayed,
  itUnless,
  publishSequence,
  range,
  sequenceEvent,
  sequencesOf,
  settle,
  waitForEvents,
  withoutMarkers,
} from "./internal/delivery.ts";
import { createNamespace } from "./internal/namespace.ts";

/** What {@link describePubSubConformance} passes to `create`. */
export interface PubSubConformanceContext {
  /**
   * A fresh random namespace, one per test, and the start of every topic the suite uses. Within a
   * test, every instance gets the same context, so a key prefix derived from it is shared by them.
   */
  namespace: string;
}

/**
 * What the PubSub guarantees beyond the required cases. Capabilities are declared, never inferred:
 * the cases of an undeclared capability are skipped, and a declared one must pass.
 */
export interface PubSubConformanceCapabilities {
  /**
   * Events published in sequence to one topic arrive in that order.
   * @default false
   */
  ordered?: boolean;
  /**
   * `subscribeWithReplay`, `subscribeFromOffset` and `getHistory` return earlier events, each with
   * its `index`; `supportsOffsets` is `true`.
   * @default false
   */
  replay?: boolean;
  /**
   * A second instance created with the same context receives what the first publishes, as another
   * process sharing the backend would.
   * @default false
   */
  crossProcess?: boolean;
  /**
   * The instance has a `close()` that can be called twice.
   * @default true
   */
  closable?: boolean;
  /**
   * `publish()` rejects once `close()` has resolved. Applies only to closable instances.
   * @default true
   */
  rejectsPublishAfterClose?: boolean;
}

/** The PubSub under test, for {@link describePubSubConformance}. */
export interface PubSubConformanceSetup {
  /** Shown in the suite's title, e.g. `"redis"`. */
  name: string;
  /** Creates an instance. Called before every test, and again within a test for a second instance. */
  create: (context: PubSubConformanceContext) => PubSub | Promise<PubSub>;
  /**
   * Releases an instance after every test, including tests that closed it already.
   * @default calls `close()` when the instance has one
   */
  destroy?: (pubsub: PubSub) => void | Promise<void>;
  /** What the PubSub guarantees beyond the required cases. */
  capabilities?: PubSubConformanceCapabilities;
}

const testTimeoutMs = 20_000;
const orderedEventCount = 200;
const racingEventCount = 50;

function closeOf(pubsub: PubSub): (() => Promise<void>) | undefined {
  const close = (pubsub as { close?: unknown }).close;
  return typeof close === "function" ? () => Promise.resolve(close.call(pubsub)) : undefined;
}

function closeOrFail(pubsub: PubSub): () => Promise<void> {
  const close = closeOf(pubsub);
  if (close === undefined) {
    throw new Error("the instance has no close(); declare capabilities.closable: false if that is intended");
  }
  return close;
}

/**
 * Registers vitest `describe`/`it` blocks that check a Mastra `PubSub`: delivery, fan-out, topic
 * isolation, `unsubscribe`, `flush`, `clearTopic` and `close`, plus per-topic order, replay from an
 * offset and delivery across instances when the matching capability is declared. Each test uses
 * topics under a fresh namespace and destroys what it created.
 *
 * @example
 * import { EventEmitterPubSub } from "@mastra/core/events";
 * import { describePubSubConformance } from "@mastra/inngest-testing/pubsub";
 *
 * describePubSubConformance({
 *   name: "@mastra/core EventEmitterPubSub",
 *   create: () => new EventEmitterPubSub(),
 *   // Its close() removes the listeners and leaves publish() working.
 *   capabilities: { ordered: true, rejectsPublishAfterClose: false },
 * });
 */
export function describePubSubConformance(setup: PubSubConformanceSetup): void {
  const ordered = setup.capabilities?.ordered === true;
  const replay = setup.capabilities?.replay === true;
  const crossProcess = setup.capabilities?.crossProcess === true;
  const closable = setup.capabilities?.closable !== false;
  const rejectsPublishAfterClose = closable && setup.capabilities?.rejectsPublishAfterClose !== false;
  const destroy = setup.destroy ?? ((pubsub: PubSub) => closeOf(pubsub)?.());

  async function openPubSub(): Promise<{
    pubsub: PubSub;
    runId: string;
    topic: (name: string) => string;
    createAnother: () => Promise<PubSub>;
  }> {
    const namespace = createNamespace();
    const instances: PubSub[] = [];
    onTestFinished(async () => {
      for (const instance of instances.reverse()) {
        await destroy(instance);
      }
    });
    const createAnother = async (): Promise<PubSub> => {
      const instance = await setup.create({ namespace });
      instances.push(instance);
      return instance;
    };
    const pubsub = await createAnother();
    return { pubsub, runId: `${namespace}-run`, topic: (name) => `${namespace}.${name}`, createAnother };
  }

  describe(`PubSub conformance: ${setup.name}`, { timeout: testTimeoutMs }, () => {
    it(`supportsOffsets is ${replay}, as the replay capability declares`, async () => {
      const { pubsub } = await openPubSub();
      expect(pubsub.supportsOffsets).toBe(replay);
    });

    describe("delivery", () => {
      it("a subscriber gets the type, runId and data of an event published once subscribe() resolved", async () => {
        const { pubsub, runId, topic } = await openPubSub();
        const recorder = createRecorder();
        await pubsub.subscribe(topic("stream"), recorder.callback);
        const data = { text: "hello", count: 2, nested: { list: [1, "two", null], flag: true } };
        await pubsub.publish(topic("stream"), { type: "conformance.delivery", runId, data });
        await waitForEvents(recorder, 1);
        expect(recorder.events).toHaveLength(1);
        expect(recorder.events[0]?.type).toBe("conformance.delivery");
        expect(recorder.events[0]?.runId).toBe(runId);
        expect(recorder.events[0]?.data).toEqual(data);
      });

      // A replaying PubSub assigns indices itself, so a publisher's index only travels through one that does not.
      itUnless(replay)("an index set by the publisher arrives unchanged", async () => {
        const { pubsub, runId, topic } = await openPubSub();
        const recorder = createRecorder();
        await pubsub.subscribe(topic("stream"), recorder.callback);
        await pubsub.publish(topic("stream"), { ...sequenceEvent(runId, 0), index: 7 });
        await waitForEvents(recorder, 1);
        expect(recorder.events).toHaveLength(1);
        expect(recorder.events[0]?.index).toBe(7);
      });

      it("every subscriber of a topic gets each event once", async () => {
        const { pubsub, runId, topic } = await openPubSub();
        const recorders = [createRecorder(), createRecorder(), createRecorder()];
        for (const recorder of recorders) {
          await pubsub.subscribe(topic("stream"), recorder.callback);
        }
        await publishSequence(pubsub, topic("stream"), runId, 0, 2);
        await settle(pubsub, topic("stream"), runId, recorders);
        for (const recorder of recorders) {
          expect(ascending(sequencesOf(withoutMarkers(recorder)))).toEqual([0, 1]);
        }
      });

      it("a subscriber gets only the events of its own topic, even when its name prefixes another", async () => {
        const { pubsub, runId, topic } = await openPubSub();
        const parent = createRecorder();
        const child = createRecorder();
        await pubsub.subscribe(topic("alpha"), parent.callback);
        await pubsub.subscribe(topic("alpha.beta"), child.callback);
        await pubsub.publish(topic("alpha"), sequenceEvent(runId, 1));
        await pubsub.publish(topic("alpha.beta"), sequenceEvent(runId, 2));
        await pubsub.publish(topic("unrelated"), sequenceEvent(runId, 3));
        await settle(pubsub, topic("alpha"), runId, [parent]);
        await settle(pubsub, topic("alpha.beta"), runId, [child]);
        expect(sequencesOf(withoutMarkers(parent))).toEqual([1]);
        expect(sequencesOf(withoutMarkers(child))).toEqual([2]);
      });
    });

    describe("unsubscribe", () => {
      it("unsubscribe with the same callback stops its delivery and leaves other callbacks subscribed", async () => {
        const { pubsub, runId, topic } = await openPubSub();
        const leaving = createRecorder();
        const staying = createRecorder();
        await pubsub.subscribe(topic("stream"), leaving.callback);
        await pubsub.subscribe(topic("stream"), staying.callback);
        await pubsub.publish(topic("stream"), sequenceEvent(runId, 0));
        await waitForEvents(leaving, 1);
        expect(leaving.events).toHaveLength(1);

        await pubsub.unsubscribe(topic("stream"), leaving.callback);
        await pubsub.publish(topic("stream"), sequenceEvent(runId, 1));
        await settle(pubsub, topic("stream"), runId, [staying]);
        expect(ascending(sequencesOf(withoutMarkers(staying)))).toEqual([0, 1]);
        expect(sequencesOf(leaving.events)).toEqual([0]);
      });

      it("unsubscribe of a callback that was never subscribed resolves", async () => {
        const { pubsub, topic } = await openPubSub();
        await pubsub.unsubscribe(topic("stream"), createRecorder().callback);
      });
    });

    describeUnless(!ordered)("order", () => {
      itUnless(!ordered)(`${orderedEventCount} events published in sequence arrive in that order`, async () => {
        const { pubsub, runId, topic } = await openPubSub();
        const recorder = createRecorder();
        await pubsub.subscribe(topic("stream"), recorder.callback);
        await publishSequence(pubsub, topic("stream"), runId, 0, orderedEventCount);
        await waitForEvents(recorder, orderedEventCount);
        expect(recorder.events).toHaveLength(orderedEventCount);
        expect(sequencesOf(recorder.events)).toEqual(range(0, orderedEventCount));
      });
    });

    describeUnless(!replay)("replay", () => {
      itUnless(!replay)(
        "subscribeWithReplay delivers earlier events, then live ones, each once, with index 0..n-1",
        async () => {
          const { pubsub, runId, topic } = await openPubSub();
          await publishSequence(pubsub, topic("stream"), runId, 0, 5);
          const recorder = createRecorder();
          await pubsub.subscribeWithReplay(topic("stream"), recorder.callback);
          await publishSequence(pubsub, topic("stream"), runId, 5, 8);
          await settle(pubsub, topic("stream"), runId, [recorder]);
          expectReplayed(withoutMarkers(recorder), { from: 0, live: 5, end: 8, ordered });
        },
      );

      itUnless(!replay)("subscribeFromOffset(topic, 3) delivers exactly indices 3..n-1, then live ones", async () => {
        const { pubsub, runId, topic } = await openPubSub();
        await publishSequence(pubsub, topic("stream"), runId, 0, 6);
        const recorder = createRecorder();
        await pubsub.subscribeFromOffset(topic("stream"), 3, recorder.callback);
        await publishSequence(pubsub, topic("stream"), runId, 6, 8);
        await settle(pubsub, topic("stream"), runId, [recorder]);
        expectReplayed(withoutMarkers(recorder), { from: 3, live: 6, end: 8, ordered });
      });

      itUnless(!replay)("getHistory(topic, offset) returns the events from that index on", async () => {
        const { pubsub, runId, topic } = await openPubSub();
        await publishSequence(pubsub, topic("stream"), runId, 0, 5);
        const all = await pubsub.getHistory(topic("stream"));
        expect(all.map((event) => event.index)).toEqual(range(0, 5));
        expect(all[0]).toMatchObject(sequenceEvent(runId, 0));
        const fromTwo = await pubsub.getHistory(topic("stream"), 2);
        expect(fromTwo.map((event) => event.index)).toEqual([2, 3, 4]);
        expect(sequencesOf(fromTwo)).toEqual([2, 3, 4]);
        expect(await pubsub.getHistory(topic("stream"), 5)).toEqual([]);
        expect(await pubsub.getHistory(topic("empty"))).toEqual([]);
      });

      itUnless(!replay)("subscribeWithReplay while events are being published delivers each once", async () => {
        const { pubsub, runId, topic } = await openPubSub();
        // Not awaited: the subscription starts while the publisher is part-way through.
        const publishing = publishSequence(pubsub, topic("stream"), runId, 0, racingEventCount);
        const recorder = createRecorder();
        await pubsub.subscribeWithReplay(topic("stream"), recorder.callback);
        await publishing;
        await settle(pubsub, topic("stream"), runId, [recorder]);
        const events = withoutMarkers(recorder);
        expect(ascending(events.map((event) => event.index))).toEqual(range(0, racingEventCount));
        for (const event of events) {
          expect((event.data as { sequence: number }).sequence).toBe(event.index);
        }
      });

      itUnless(!replay)("clearTopic removes the history", async () => {
        const { pubsub, runId, topic } = await openPubSub();
        await publishSequence(pubsub, topic("stream"), runId, 0, 3);
        await pubsub.clearTopic(topic("stream"));
        expect(await pubsub.getHistory(topic("stream"))).toEqual([]);
      });
    });

    describeUnless(!crossProcess)("across instances", () => {
      itUnless(!crossProcess)(
        "a second instance created with the same context receives what the first publishes",
        async () => {
          const { pubsub, runId, topic, createAnother } = await openPubSub();
          const second = await createAnother();
          const recorder = createRecorder();
          await second.subscribe(topic("stream"), recorder.callback);
          await publishSequence(pubsub, topic("stream"), runId, 0, 3);
          await settle(pubsub, topic("stream"), runId, [recorder]);
          expect(withoutMarkers(recorder)).toHaveLength(3);
          expect(withoutMarkers(recorder)[0]).toMatchObject(sequenceEvent(runId, 0));
          expect(ascending(sequencesOf(withoutMarkers(recorder)))).toEqual([0, 1, 2]);
        },
      );

      itUnless(!(crossProcess && replay))("a second instance replays what the first published", async () => {
        const { pubsub, runId, topic, createAnother } = await openPubSub();
        await publishSequence(pubsub, topic("stream"), runId, 0, 3);
        const second = await createAnother();
        const recorder = createRecorder();
        await second.subscribeWithReplay(topic("stream"), recorder.callback);
        await publishSequence(pubsub, topic("stream"), runId, 3, 5);
        await settle(pubsub, topic("stream"), runId, [recorder]);
        expectReplayed(withoutMarkers(recorder), { from: 0, live: 3, end: 5, ordered });
      });
    });

    describe("flush, clearTopic and close", () => {
      it("flush resolves, with and without deliveries in flight", async () => {
        const { pubsub, runId, topic } = await openPubSub();
        await pubsub.flush();
        const recorder = createRecorder();
        await pubsub.subscribe(topic("stream"), recorder.callback);
        await publishSequence(pubsub, topic("stream"), runId, 0, 3);
        await pubsub.flush();
        await waitForEvents(recorder, 3);
        expect(recorder.events).toHaveLength(3);
      });

      it("clearTopic resolves on a topic with events and on one without", async () => {
        const { pubsub, runId, topic } = await openPubSub();
        await publishSequence(pubsub, topic("stream"), runId, 0, 2);
        await pubsub.clearTopic(topic("stream"));
        await pubsub.clearTopic(topic("empty"));
      });

      itUnless(!closable)("close() can be called twice", async () => {
        const { pubsub } = await openPubSub();
        const close = closeOrFail(pubsub);
        await close();
        await close();
      });

      itUnless(!rejectsPublishAfterClose)("publish after close() rejects", async () => {
        const { pubsub, runId, topic } = await openPubSub();
        await closeOrFail(pubsub)();
        await expect(pubsub.publish(topic("stream"), sequenceEvent(runId, 0))).rejects.toBeInstanceOf(Error);
      });
    });
  });
}
