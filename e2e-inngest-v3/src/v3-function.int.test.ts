// The v3 SDK runs in its own package and files: v3 and v4 keep their async context in the same
// global (Symbol.for("inngest:als")) in different shapes, so they cannot share a process.
import { randomUUID } from "node:crypto";
import { subscribe } from "@inngest/realtime";
import type { Event } from "@mastra/core/events";
import { type DevServer, startDevServer } from "@mastra/inngest-dev-server";
import { createRunSubscriptionToken, InngestPubSub, REALTIME_GAP_EVENT_TYPE } from "@mastra/inngest-pubsub-realtime";
import { type HttpTestServer, serveFunctions, silentLogger, until } from "@mastra/inngest-testing/helpers";
import { Inngest } from "inngest-v3";
import { serve } from "inngest-v3/node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const chunkCount = 100;

let engine: DevServer;
let app: HttpTestServer;
let inngest: Inngest;
let pubsub: InngestPubSub;

async function startRun(name: string, runId: string): Promise<string> {
  const [eventId] = await engine.send({ name, data: { runId } });
  const inngestRunId = engine.runsForEvent(eventId ?? "")[0]?.id;
  if (inngestRunId === undefined) {
    throw new Error(`no run for ${name}`);
  }
  return inngestRunId;
}

beforeAll(async () => {
  engine = await startDevServer({ timeScale: 0.0001 });
  inngest = new Inngest({ id: "pubsub-v3", isDev: true, baseUrl: engine.url, logger: silentLogger });
  pubsub = new InngestPubSub(inngest, { logger: silentLogger });
  const stream = inngest.createFunction({ id: "stream" }, { event: "test/stream" }, async ({ event, step }) => {
    const runId = (event.data as { runId: string }).runId;
    const topic = `agent.stream.${runId}`;
    for (let first = 0; first < chunkCount; first += 25) {
      await step.run(`chunks:${first}`, async () => {
        for (let sequence = first; sequence < first + 25; sequence++) {
          await pubsub.publish(topic, { type: "chunk", runId, data: { sequence } });
        }
      });
    }
    await step.run("finish", () => pubsub.publish(topic, { type: "finish", runId, data: {} }));
    return "done";
  });
  const finishOnly = inngest.createFunction({ id: "finish" }, { event: "test/finish" }, async ({ event, step }) => {
    const runId = (event.data as { runId: string }).runId;
    await step.run("finish", () => pubsub.publish(`agent.stream.${runId}`, { type: "finish", runId, data: {} }));
    return "done";
  });
  app = await serveFunctions(engine, serve({ client: inngest, functions: [stream, finishOnly] }));
});

afterAll(async () => {
  await pubsub?.close();
  await app?.close();
  await engine?.close();
});

describe("InngestPubSub with the v3 SDK", () => {
  it("is detected as v3", () => {
    expect(pubsub.sdkMajor).toBe(3);
  });

  it("a v3 function publishes in steps; an InngestPubSub and an @inngest/realtime subscriber with a run token receive it in order", async () => {
    const runId = `v3-${randomUUID()}`;
    const subscriber = new InngestPubSub(
      new Inngest({ id: "subscriber", isDev: true, baseUrl: engine.url, logger: silentLogger }),
    );
    const received: Event[] = [];
    await subscriber.subscribe(`agent.stream.${runId}`, (event) => {
      received.push(event);
    });
    const token = await createRunSubscriptionToken(inngest, runId);
    expect(token).toMatchObject({ channel: `agent:${runId}`, topics: ["stream"], apiBaseUrl: engine.url });
    const browserMessages: Array<{ data: unknown; runId?: string }> = [];
    // @inngest/realtime's own client, as a browser would use it with the minted token.
    await subscribe(
      { app: inngest, channel: token.channel, topics: ["stream"], key: token.key } as never,
      (message) => {
        browserMessages.push(message as { data: unknown; runId?: string });
      },
    );

    const inngestRunId = await startRun("test/stream", runId);
    expect((await engine.waitForRun(inngestRunId)).status).toBe("Completed");
    await until(() => received.length === chunkCount + 1 && browserMessages.length === chunkCount + 1);

    const expected = Array.from({ length: chunkCount }, (_, sequence) => sequence);
    expect(received.slice(0, chunkCount).map((event) => (event.data as { sequence: number }).sequence)).toEqual(
      expected,
    );
    expect(received.at(-1)?.type).toBe("finish");
    expect(received[0]?.createdAt).toBeInstanceOf(Date);
    expect(
      browserMessages
        .slice(0, chunkCount)
        .map((message) => (message.data as { data: { sequence: number } }).data.sequence),
    ).toEqual(expected);
    // The v3 client attaches the run id from its async context when publishing inside a run.
    expect(browserMessages[0]?.runId).toBe(inngestRunId);
    await subscriber.close();
  });

  it("a failed terminal publish fails the step; Inngest retries it and the run completes", async () => {
    const runId = `v3-retry-${randomUUID()}`;
    const received: Event[] = [];
    await pubsub.subscribe(`agent.stream.${runId}`, (event) => {
      received.push(event);
    });
    const fault = engine.faults.failRealtimePublishes({ channel: `agent:${runId}` });
    const run = await engine.waitForRun(await startRun("test/finish", runId));
    expect(fault.triggered).toBe(1);
    expect(run.status).toBe("Completed");
    expect(run.steps.filter((step) => step.name === "finish").map((step) => [step.attempt, step.outcome])).toEqual([
      [0, "error"],
      [1, "ok"],
    ]);
    await until(() => received.length === 1);
    expect(received[0]?.type).toBe("finish");
  });

  it("a subscription whose WebSocket the server closed comes back with a gap notice", async () => {
    const subscriber = new InngestPubSub(
      new Inngest({ id: "reconnecting", isDev: true, baseUrl: engine.url, logger: silentLogger }),
      { reconnectInitialDelayMs: 20, logger: silentLogger },
    );
    const received: Event[] = [];
    await subscriber.subscribe("jobs.v3", (event) => {
      received.push(event);
    });
    const open = engine.counters().realtime.subscriptions;
    expect(engine.faults.closeRealtimeConnections()).toBe(open);
    await until(() => received.some((event) => event.type === REALTIME_GAP_EVENT_TYPE));
    await pubsub.publish("jobs.v3", { type: "after", runId: "", data: {} });
    await until(() => received.some((event) => event.type === "after"));
    expect(received.map((event) => event.type)).toEqual([REALTIME_GAP_EVENT_TYPE, "after"]);
    expect(received[0]?.data).toMatchObject({ topic: "jobs.v3", reason: "reconnected", attempts: 1 });
    await subscriber.close();
  });
});
