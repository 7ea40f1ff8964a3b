import type { MastraServerCache } from "@mastra/core/cache";
import { ErrorCode, MastraInngestError } from "@mastra/inngest-core";
import { Redis, type RedisOptions } from "ioredis";
import { afterEach, describe, expect, it, vi } from "vitest";
import { RedisPubSub } from "./redis-pubsub.ts";
import type { RedisPubSubOptions } from "./redis-pubsub-options.ts";

// Records the connections RedisPubSub creates from a URL, so a test can read the options ioredis
// resolved (TLS above all) without any server: they connect lazily and these tests never use them.
const created = vi.hoisted(() => [] as Redis[]);
vi.mock("ioredis", async (importOriginal) => {
  const actual = await importOriginal<typeof import("ioredis")>();
  class RecordingRedis extends actual.Redis {
    constructor(url: string, options: RedisOptions & { replyMapping?: "legacy" }) {
      super(url, options);
      created.push(this);
    }
  }
  return { ...actual, default: RecordingRedis, Redis: RecordingRedis };
});

const instances: RedisPubSub[] = [];

function createPubSub(options: RedisPubSubOptions): RedisPubSub {
  const pubsub = new RedisPubSub(options);
  instances.push(pubsub);
  return pubsub;
}

function lastCreated(): Redis {
  const connection = created.at(-1);
  if (connection === undefined) {
    throw new Error("no connection was created");
  }
  return connection;
}

afterEach(async () => {
  await Promise.all(instances.splice(0).map((pubsub) => pubsub.close()));
  for (const connection of created.splice(0)) {
    connection.disconnect();
  }
});

function expectInvalidOption(options: unknown, field: string): void {
  let thrown: unknown;
  try {
    createPubSub(options as RedisPubSubOptions);
  } catch (error) {
    thrown = error;
  }
  expect(MastraInngestError.isInstance(thrown, ErrorCode.INVALID_OPTION)).toBe(true);
  expect((thrown as Error).message).toContain(`[@mastra/inngest-pubsub-redis] ${field} must be`);
}

describe("RedisPubSub options", () => {
  it("needs exactly one of client and url", () => {
    expectInvalidOption({}, "client");
    expectInvalidOption(undefined, "options");
    expectInvalidOption(
      { client: new Redis("redis://127.0.0.1:1", { lazyConnect: true }), url: "redis://127.0.0.1:1" },
      "url",
    );
    expectInvalidOption({ client: { publish: "no" } }, "client");
  });

  it("takes clusterNodes alone, as a non-empty list", () => {
    expectInvalidOption({ clusterNodes: [] }, "clusterNodes");
    expectInvalidOption(
      { clusterNodes: [{ host: "127.0.0.1", port: 7000 }], url: "redis://127.0.0.1:1" },
      "clusterNodes",
    );
    const client = new Redis("redis://127.0.0.1:1", { lazyConnect: true });
    expectInvalidOption({ clusterNodes: [{ host: "127.0.0.1", port: 7000 }], client }, "clusterNodes");
    client.disconnect();
  });

  it("accepts redisOptions only with url", () => {
    expectInvalidOption(
      { client: new Redis("redis://127.0.0.1:1", { lazyConnect: true }), redisOptions: { password: "x" } },
      "redisOptions",
    );
    expectInvalidOption({ url: "redis://127.0.0.1:1", redisOptions: "tls" }, "redisOptions");
  });

  it("rejects a URL that is not redis:// or rediss://", () => {
    expectInvalidOption({ url: "http://127.0.0.1:6379" }, "url");
    expectInvalidOption({ url: "127.0.0.1:6379" }, "url");
    expectInvalidOption({ url: 6379 }, "url");
  });

  it("checks channelPrefix like a key prefix", () => {
    for (const channelPrefix of ["", "a b", "{tag}:", "*", ":leading", "x".repeat(65), 7]) {
      expectInvalidOption({ url: "redis://127.0.0.1:1", channelPrefix }, "channelPrefix");
    }
    expect(() => createPubSub({ url: "redis://127.0.0.1:1", channelPrefix: "app-1.events:" })).not.toThrow();
  });

  it("checks every duration and count is a positive integer", () => {
    for (const field of ["publishTimeoutMs", "maxPendingPublishes", "heartbeatMs"]) {
      for (const value of [0, -1, 1.5, Number.NaN, Number.POSITIVE_INFINITY, "100"]) {
        expectInvalidOption({ url: "redis://127.0.0.1:1", [field]: value }, field);
      }
    }
  });

  it("checks the logger has warn()", () => {
    expectInvalidOption({ url: "redis://127.0.0.1:1", logger: { error() {} } }, "logger");
  });
});

