import { randomUUID } from "node:crypto";
import type { Event } from "@mastra/core/events";
import { controlTopic, ErrorCode, streamTopic } from "@mastra/inngest-core";
import { type DevServer, startDevServer } from "@mastra/inngest-dev-server";
import { silentLogger, until } from "@mastra/inngest-testing/helpers";
import { Inngest } from "inngest";
import { subscribe } from "inngest/realtime";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { InngestPubSub } from "./inngest-pubsub.ts";
import { createRunSubscriptionToken } from "./run-subscription-token.ts";

let engine: DevServer;
let inngest: Inngest.Any;
const instances: InngestPubSub[] = [];

beforeAll(async () => {
  engine = await startDevServer();
  inngest = new Inngest({ id: "channel-sharing", isDev: true, baseUrl: engine.url, logger: silentLogger });
});

afterAll(async () => {
  await Promise.all(instances.map((instance) => instance.close()));
  await engine?.close();
});

function createPubSub(): InngestPubSub {
  const pubsub = new InngestPubSub(inngest);
  instances.push(pubsub);
  return pubsub;
}

function recorder(): { events: Event[]; callback: (event: Event) => void } {
  const events: Event[] = [];
  return { events, callback: (event) => void events.push(event) };
}

const subscriptions = () => engine.counters().realtime.subscriptions;
const sequences = (events: Event[]) => events.map((event) => (event.data as { sequence: number }).sequence);

describe("one WebSocket per channel", () => {
  it("is shared by every callback of a run's stream and control topics", async () => {
    const pubsub = createPubSub();
    const runId = `shared-${randomUUID()}`;
    const [first, second, control] = [recorder(), recorder(), recorder()];
    await pubsub.subscribe(streamTopic(runId), first.callback);
    await pubsub.subscribe(streamTopic(runId), second.callback);
    await pubsub.subscribe(controlTopic(runId), control.callback);
    // The control topic replaced the socket with one carrying both topics; the old one is closing.
    await until(() => subscriptions() === 1, { timeoutMs: 5_000, description: "the replaced socket to close" });

    await pubsub.publish(streamTopic(runId), { type: "chunk", runId, data: { sequence: 0 } });
    await pubsub.publish(controlTopic(runId), { type: "abort", runId, data: {} });
    await until(() => first.events.length === 1 && second.events.length === 1 && control.events.length === 1);
    expect(first.events[0]?.type).toBe("chunk");
    expect(second.events[0]?.type).toBe("chunk");
    expect(control.events[0]?.type).toBe("abort");

    await pubsub.unsubscribe(streamTopic(runId), first.callback);
    expect(subscriptions()).toBe(1);
    await pubsub.unsubscribe(streamTopic(runId), second.callback);
    await pubsub.unsubscribe(controlTopic(runId), control.callback);
    await until(() => subscriptions() === 0, { timeoutMs: 5_000, description: "the socket to close" });
  });

  it("a topic added to an open socket is live once subscribe() resolves, before the old socket retires", async () => {
    const publisher = createPubSub();
    const subscriber = createPubSub();
    const runId = `live-${randomUUID()}`;
    const [stream, control] = [recorder(), recorder()];
    await subscriber.subscribe(streamTopic(runId), stream.callback);
    // With setTimeout frozen the replacement's grace period cannot end: subscribe() resolves only
    // if it does not wait for it (waiting would delay every durable step that subscribes to its
    // run's control topic by the whole grace period).
    vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout"] });
    let resolved = false;
    try {
      const subscribing = subscriber.subscribe(controlTopic(runId), control.callback).then(() => {
        resolved = true;
      });
      const deadline = performance.now() + 5_000;
      while (!resolved && performance.now() < deadline) {
        await new Promise((resolve) => setImmediate(resolve));
      }
      expect(resolved).toBe(true);
      vi.advanceTimersByTime(1_000);
      await subscribing;
    } finally {
      vi.useRealTimers();
    }
    await publisher.publish(controlTopic(runId), { type: "abort", runId, data: {} });
    await publisher.publish(streamTopic(runId), { type: "chunk", runId, data: { sequence: 0 } });
    await until(() => control.events.length === 1 && stream.events.length === 1);
    await until(() => subscriptions() === 1, { timeoutMs: 5_000, description: "the replaced socket to close" });
    expect(control.events.map((event) => event.type)).toEqual(["abort"]);
    expect(sequences(stream.events)).toEqual([0]);
    await subscriber.close();
  });

  it("a topic added while events flow replaces the socket without losing or repeating any", async () => {
    const publisher = createPubSub();
    const subscriber = createPubSub();
    const runId = `swap-${randomUUID()}`;
    const stream = recorder();
    await subscriber.subscribe(streamTopic(runId), stream.callback);
    const count = 300;
    const publishing = (async () => {
      for (let sequence = 0; sequence < count; sequence++) {
        await publisher.publish(streamTopic(runId), { type: "chunk", runId, data: { sequence } });
      }
    })();
    await until(() => stream.events.length >= 20);
    const control = recorder();
    await subscriber.subscribe(controlTopic(runId), control.callback);
    await publisher.publish(controlTopic(runId), { type: "abort", runId, data: {} });
    await publishing;
    await until(() => stream.events.length >= count && control.events.length === 1);
    expect(sequences(stream.events)).toEqual(Array.from({ length: count }, (_, sequence) => sequence));
    await until(() => subscriptions() === 1, { timeoutMs: 5_000, description: "the replaced socket to close" });
    await subscriber.close();
    await until(() => subscriptions() === 0, { timeoutMs: 5_000, description: "close() to close the socket" });
  });
});

