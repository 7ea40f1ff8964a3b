import { EventEmitterPubSub } from "@mastra/core/events";
import { controlTopic, ErrorCode, MastraInngestError, streamTopic } from "@mastra/inngest-core";
import { CachingPubSub, InMemoryStreamCache } from "@mastra/inngest-stream-cache";
import { silentLogger } from "@mastra/inngest-testing/helpers";
import { afterEach, describe, expect, it, vi } from "vitest";
import { StepPublisher } from "./step-publisher.ts";

/**
 * @see issue #18, item 8 (the fault suite, seed 2987462726, run r2987462726-601 lost words 17 to 28
 * of its last turn): one worker runs steps of several runs at once on one CachingPubSub. Another
 * run's step took the failure of a write that lost this step's events, so this step flushed
 * cleanly, its result was kept, and its events were gone for good.
 */
describe("StepPublisher on a CachingPubSub shared by the steps of several runs", () => {
  const opened: CachingPubSub[] = [];
  afterEach(async () => {
    await Promise.all(opened.splice(0).map((pubsub) => pubsub.close()));
  });

  const chunk = (runId: string, text: string) => ({
    type: "chunk",
    runId,
    data: { type: "text-delta", payload: { text } },
  });
  const texts = (events: Array<{ data?: unknown }>): unknown[] =>
    events.map((event) => (event.data as { payload: { text: string } }).payload.text);

  it("fails the step whose events were not stored, and only that one, whichever flushes first", async () => {
    const cache = new InMemoryStreamCache();
    const append = cache.appendIndexed.bind(cache);
    let faults = 0;
    // The one write of run A's batch fails (and with no retries, for good).
    vi.spyOn(cache, "appendIndexed").mockImplementation(async (request) => {
      if (faults === 0 && request.listKey.endsWith(`:${streamTopic("run-a")}:events`)) {
        faults++;
        throw new Error("cache write refused");
      }
      return append(request);
    });
    const pubsub = new CachingPubSub(new EventEmitterPubSub(), cache, {
      writeRetries: 0,
      batchWindowMs: 20,
      idleRecheckMs: 0,
      logger: silentLogger,
    });
    opened.push(pubsub);
    const stepOfRunA = new StepPublisher(pubsub, "llm:3", 0);
    const stepOfRunB = new StepPublisher(pubsub, "llm:3", 0);
    await stepOfRunA.publish(streamTopic("run-a"), chunk("run-a", "a0"));
    await stepOfRunA.publish(streamTopic("run-a"), chunk("run-a", "a1"));
    await stepOfRunB.publish(streamTopic("run-b"), chunk("run-b", "b0"));
    // Run B's step ends first: its event was stored, so it does not fail.
    await stepOfRunB.flush();
    expect(faults).toBe(1);
    // Run A's step fails, naming the cause, so Inngest retries it instead of keeping its result.
    await expect(stepOfRunA.flush()).rejects.toSatisfy(
      (error) =>
        MastraInngestError.isInstance(error, ErrorCode.TRANSPORT_CLOSED) &&
        /cache write refused/.test(error.message) &&
        error.cause instanceof Error,
    );
    const retryOfRunA = new StepPublisher(pubsub, "llm:3", 1);
    await retryOfRunA.publish(streamTopic("run-a"), chunk("run-a", "a0"));
    await retryOfRunA.publish(streamTopic("run-a"), chunk("run-a", "a1"));
    await retryOfRunA.flush();
    expect(texts(await pubsub.getHistory(streamTopic("run-a")))).toEqual(["a0", "a1"]);
    expect(texts(await pubsub.getHistory(streamTopic("run-b")))).toEqual(["b0"]);
  });
});

describe("StepPublisher subscriptions", () => {
  /** A transport whose subscriptions complete only when the test says so. */
  class SlowSubscriptions extends EventEmitterPubSub {
    readonly waiting: Array<() => void> = [];
    readonly unsubscribed: string[] = [];
    override async subscribe(...args: Parameters<EventEmitterPubSub["subscribe"]>): Promise<void> {
      await new Promise<void>((resolve) => this.waiting.push(resolve));
      return super.subscribe(...args);
    }
    override async unsubscribe(...args: Parameters<EventEmitterPubSub["unsubscribe"]>): Promise<void> {
      this.unsubscribed.push(args[0]);
      return super.unsubscribe(...args);
    }
  }

  it("does not hold the step up while the control topic's subscription is set up, and unsubscribes only once it is", async () => {
    const transport = new SlowSubscriptions();
    const step = new StepPublisher(transport, "llm:0", 0);
    const heard: unknown[] = [];
    const callback = (event: { type: string }) => void heard.push(event.type);
    // Resolves although the transport has not subscribed yet.
    await step.subscribe(controlTopic("run-1"), callback as never);
    expect(transport.waiting).toHaveLength(1);
    const unsubscribing = step.unsubscribe(controlTopic("run-1"), callback as never);
    await new Promise((resolve) => setImmediate(resolve));
    expect(transport.unsubscribed).toEqual([]);
    transport.waiting.shift()?.();
    await unsubscribing;
    expect(transport.unsubscribed).toEqual([controlTopic("run-1")]);
  });

  it("waits for the subscription of any other topic", async () => {
    const transport = new SlowSubscriptions();
    const step = new StepPublisher(transport, "llm:0", 0);
    let subscribed = false;
    const subscribing = step
      .subscribe(streamTopic("run-1"), () => {})
      .then(() => {
        subscribed = true;
      });
    await new Promise((resolve) => setImmediate(resolve));
    expect(subscribed).toBe(false);
    transport.waiting.shift()?.();
    await subscribing;
    expect(subscribed).toBe(true);
  });
});