describe("connections created from url", () => {
  it("use TLS for rediss:// in any case of the scheme, and connect only when used", () => {
    for (const url of ["REDISS://127.0.0.1:1", "rediss://127.0.0.1:1", "Rediss://127.0.0.1:1"]) {
      createPubSub({ url });
      const connection = lastCreated();
      expect(connection.options.tls, url).toBeTruthy();
      expect(connection.status, url).toBe("wait");
    }
  });

  it("use plain TCP for redis://", () => {
    createPubSub({ url: "REDIS://127.0.0.1:1" });
    expect(lastCreated().options.tls).toBeUndefined();
  });

  it("merge redisOptions, with the URL's values first", () => {
    const ca = "-----BEGIN CERTIFICATE-----";
    createPubSub({
      url: "rediss://app:secret@cache.example.com:6380/3",
      redisOptions: { tls: { ca }, password: "ignored" },
    });
    const { options } = lastCreated();
    expect(options).toMatchObject({
      host: "cache.example.com",
      port: 6380,
      db: 3,
      username: "app",
      password: "secret",
    });
    expect(options.tls).toEqual({ ca });
    createPubSub({ url: "redis://127.0.0.1:1", redisOptions: { username: "app", password: "secret" } });
    expect(lastCreated().options).toMatchObject({ username: "app", password: "secret" });
  });

  it("close() of an instance never used opens no connection and can be called twice", async () => {
    const pubsub = createPubSub({ url: "redis://127.0.0.1:1" });
    await pubsub.close();
    await pubsub.close();
    expect(lastCreated().status).toBe("end");
  });
});

describe("declared behaviour", () => {
  it("declares its capabilities and no offsets", () => {
    const pubsub = createPubSub({ url: "redis://127.0.0.1:1" });
    expect(pubsub.capabilities).toEqual({ ordered: true, replay: false, crossProcess: true });
    expect(Object.isFrozen(pubsub.capabilities)).toBe(true);
    expect(pubsub.supportsOffsets).toBe(false);
    expect(pubsub.supportedModes).toEqual(["push"]);
  });

  it("rejects a bad topic with INVALID_ID before connecting", async () => {
    const pubsub = createPubSub({ url: "redis://127.0.0.1:1" });
    const event = { type: "chunk", runId: "run-1", data: {} };
    await expect(pubsub.publish("agent.stream.{x}", event)).rejects.toMatchObject({ code: ErrorCode.INVALID_ID });
    await expect(pubsub.subscribe("a b", () => {})).rejects.toMatchObject({ code: ErrorCode.INVALID_ID });
    await expect(pubsub.unsubscribe("*", () => {})).rejects.toMatchObject({ code: ErrorCode.INVALID_ID });
    expect(lastCreated().status).toBe("wait");
  });

  it("rejects data that is not JSON with INVALID_MESSAGE, and a consumer group with INVALID_OPTION", async () => {
    const pubsub = createPubSub({ url: "redis://127.0.0.1:1" });
    await expect(pubsub.publish("topic", { type: "chunk", runId: "run-1", data: 1n })).rejects.toMatchObject({
      code: ErrorCode.INVALID_MESSAGE,
    });
    await expect(pubsub.subscribe("topic", () => {}, { group: "workers" })).rejects.toMatchObject({
      code: ErrorCode.INVALID_OPTION,
    });
    expect(lastCreated().status).toBe("wait");
  });

  it("rejects publish and subscribe after close() with TRANSPORT_CLOSED; unsubscribe, flush, clearTopic resolve", async () => {
    const pubsub = createPubSub({ url: "redis://127.0.0.1:1" });
    await pubsub.close();
    await expect(pubsub.publish("topic", { type: "chunk", runId: "run-1", data: {} })).rejects.toMatchObject({
      code: ErrorCode.TRANSPORT_CLOSED,
    });
    await expect(pubsub.subscribe("topic", () => {})).rejects.toMatchObject({ code: ErrorCode.TRANSPORT_CLOSED });
    await pubsub.unsubscribe("topic", () => {});
    await pubsub.flush();
    await pubsub.clearTopic("topic");
  });
});

