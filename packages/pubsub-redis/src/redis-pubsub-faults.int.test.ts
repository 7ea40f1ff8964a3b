import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { ErrorCode, MastraInngestError } from "@mastra/inngest-core";
import { createFaultProxy, type FaultProxy, type RedisServer, startRedis } from "@mastra/inngest-testing";
import { until } from "@mastra/inngest-testing/helpers";
import { Redis } from "ioredis";
import { afterEach, describe, expect, it } from "vitest";
import { RedisPubSub } from "./redis-pubsub.ts";
import type { RedisPubSubOptions } from "./redis-pubsub-options.ts";

// Heap measurements are only meaningful right after a full collection.
setFlagsFromString("--expose-gc");
const collectGarbage = runInNewContext("gc") as () => void;

const cleanups: Array<() => Promise<unknown>> = [];

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) {
    await cleanup();
  }
});

async function server(): Promise<RedisServer> {
  const started = await startRedis();
  cleanups.push(() => started.kill());
  return started;
}

async function proxyTo(target: RedisServer): Promise<FaultProxy> {
  const proxy = await createFaultProxy({ target: target.url });
  cleanups.push(() => proxy.close());
  return proxy;
}

function open(options: RedisPubSubOptions, warnings: string[] = []): RedisPubSub {
  const pubsub = new RedisPubSub({ logger: { warn: (message: string) => warnings.push(message) }, ...options });
  cleanups.push(() => pubsub.close());
  return pubsub;
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Publishes `type` every 50 ms until a subscriber received it; each publish may fail or be lost meanwhile. */
async function publishUntilReceived(
  pubsub: RedisPubSub,
  received: readonly string[],
  type: string,
  timeoutMs: number,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!received.includes(type)) {
    if (Date.now() > deadline) {
      throw new Error(`${type} was not received within ${timeoutMs} ms`);
    }
    pubsub.publish("stream", { type, runId: "run-1", data: null }).catch(() => {});
    await sleep(50);
  }
}

