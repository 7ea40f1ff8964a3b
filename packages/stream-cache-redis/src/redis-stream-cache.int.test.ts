import { EventEmitterPubSub } from "@mastra/core/events";
import { ErrorCode, MastraInngestError } from "@mastra/inngest-core";
import { CachingPubSub } from "@mastra/inngest-stream-cache";
import { createFaultProxy, type RedisServer, startRedis } from "@mastra/inngest-testing";
import { describeServerCacheConformance, describeStreamCacheConformance } from "@mastra/inngest-testing/cache";
import { redisCommandCalls } from "@mastra/inngest-testing/helpers";
import { describePubSubConformance } from "@mastra/inngest-testing/pubsub";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from "vitest";
import { RedisStreamCache } from "./redis-stream-cache.ts";

let redis: RedisServer;
let admin: Redis;

beforeAll(async () => {
  redis = await startRedis();
  admin = new Redis(redis.url);
});

afterAll(async () => {
  admin?.disconnect();
  await redis?.kill();
});

describeServerCacheConformance({
  name: "RedisStreamCache",
  create: ({ namespace }) => new RedisStreamCache({ url: redis.url, keyPrefix: `${namespace}:` }),
  destroy: (cache) => (cache as RedisStreamCache).close(),
});

describeStreamCacheConformance({
  name: "RedisStreamCache",
  create: ({ namespace }) => new RedisStreamCache({ url: redis.url, keyPrefix: `${namespace}:` }),
  destroy: (cache) => (cache as RedisStreamCache).close(),
});

// Instances of one namespace share one transport and the Redis history, as processes would.
const transports = new Map<string, EventEmitterPubSub>();
describePubSubConformance({
  name: "CachingPubSub over EventEmitterPubSub and RedisStreamCache",
  capabilities: { ordered: true, replay: true, crossProcess: true },
  create: ({ namespace }) => {
    let transport = transports.get(namespace);
    if (transport === undefined) {
      transport = new EventEmitterPubSub();
      transports.set(namespace, transport);
    }
    const cache = new RedisStreamCache({ url: redis.url });
    const pubsub = new CachingPubSub(transport, cache, { keyPrefix: namespace, batchWindowMs: 1, idleRecheckMs: 200 });
    const close = pubsub.close.bind(pubsub);
    pubsub.close = async () => {
      await close();
      await cache.close();
    };
    return pubsub;
  },
});