describe("close()", () => {
  it("closes every socket, can be called twice, and makes publish and subscribe reject with TRANSPORT_CLOSED", async () => {
    const pubsub = createPubSub();
    await pubsub.subscribe("jobs.a", () => {});
    await pubsub.subscribe("jobs.b", () => {});
    expect(subscriptions()).toBe(2);
    await pubsub.close();
    await pubsub.close();
    await until(() => subscriptions() === 0, { timeoutMs: 5_000, description: "the sockets to close" });
    await expect(pubsub.publish("jobs.a", { type: "x", runId: "r", data: {} })).rejects.toMatchObject({
      code: ErrorCode.TRANSPORT_CLOSED,
    });
    await expect(pubsub.subscribe("jobs.a", () => {})).rejects.toMatchObject({ code: ErrorCode.TRANSPORT_CLOSED });
  });

  it("rejects a subscribe() still opening its socket", async () => {
    const pubsub = createPubSub();
    const pending = pubsub.subscribe("jobs.pending", () => {});
    await pubsub.close();
    await expect(pending).rejects.toMatchObject({ code: ErrorCode.TRANSPORT_CLOSED });
    await until(() => subscriptions() === 0, { timeoutMs: 5_000, description: "the socket to close" });
  });
});

describe("local-only publishes", () => {
  it("reach this instance's subscribers and never Inngest", async () => {
    const pubsub = createPubSub();
    const other = createPubSub();
    const [here, there] = [recorder(), recorder()];
    await pubsub.subscribe("jobs.local", here.callback);
    await other.subscribe("jobs.local", there.callback);
    const before = engine.counters().realtime.publishes;
    await pubsub.publish("jobs.local", { type: "local", runId: "r", data: { sequence: 1 } }, { localOnly: true });
    expect(here.events.map((event) => event.type)).toEqual(["local"]);
    expect(engine.counters().realtime.publishes).toBe(before);

    const workflow = recorder();
    await pubsub.subscribe("workflow.events.v2.run-1", workflow.callback);
    await pubsub.publish("workflow.events.v2.run-1", { type: "step", runId: "run-1", data: {} });
    expect(workflow.events).toHaveLength(1);
    expect(engine.counters().realtime.publishes).toBe(before);
    expect(there.events).toEqual([]);
  });
});

describe("createRunSubscriptionToken", () => {
  it("gives a token the SDK's subscribe() uses for the run's stream, and only the stream", async () => {
    const pubsub = createPubSub();
    const runId = `token-${randomUUID()}`;
    const token = await createRunSubscriptionToken(inngest, runId);
    expect(token).toEqual({
      key: expect.any(String),
      channel: `agent:${runId}`,
      topics: ["stream"],
      apiBaseUrl: engine.url,
    });

    const streamMessages: unknown[] = [];
    const stream = await subscribe({
      key: token.key,
      apiBaseUrl: token.apiBaseUrl,
      channel: token.channel,
      topics: token.topics,
      onMessage: (message: { data: unknown }) => void streamMessages.push(message.data),
    });
    // Asking for the control topic with the same token gets nothing: the token allows only the stream.
    const controlMessages: unknown[] = [];
    const control = await subscribe({
      key: token.key,
      apiBaseUrl: token.apiBaseUrl,
      channel: token.channel,
      topics: ["control"],
      onMessage: (message: { data: unknown }) => void controlMessages.push(message.data),
    });
    await pubsub.publish(controlTopic(runId), { type: "abort", runId, data: {} });
    await pubsub.publish(streamTopic(runId), { type: "chunk", runId, data: { sequence: 0 } });
    await until(() => streamMessages.length === 1);
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(streamMessages).toEqual([expect.objectContaining({ type: "chunk", runId })]);
    expect(controlMessages).toEqual([]);
    stream.close();
    control.close();
  });
});