describe("notificationChannel", () => {
  const cacheWith = (identity: unknown): MastraServerCache =>
    ({ redisServerIdentity: identity }) as unknown as MastraServerCache;

  it("returns the topic's channel for a cache on the same server and database", () => {
    const pubsub = createPubSub({ url: "redis://localhost:6399/2", channelPrefix: "app:" });
    expect(pubsub.notificationChannel("agent.stream.run-1", cacheWith("127.0.0.1:6399/2"))).toBe(
      "app:agent.stream.run-1",
    );
  });

  it("returns undefined for another server, another database, or a cache without an identity", () => {
    const pubsub = createPubSub({ url: "redis://127.0.0.1:6399/2" });
    expect(pubsub.notificationChannel("topic", cacheWith("127.0.0.1:6399/0"))).toBeUndefined();
    expect(pubsub.notificationChannel("topic", cacheWith("127.0.0.1:6400/2"))).toBeUndefined();
    expect(pubsub.notificationChannel("topic", cacheWith(undefined))).toBeUndefined();
    expect(pubsub.notificationChannel("topic", cacheWith({ toString: () => "127.0.0.1:6399/2" }))).toBeUndefined();
    expect(pubsub.notificationChannel("topic", {} as MastraServerCache)).toBeUndefined();
  });

  it("compares with the identity of a given client", () => {
    const client = new Redis("redis://10.0.0.5:6380/1", { lazyConnect: true });
    const pubsub = createPubSub({ client });
    expect(pubsub.notificationChannel("topic", cacheWith("10.0.0.5:6380/1"))).toBe("mastra:inngest:topic");
    client.disconnect();
  });

  it("on a cluster, returns the sharded channel in the run's slot for a cache with the same startup nodes", () => {
    const pubsub = createPubSub({
      clusterNodes: [
        { host: "127.0.0.1", port: 7001 },
        { host: "localhost", port: 7000 },
      ],
    });
    const sameNodes = cacheWith("cluster:127.0.0.1:7000,127.0.0.1:7001");
    expect(pubsub.notificationChannel("agent.stream.run-1", sameNodes)).toBe(
      "mastra:inngest:{run-1}:agent.stream.run-1",
    );
    expect(pubsub.notificationChannel("other.topic", sameNodes)).toBe("mastra:inngest:{other.topic}:other.topic");
    expect(pubsub.notificationChannel("agent.stream.run-1", cacheWith("127.0.0.1:7000/0"))).toBeUndefined();
  });

  it("throws INVALID_ID for a bad topic", () => {
    const pubsub = createPubSub({ url: "redis://127.0.0.1:6399" });
    expect(() => pubsub.notificationChannel("a b", cacheWith("127.0.0.1:6399/0"))).toThrow(
      expect.objectContaining({ code: ErrorCode.INVALID_ID }),
    );
  });
});