describe("RedisStreamCache", () => {
  it("appends a batch of events in one command", async () => {
    // Its own server, so nothing else running in this file adds to the command counts.
    const counted = await startRedis();
    const client = new Redis(counted.url);
    onTestFinished(async () => {
      client.disconnect();
      await counted.kill();
    });
    // MONITOR tags commands a script runs with "lua"; everything else came over the wire.
    const monitor = await client.monitor();
    const fromClients: string[] = [];
    monitor.on("monitor", (_time: string, args: string[], source: string) => {
      if (!source.includes("lua")) {
        fromClients.push(String(args[0]).toLowerCase());
      }
    });
    const writer = new Redis(counted.url);
    const countedCache = new RedisStreamCache({ client: writer, keyPrefix: "one-trip:" });
    const countedPubSub = new CachingPubSub(new EventEmitterPubSub(), countedCache, { batchWindowMs: 20 });
    // The first call loads the script; count from the second.
    await countedPubSub.publish("agent.stream.warm", { type: "chunk", runId: "warm", data: {} });
    await countedPubSub.flush();
    await writer.ping();
    await expect.poll(() => fromClients.includes("ping"), { timeout: 5_000 }).toBe(true);
    fromClients.length = 0;
    for (let index = 0; index < 50; index++) {
      await countedPubSub.publish("agent.stream.one-trip", { type: "chunk", runId: "one-trip", data: { index } });
    }
    await countedPubSub.flush();
    await writer.ping();
    await expect.poll(() => fromClients.includes("ping"), { timeout: 5_000 }).toBe(true);
    // One EVALSHA stored the 50 events; the PING only marks the end of what was sent.
    expect(fromClients).toEqual(["evalsha", "ping"]);
    monitor.disconnect();
    await countedPubSub.close();
    writer.disconnect();
  });

  it("stores nothing twice when the reply to an append is lost and ioredis resends it", async () => {
    const proxy = await createFaultProxy({ target: redis.url });
    const client = new Redis(proxy.url);
    client.on("error", () => {});
    const cache = new RedisStreamCache({ client, keyPrefix: "lost-reply:" });
    const keys = {
      listKey: "{run}:events",
      counterKey: "{run}:index",
      producersKey: "{run}:producers",
      attemptsKey: "{run}:attempts",
    };
    const entry = (id: string) => ({
      value: { type: "chunk", id, runId: "run", data: {}, createdAt: new Date(0).toISOString() },
      key: `id:${id}`,
    });
    await cache.appendIndexed({ ...keys, entries: [entry("first")] });
    await admin.config("RESETSTAT");
    proxy.dropReplies({ closeAfterDrop: true });
    const appended = cache.appendIndexed({ ...keys, entries: [entry("second"), entry("third")] });
    await expect.poll(() => proxy.stats.connectionsClosedByProxy, { timeout: 5_000 }).toBe(1);
    proxy.forward();
    // The resent script found the keys stored by the first execution and returned their indices.
    expect(await appended).toEqual([
      { status: "duplicate", index: 1 },
      { status: "duplicate", index: 2 },
    ]);
    const calls = await redisCommandCalls(admin);
    // Executed twice: once by the lost command, once by its resend.
    expect((calls.evalsha ?? 0) + (calls.eval ?? 0)).toBe(2);
    const stored = (await admin.lrange("lost-reply:{run}:events", 0, -1)).map((text) => JSON.parse(text).id);
    expect(stored).toEqual(["first", "second", "third"]);
    client.disconnect();
    await proxy.close();
  });

  it("gives every key of a topic a TTL and one Cluster slot, and leaves nothing after retention", async () => {
    const cache = new RedisStreamCache({ client: admin, keyPrefix: "hygiene:" });
    const pubsub = new CachingPubSub(new EventEmitterPubSub(), cache, { ttlMs: 60_000, terminalTtlMs: 300 });
    for (let run = 0; run < 5; run++) {
      const topic = `agent.stream.run-${run}`;
      await pubsub.publish(topic, {
        type: "chunk",
        runId: `run-${run}`,
        data: {},
        producer: { stepId: "llm:0", attempt: 0, sequence: 0 },
      } as never);
      await pubsub.publish(topic, {
        type: "chunk",
        runId: `run-${run}`,
        data: {},
        producer: { stepId: "llm:0", attempt: 1, sequence: 0 },
      } as never);
      await pubsub.publish(topic, { type: "finish", runId: `run-${run}`, data: {} });
    }
    const keys = await admin.keys("hygiene:*");
    expect(keys.length).toBe(5 * 4);
    for (const key of keys) {
      const ttl = await admin.pttl(key);
      expect(ttl).toBeGreaterThan(0);
      expect(ttl).toBeLessThanOrEqual(300);
    }
    // Redis Cluster hashes only the text between the first "{" and the next "}": equal tags, one slot.
    const hashTag = (key: string): string => key.slice(key.indexOf("{") + 1, key.indexOf("}", key.indexOf("{")));
    for (let run = 0; run < 5; run++) {
      const tags = new Set(keys.filter((key) => key.includes(`:agent.stream.run-${run}:`)).map(hashTag));
      expect([...tags]).toEqual([`run-${run}`]);
    }
    await expect.poll(async () => (await admin.keys("hygiene:*")).length, { timeout: 5_000 }).toBe(0);
    await pubsub.close();
  });

  it("never sends a command for an id that fails validation", async () => {
    const cache = new RedisStreamCache({ client: admin, keyPrefix: "security:" });
    const pubsub = new CachingPubSub(new EventEmitterPubSub(), cache);
    await admin.config("RESETSTAT");
    for (const topic of [
      "agent.stream.{x}",
      "agent.stream.a b",
      "agent.stream.*",
      "agent.stream.__proto__",
      "agent.stream.a\r\nb",
    ]) {
      await expect(pubsub.publish(topic, { type: "chunk", runId: "x", data: {} })).rejects.toSatisfy((error) =>
        MastraInngestError.isInstance(error, ErrorCode.INVALID_ID),
      );
      await expect(pubsub.subscribeFromOffset(topic, 0, () => {})).rejects.toSatisfy((error) =>
        MastraInngestError.isInstance(error, ErrorCode.INVALID_ID),
      );
    }
    expect(Object.keys(await redisCommandCalls(admin))).toEqual(["config|resetstat"]);
    await pubsub.close();
  });

  it("works as an ACL user limited to its key prefix", async () => {
    const restricted = await startRedis({
      arguments: ["--user", "app", "on", ">secret", "~app:*", "&app:*", "+@all", "--user", "default", "off"],
    });
    try {
      const cache = new RedisStreamCache({ url: `redis://app:secret@127.0.0.1:${restricted.port}`, keyPrefix: "app:" });
      const pubsub = new CachingPubSub(new EventEmitterPubSub(), cache);
      const received: number[] = [];
      await pubsub.subscribeWithReplay("agent.stream.acl", (event) => void received.push(event.index as number));
      await pubsub.publish("agent.stream.acl", { type: "chunk", runId: "acl", data: {} });
      await pubsub.publish("agent.stream.acl", { type: "finish", runId: "acl", data: {} });
      await expect.poll(() => received, { timeout: 5_000 }).toEqual([0, 1]);
      await pubsub.clearTopic("agent.stream.acl");
      await pubsub.close();
      await cache.close();
      const outside = new RedisStreamCache({
        url: `redis://app:secret@127.0.0.1:${restricted.port}`,
        keyPrefix: "other:",
      });
      await expect(outside.set("k", 1)).rejects.toThrow(/NOPERM/);
      await outside.close();
    } finally {
      await restricted.kill();
    }
  });

  it("refuses clear() without a keyPrefix, and a value over maxEventBytes before sending it", async () => {
    const cache = new RedisStreamCache({ client: admin, maxEventBytes: 100 });
    await expect(cache.clear()).rejects.toThrow(/clear\(\) needs a keyPrefix/);
    await expect(cache.set("big", "x".repeat(200))).rejects.toSatisfy((error) =>
      MastraInngestError.isInstance(error, ErrorCode.PAYLOAD_TOO_LARGE),
    );
  });

  it("rejects with TRANSPORT_CLOSED when Redis does not answer within commandTimeoutMs, instead of hanging", async () => {
    const frozen = await startRedis();
    try {
      const cache = new RedisStreamCache({ url: frozen.url, commandTimeoutMs: 300 });
      await cache.set("k", 1);
      const prefixed = new RedisStreamCache({ url: frozen.url, commandTimeoutMs: 300, keyPrefix: "app" });
      await prefixed.set("k", 1);
      const pause = frozen.pause(2_500);
      const started = Date.now();
      // Every command, each bounded on its own, all within one pause of the server.
      const commands: Array<[string, () => Promise<unknown>]> = [
        ["get", () => cache.get("k")],
        ["increment", () => cache.increment("counter")],
        ["listPush", () => cache.listPush("list", 1)],
        ["listFromTo", () => cache.listFromTo("list", -1)],
        ["delete", () => cache.delete("k2")],
        ["retain", () => cache.retain(["k"], 60_000)],
        ["clear", () => prefixed.clear()],
      ];
      const outcomes = await Promise.all(
        commands.map(async ([name, run]) => [
          name,
          await run().then(
            () => "answered",
            (error: unknown) =>
              MastraInngestError.isInstance(error, ErrorCode.TRANSPORT_CLOSED) ? "timed out" : String(error),
          ),
        ]),
      );
      expect(Object.fromEntries(outcomes)).toEqual(Object.fromEntries(commands.map(([name]) => [name, "timed out"])));
      expect(Date.now() - started).toBeLessThan(2_000);
      await pause;
      expect(await cache.get("k")).toBe(1);
      await cache.close();
      await prefixed.close();
    } finally {
      await frozen.kill();
    }
  });

  it("validates its options, naming the field", () => {
    expect(() => new RedisStreamCache({ url: "http://host" })).toThrow(/url must be a redis:\/\/ or rediss:\/\/ URL/);
    expect(() => new RedisStreamCache({ client: admin, ttlSeconds: 0 })).toThrow(
      /ttlSeconds must be a positive integer/,
    );
    expect(() => new RedisStreamCache({ client: admin, keyPrefix: "{x}" })).toThrow(/keyPrefix must match/);
    expect(() => new RedisStreamCache({} as never)).toThrow(/client, url or clusterNodes must be/);
    expect(() => new RedisStreamCache({ client: admin, waitForReplicas: -1 })).toThrow(
      /waitForReplicas must be a non-negative integer/,
    );
    expect(() => new RedisStreamCache({ clusterNodes: [] })).toThrow(/clusterNodes must be a non-empty array/);
  });
});

