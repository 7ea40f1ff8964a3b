import { randomUUID } from "node:crypto";
import type { Event } from "@mastra/core/events";
import { ErrorCode, MastraInngestError, streamTopic } from "@mastra/inngest-core";
import { type DevServer, startDevServer } from "@mastra/inngest-dev-server";
import { CachingPubSub, InMemoryStreamCache } from "@mastra/inngest-stream-cache";
import { recordingLogger, serveFunctions, silentLogger, until } from "@mastra/inngest-testing/helpers";
import { Inngest } from "inngest";
import { serve } from "inngest/node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { InngestPubSub } from "./inngest-pubsub.ts";
import { REALTIME_GAP_EVENT_TYPE, type RealtimeGapData } from "./realtime-gap.ts";
import { startRun } from "./test/start-run.ts";

const steps = 10;
const eventsPerStep = 30;
/** The step that waits until the test has closed the WebSocket, so the close falls mid-stream. */
const gateStep = 4;

describe("the server closes the WebSocket mid-stream", () => {
  let engine: DevServer;
  let app: { close(): Promise<void> };
  let realtime: InngestPubSub;
  let pubsub: CachingPubSub;
  const logger = recordingLogger();
  let openGate: () => void = () => {};
  const gate = new Promise<void>((resolve) => {
    openGate = resolve;
  });

  beforeAll(async () => {
    engine = await startDevServer({ timeScale: 0.0001 });
    const inngest = new Inngest({ id: "reconnect", isDev: true, baseUrl: engine.url, logger: silentLogger });
    // Long enough that the step after the close certainly publishes while no socket is open.
    realtime = new InngestPubSub(inngest, { logger, reconnectInitialDelayMs: 400 });
    // Publisher and observer share the process, so they share the in-memory history.
    pubsub = new CachingPubSub(realtime, new InMemoryStreamCache(), { idleRecheckMs: 300 });
    const producer = inngest.createFunction(
      { id: "stream", triggers: [{ event: "test/stream" }] },
      async ({ event, step }) => {
        const { runId } = event.data as { runId: string };
        const topic = streamTopic(runId);
        for (let index = 0; index < steps; index++) {
          await step.run(`chunks:${index}`, async () => {
            if (index === gateStep) {
              await gate;
            }
            if (index >= gateStep) {
              // Spread the rest over the reconnect, so events arrive before, during and after it.
              await new Promise((resolve) => setTimeout(resolve, 60));
            }
            for (let offset = 0; offset < eventsPerStep; offset++) {
              await pubsub.publish(topic, { type: "chunk", runId, data: { sequence: index * eventsPerStep + offset } });
            }
            await pubsub.flush();
          });
        }
        await step.run("finish", () => pubsub.publish(topic, { type: "finish", runId, data: {} }));
        return "done";
      },
    );
    app = await serveFunctions(engine, serve({ client: inngest, functions: [producer] }));
  });

  afterAll(async () => {
    openGate();
    await pubsub?.close();
    await app?.close();
    await engine?.close();
  });

  it("the subscription comes back, and the observer of a CachingPubSub ends with the full sequence", async () => {
    const runId = `reconnect-${randomUUID()}`;
    const topic = streamTopic(runId);
    const observed: Event[] = [];
    await pubsub.subscribeFromOffset(topic, 0, (event) => {
      observed.push(event);
    });
    const gaps: Event[] = [];
    await realtime.subscribe(topic, (event) => {
      if (event.type === REALTIME_GAP_EVENT_TYPE) {
        gaps.push(event);
      }
    });
    expect(engine.counters().realtime.subscriptions).toBe(1);

    const inngestRunId = await startRun(engine, "test/stream", { runId });
    const chunks = () => observed.filter((event) => event.type === "chunk");
    await until(() => chunks().length === gateStep * eventsPerStep, {
      timeoutMs: 10_000,
      description: "the first steps' events",
    });

    expect(engine.faults.closeRealtimeConnections()).toBe(1);
    expect(engine.counters().realtime.subscriptions).toBe(0);
    openGate();

    await until(() => observed.some((event) => event.type === "finish"), {
      timeoutMs: 20_000,
      description: "the finish event",
    });
    expect((await engine.waitForRun(inngestRunId)).status).toBe("Completed");

    // A second connection was made, and it is the only one open.
    await until(() => engine.counters().realtime.subscriptions === 1, {
      timeoutMs: 5_000,
      description: "a new subscription",
    });
    expect(logger.warnings.some((message) => message.includes("reopened the WebSocket of channel"))).toBe(true);
    // Some publishes really reached no one while the socket was down.
    const channel = engine.counters().realtime.channels.get(`agent:${runId}`);
    expect(channel?.messagesDelivered).toBeLessThan(channel?.publishes ?? 0);

    expect(chunks().map((event) => (event.data as { sequence: number }).sequence)).toEqual(
      Array.from({ length: steps * eventsPerStep }, (_, sequence) => sequence),
    );
    const withoutGaps = observed.filter((event) => event.type !== REALTIME_GAP_EVENT_TYPE);
    expect(withoutGaps.filter((event) => event.type === "finish")).toHaveLength(1);
    expect(withoutGaps.at(-1)?.type).toBe("finish");
    const indices = observed.map((event) => event.index);
    expect(indices).toEqual(Array.from({ length: observed.length }, (_, index) => index));

    expect(gaps).toHaveLength(1);
    expect(gaps[0]?.runId).toBe(runId);
    expect(gaps[0]?.data).toEqual({
      topic,
      reason: "reconnected",
      disconnectedAt: expect.any(String),
      attempts: 1,
    } satisfies RealtimeGapData);
  }, 40_000);
});

describe("a WebSocket that cannot be reopened", () => {
  it("tells the subscribers the feed is lost after maxReconnectAttempts, logs an error, and forgets the channel", async () => {
    const engine = await startDevServer();
    const inngest = new Inngest({ id: "give-up", isDev: true, baseUrl: engine.url, logger: silentLogger });
    const logger = recordingLogger();
    const pubsub = new InngestPubSub(inngest, {
      logger,
      maxReconnectAttempts: 2,
      reconnectInitialDelayMs: 20,
      connectTimeoutMs: 2_000,
    });
    const received: Event[] = [];
    await pubsub.subscribe("jobs.progress", (event) => {
      received.push(event);
    });

    await engine.close();
    await until(() => received.length === 1, { timeoutMs: 10_000, description: "the lost notice" });
    expect(received[0]?.type).toBe(REALTIME_GAP_EVENT_TYPE);
    expect(received[0]?.data).toMatchObject({ topic: "jobs.progress", reason: "lost", attempts: 2 });
    expect(logger.errors).toHaveLength(1);
    expect(logger.errors[0]).toMatch(/could not be reopened in 2 attempt/);

    // The channel was forgotten: a new subscribe() opens a new socket, which fails while the server is down.
    const failure = await pubsub.subscribe("jobs.progress", () => {}).catch((error: unknown) => error);
    expect(MastraInngestError.isInstance(failure, ErrorCode.TRANSPORT_CLOSED)).toBe(true);
    await pubsub.close();
  });
});
