import { type Event, EventEmitterPubSub } from "@mastra/core/events";
import { silentLogger } from "@mastra/inngest-testing/helpers";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { CachingPubSub } from "./caching-pubsub.ts";
import { InMemoryStreamCache } from "./in-memory-stream-cache.ts";

/** Few runs in CI, many locally: the seed is printed by fast-check when a run fails. */
const runs = process.env.CI ? 25 : 60;
const topic = "agent.stream.property-run";

type Step =
  | { kind: "publish"; count: number }
  | { kind: "observe"; offsetPercent: number }
  | { kind: "disconnect"; observer: number }
  | { kind: "reconnect"; observer: number }
  | { kind: "flush" };

const step: fc.Arbitrary<Step> = fc.oneof(
  fc.record({ kind: fc.constant("publish" as const), count: fc.integer({ min: 1, max: 15 }) }),
  fc.record({ kind: fc.constant("observe" as const), offsetPercent: fc.integer({ min: 0, max: 120 }) }),
  fc.record({ kind: fc.constant("disconnect" as const), observer: fc.nat(5) }),
  fc.record({ kind: fc.constant("reconnect" as const), observer: fc.nat(5) }),
  fc.record({ kind: fc.constant("flush" as const) }),
);

/** An inner PubSub that loses some messages, chosen by the generated pattern, to exercise gap filling. */
class LossyPubSub extends EventEmitterPubSub {
  #count = 0;
  constructor(readonly losePattern: readonly boolean[]) {
    super();
  }
  override async publish(publishTopic: string, event: Omit<Event, "id" | "createdAt">): Promise<void> {
    const lose = this.losePattern.length > 0 && this.losePattern[this.#count++ % this.losePattern.length] === true;
    if (!lose) {
      await super.publish(publishTopic, event);
    }
  }
}

interface Observer {
  startOffset: number;
  received: number[];
  callback: ((event: Event) => void) | undefined;
  sawFinish: boolean;
}

describe("resumable streams (property)", () => {
  it("every observer gets the producer's log from its offset, once each, in order, across disconnects", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(step, { minLength: 1, maxLength: 25 }),
        fc.array(fc.boolean(), { maxLength: 6 }),
        fc.integer({ min: 0, max: 3 }),
        async (steps, losePattern, batchWindowMs) => {
          const pubsub = new CachingPubSub(new LossyPubSub(losePattern), new InMemoryStreamCache(), {
            batchWindowMs,
            idleRecheckMs: 20,
            historyPageSize: 7,
            logger: silentLogger,
          });
          const observers: Observer[] = [];
          let published = 0;
          const connect = async (observer: Observer): Promise<void> => {
            const from =
              observer.received.length === 0 ? observer.startOffset : (observer.received.at(-1) as number) + 1;
            const callback = (event: Event): void => {
              if (event.type === "finish") {
                observer.sawFinish = true;
              }
              if (event.index !== undefined) {
                observer.received.push(event.index);
              }
            };
            observer.callback = callback;
            await pubsub.subscribeFromOffset(topic, from, callback);
          };
          try {
            for (const current of steps) {
              if (current.kind === "publish") {
                for (let index = 0; index < current.count; index++) {
                  await pubsub.publish(topic, {
                    type: "chunk",
                    runId: "property-run",
                    data: { n: published },
                    producer: { stepId: "llm:0", attempt: 0, sequence: published },
                  } as never);
                  published++;
                }
              } else if (current.kind === "observe") {
                const observer: Observer = {
                  startOffset: Math.floor((published * current.offsetPercent) / 100),
                  received: [],
                  callback: undefined,
                  sawFinish: false,
                };
                observers.push(observer);
                await connect(observer);
              } else if (current.kind === "disconnect") {
                const observer = observers[current.observer % Math.max(observers.length, 1)];
                if (observer?.callback !== undefined) {
                  await pubsub.unsubscribe(topic, observer.callback);
                  observer.callback = undefined;
                }
              } else if (current.kind === "reconnect") {
                const observer = observers[current.observer % Math.max(observers.length, 1)];
                if (observer !== undefined && observer.callback === undefined) {
                  await connect(observer);
                }
              } else {
                await pubsub.flush();
              }
            }
            for (const observer of observers) {
              if (observer.callback === undefined) {
                await connect(observer);
              }
            }
            await pubsub.publish(topic, { type: "finish", runId: "property-run", data: {} });
            const total = published + 1;
            const deadline = Date.now() + 5_000;
            while (observers.some((observer) => !observer.sawFinish) && Date.now() < deadline) {
              await new Promise((resolve) => setTimeout(resolve, 5));
            }
            for (const observer of observers) {
              const expected = Array.from(
                { length: Math.max(total - observer.startOffset, 0) },
                (_, position) => observer.startOffset + position,
              );
              if (observer.startOffset >= total) {
                // Past the end: it waits, and never takes the terminal event as data.
                expect(observer.received).toEqual([]);
              } else {
                expect(observer.received).toEqual(expected);
              }
            }
          } finally {
            await pubsub.close();
          }
        },
      ),
      { numRuns: runs },
    );
  }, 120_000);
});