describe("RedisStreamCache when Redis restarts", () => {
  it("a stream whose Redis is killed for 2 s mid-stream (with AOF) ends complete at the observer", async () => {
    const durable = await startRedis({ appendOnly: true });
    try {
      const cache = new RedisStreamCache({ url: durable.url, keyPrefix: "restart:" });
      const pubsub = new CachingPubSub(new EventEmitterPubSub(), cache, { idleRecheckMs: 200, batchWindowMs: 2 });
      const received: number[] = [];
      await pubsub.subscribeWithReplay("agent.stream.restart", (event) => {
        if (event.type === "chunk") {
          received.push((event.data as { n: number }).n);
        }
      });
      const total = 300;
      let killed = false;
      for (let n = 0; n < total; n++) {
        if (n === 100) {
          await durable.kill();
          killed = true;
          setTimeout(() => void durable.restart(), 2_000);
        }
        await pubsub.publish("agent.stream.restart", { type: "chunk", runId: "restart", data: { n } });
        if (n % 20 === 0) {
          await new Promise((resolve) => setTimeout(resolve, 5));
        }
      }
      await pubsub.publish("agent.stream.restart", { type: "finish", runId: "restart", data: {} });
      expect(killed).toBe(true);
      await expect.poll(() => received.length, { timeout: 20_000 }).toBe(total);
      expect(received).toEqual(Array.from({ length: total }, (_, n) => n));
      await pubsub.close();
      await cache.close();
    } finally {
      await durable.kill();
    }
  });
});
