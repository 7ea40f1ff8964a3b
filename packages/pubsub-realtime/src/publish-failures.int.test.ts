import { randomUUID } from "node:crypto";
import type { Event } from "@mastra/core/events";
import { controlTopic, ErrorCode, MastraInngestError, streamTopic } from "@mastra/inngest-core";
import { type DevServer, startDevServer } from "@mastra/inngest-dev-server";
import { recordingLogger, serveFunctions, silentLogger, until } from "@mastra/inngest-testing/helpers";
import { Inngest } from "inngest";
import { serve } from "inngest/node";
import { afterAll, beforeAll, expect, it } from "vitest";
import { InngestPubSub } from "./inngest-pubsub.ts";
import { startRun } from "./test/start-run.ts";

let engine: DevServer;
let app: { close(): Promise<void> };
let inngest: Inngest.Any;
let pubsub: InngestPubSub;
const logger = recordingLogger();

beforeAll(async () => {
  engine = await startDevServer({ timeScale: 0.0001 });
  inngest = new Inngest({ id: "publish-failures", isDev: true, baseUrl: engine.url, logger: silentLogger });
  pubsub = new InngestPubSub(inngest, { logger });
  const producer = inngest.createFunction(
    { id: "chunk-then-finish", triggers: [{ event: "test/chunk-then-finish" }] },
    async ({ event, step }) => {
      const { runId } = event.data as { runId: string };
      await step.run("chunk", () => pubsub.publish(streamTopic(runId), { type: "chunk", runId, data: { text: "a" } }));
      await step.run("finish", () => pubsub.publish(streamTopic(runId), { type: "finish", runId, data: {} }));
      return "done";
    },
  );
  app = await serveFunctions(engine, serve({ client: inngest, functions: [producer] }));
});

afterAll(async () => {
  await pubsub?.close();
  await app?.close();
  await engine?.close();
});

it("a failed terminal publish fails the step, Inngest retries it, and the run completes; a failed chunk is logged and dropped", async () => {
  const runId = `failures-${randomUUID()}`;
  const received: Event[] = [];
  await pubsub.subscribe(streamTopic(runId), (event) => {
    received.push(event);
  });
  const sdkMessages: Array<{ runId?: string; data: unknown }> = [];
  const sdkSubscription = await inngest.realtime.subscribe({
    channel: `agent:${runId}`,
    topics: ["stream"],
    onMessage: (message) => {
      sdkMessages.push(message);
    },
  });
  // The first two publishes to the run's channel fail: the chunk, then the finish's first attempt.
  const fault = engine.faults.failRealtimePublishes({ channel: `agent:${runId}`, times: 2 });

  const inngestRunId = await startRun(engine, "test/chunk-then-finish", { runId });
  const run = await engine.waitForRun(inngestRunId);

  expect(fault.triggered).toBe(2);
  expect(run.status).toBe("Completed");
  const attempts = (name: string) =>
    run.steps.filter((step) => step.name === name).map((step) => [step.attempt, step.outcome]);
  expect(attempts("chunk")).toEqual([[0, "ok"]]);
  expect(attempts("finish")).toEqual([
    [0, "error"],
    [1, "ok"],
  ]);

  await until(() => received.length === 1 && sdkMessages.length === 1, {
    timeoutMs: 5_000,
    description: "the finish event",
  });
  expect(received.map((event) => event.type)).toEqual(["finish"]);
  // Published inside a function run, so Inngest knows which run sent it.
  expect(sdkMessages[0]?.runId).toBe(inngestRunId);
  expect(sdkMessages[0]?.data).toMatchObject({ type: "finish", runId, id: received[0]?.id });
  sdkSubscription.close();

  const dropped = logger.warnings.filter((message) => message.includes("dropped"));
  expect(dropped).toHaveLength(1);
  expect(dropped[0]).toContain(`"chunk" event of run "${runId}"`);
});

it("a failed control publish rejects with TRANSPORT_CLOSED, the SDK's error as its cause", async () => {
  const runId = `control-${randomUUID()}`;
  engine.faults.failRealtimePublishes({ channel: `agent:${runId}` });
  const failure = await pubsub
    .publish(controlTopic(runId), { type: "abort", runId, data: {} })
    .catch((error: unknown) => error);
  expect(MastraInngestError.isInstance(failure, ErrorCode.TRANSPORT_CLOSED)).toBe(true);
  expect(String((failure as Error).cause)).toMatch(/500/);
});

it("a failed publish of a batch holding a terminal event rejects", async () => {
  const runId = `batch-${randomUUID()}`;
  engine.faults.failRealtimePublishes({ channel: `agent:${runId}` });
  const createdAt = new Date().toISOString();
  const batch = {
    kind: "mastra-inngest.batch",
    version: 1,
    events: [
      { type: "chunk", id: "1", runId, data: {}, createdAt, index: 0 },
      { type: "error", id: "2", runId, data: {}, createdAt, index: 1 },
    ],
  };
  await expect(
    pubsub.publish(streamTopic(runId), { type: "mastra-inngest.batch", runId, data: batch }),
  ).rejects.toMatchObject({ code: ErrorCode.TRANSPORT_CLOSED });
});