describe("RedisPubSub under faults", () => {
  it("detects a half-open subscriber connection within 3 heartbeats, reconnects, and delivers again", async () => {
    const heartbeatMs = 300;
    const redis = await server();
    const proxy = await proxyTo(redis);
    const warnings: string[] = [];
    // Only the subscriber goes through the proxy; the publisher talks to Redis directly.
    const subscriberSide = open(
      { url: proxy.url, channelPrefix: "half-open:", heartbeatMs, redisOptions: { retryStrategy: () => 50 } },
      warnings,
    );
    const publisherSide = open({ url: redis.url, channelPrefix: "half-open:" });
    const received: string[] = [];
    await subscriberSide.subscribe("stream", (event) => {
      received.push(event.type);
    });
    await publisherSide.publish("stream", { type: "before", runId: "run-1", data: null });
    await until(() => received.includes("before"));
    const acceptedBefore = proxy.stats.connectionsAccepted;

    proxy.blackhole();
    const blackholedAt = Date.now();
    await publisherSide.publish("stream", { type: "lost", runId: "run-1", data: null });
    await until(() => proxy.stats.connectionsAccepted > acceptedBefore, { timeoutMs: 10 * heartbeatMs });
    const detectedWithinMs = Date.now() - blackholedAt;
    expect(detectedWithinMs).toBeLessThan(3 * heartbeatMs);
    expect(proxy.stats.bytesDroppedToTarget).toBeGreaterThan(0);
    expect(warnings.some((warning) => warning.includes("the subscriber connection answered nothing"))).toBe(true);

    proxy.forward();
    // What is published before the subscription is back is lost (at most once): publish until one arrives.
    await publishUntilReceived(publisherSide, received, "after", 20 * heartbeatMs);
    expect(received).not.toContain("lost");
    await publisherSide.publish("stream", { type: "final", runId: "run-1", data: null });
    await until(() => received.includes("final"));
  });

  it("keeps a slow subscriber connection whose PING is answered within heartbeatMs", async () => {
    const heartbeatMs = 300;
    const redis = await server();
    const proxy = await proxyTo(redis);
    const warnings: string[] = [];
    const subscriberSide = open({ url: proxy.url, channelPrefix: "slow:", heartbeatMs }, warnings);
    const publisherSide = open({ url: redis.url, channelPrefix: "slow:" });
    const received: string[] = [];
    await subscriberSide.subscribe("stream", (event) => {
      received.push(event.type);
    });
    // 100 ms each way: every PING is answered after 200 ms, within one interval.
    proxy.delay(100);
    await sleep(6 * heartbeatMs);
    await publisherSide.publish("stream", { type: "still-here", runId: "run-1", data: null });
    await until(() => received.includes("still-here"));
    expect(proxy.stats.connectionsAccepted).toBe(1);
    expect(warnings).toEqual([]);
  });

  it("a subscribe that Redis never confirmed rejects in time and leaves no subscription once Redis is back", async () => {
    const publishTimeoutMs = 300;
    const redis = await server();
    const pubsub = open({ url: redis.url, channelPrefix: "unconfirmed:", publishTimeoutMs });
    await pubsub.subscribe("kept", () => {});
    await redis.kill();

    const startedAt = performance.now();
    await expect(pubsub.subscribe("dropped", () => {})).rejects.toMatchObject({ code: ErrorCode.TRANSPORT_CLOSED });
    expect(performance.now() - startedAt).toBeLessThan(publishTimeoutMs + 200);

    await redis.restart();
    const admin = new Redis(redis.url);
    cleanups.push(async () => admin.disconnect());
    // The queued SUBSCRIBE reaches Redis after the reconnect, and the UNSUBSCRIBE queued behind it undoes it.
    let channels: string[] = [];
    const deadline = Date.now() + 10_000;
    while (!(channels.length === 1 && channels[0] === "unconfirmed:kept") && Date.now() < deadline) {
      await sleep(50);
      channels = (await admin.call("PUBSUB", "CHANNELS", "unconfirmed:*")) as string[];
    }
    await sleep(200);
    channels = (await admin.call("PUBSUB", "CHANNELS", "unconfirmed:*")) as string[];
    expect(channels).toEqual(["unconfirmed:kept"]);
  });

  it("close() while Redis is down waits at most publishTimeoutMs for publishes in flight, then closes", async () => {
    const publishTimeoutMs = 300;
    const redis = await server();
    const pubsub = open({ url: redis.url, channelPrefix: "close:", publishTimeoutMs });
    await pubsub.subscribe("stream", () => {});
    await pubsub.publish("stream", { type: "before", runId: "run-1", data: null });
    await redis.kill();

    const inFlight = pubsub.publish("stream", { type: "during", runId: "run-1", data: null }).catch((error) => error);
    const startedAt = performance.now();
    await pubsub.close();
    expect(performance.now() - startedAt).toBeLessThan(publishTimeoutMs + 200);
    expect(await inFlight).toMatchObject({ code: ErrorCode.TRANSPORT_CLOSED });
    await expect(pubsub.subscribe("stream", () => {})).rejects.toMatchObject({ code: ErrorCode.TRANSPORT_CLOSED });
  });

  it("while Redis is down, every publish rejects in time or at once past the limit, memory stays bounded, and publishing resumes", async () => {
    const publishTimeoutMs = 300;
    const maxPendingPublishes = 100;
    const outageMs = process.env.CI ? 3_000 : 15_000;
    const redis = await server();
    const pubsub = open({ url: redis.url, channelPrefix: "outage:", publishTimeoutMs, maxPendingPublishes });
    const received: string[] = [];
    await pubsub.subscribe("stream", (event) => {
      received.push(event.type);
    });
    await pubsub.publish("stream", { type: "before", runId: "run-1", data: null });
    await until(() => received.includes("before"));

    await redis.kill();
    collectGarbage();
    const heapBefore = process.memoryUsage().heapUsed;
    // 64 KiB per event: were every publish kept until Redis returns, the heap would grow by gigabytes.
    const payload = "x".repeat(64 * 1024);
    const outcomes: Array<{ code?: string; elapsedMs?: number }> = [];
    const publish = (sequence: number): void => {
      const outcome: { code?: string; elapsedMs?: number } = {};
      outcomes.push(outcome);
      const startedAt = performance.now();
      pubsub.publish("stream", { type: "during", runId: "run-1", data: { sequence, payload } }).then(
        () => {
          outcome.code = "resolved";
          outcome.elapsedMs = performance.now() - startedAt;
        },
        (error: unknown) => {
          outcome.code = MastraInngestError.isInstance(error) ? error.code : String(error);
          outcome.elapsedMs = performance.now() - startedAt;
        },
      );
    };

    for (let sequence = 0; sequence < 1000; sequence++) {
      publish(sequence);
    }
    const outageEndsAt = Date.now() + outageMs;
    let sequence = 1000;
    while (Date.now() < outageEndsAt) {
      publish(sequence++);
      await sleep(5);
    }
    await sleep(publishTimeoutMs + 100);

    const pending = outcomes.filter((outcome) => outcome.code === undefined);
    expect(pending).toHaveLength(0);
    const codes = new Set(outcomes.map((outcome) => outcome.code));
    expect([...codes].sort()).toEqual([ErrorCode.LIMIT_EXCEEDED, ErrorCode.TRANSPORT_CLOSED].sort());
    const slowest = Math.max(...outcomes.map((outcome) => outcome.elapsedMs ?? Number.POSITIVE_INFINITY));
    // Well before the outage ends: each publish gave up at its timeout (the slack is for a loaded
    // machine's event loop), none waited for Redis to return.
    expect(slowest).toBeLessThan(Math.min(publishTimeoutMs + 1_000, outageMs));
    expect(outcomes.filter((outcome) => outcome.code === ErrorCode.LIMIT_EXCEEDED).length).toBeGreaterThan(900);
    await pubsub.flush();

    collectGarbage();
    const heapGrowthBytes = process.memoryUsage().heapUsed - heapBefore;
    expect(heapGrowthBytes).toBeLessThan(50 * 1024 * 1024);

    await redis.restart();
    // ioredis reconnects both connections on its own schedule (backing off up to seconds), then resubscribes.
    await publishUntilReceived(pubsub, received, "after", 15_000);
  });
});
