import type { EventCallback } from "@mastra/core/events";
import { ErrorCode, MastraInngestError } from "@mastra/inngest-core";
import { type RedisServer, startRedis } from "@mastra/inngest-testing";
import { redisCommandCalls, silentLogger, until } from "@mastra/inngest-testing/helpers";
import { Redis } from "ioredis";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { RedisPubSub } from "./redis-pubsub.ts";
import type { RedisPubSubOptions } from "./redis-pubsub-options.ts";

let redis: RedisServer;
let admin: Redis;
const opened: RedisPubSub[] = [];

beforeAll(async () => {
  redis = await startRedis();
  admin = new Redis(redis.url);
});

afterAll(async () => {
  admin.disconnect();
  await redis.kill();
});

afterEach(async () => {
  await Promise.all(opened.splice(0).map((pubsub) => pubsub.close()));
});

function open(options: RedisPubSubOptions): RedisPubSub {
  const pubsub = new RedisPubSub({ logger: silentLogger, ...options });
  opened.push(pubsub);
  return pubsub;
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** The lines of `CLIENT LIST`, optionally of one type, as field maps. */
async function clientList(server: Redis, type?: "pubsub" | "normal"): Promise<Array<Record<string, string>>> {
  const reply = (await server.call("CLIENT", "LIST", ...(type === undefined ? [] : ["TYPE", type]))) as string;
  return reply
    .split("\n")
    .filter((line) => line.trim() !== "")
    .map((line) =>
      Object.fromEntries(
        line
          .trim()
          .split(" ")
          .map((field) => field.split("=", 2) as [string, string]),
      ),
    );
}

describe("RedisPubSub connections", () => {
  it("uses one subscriber connection for 20 topics with 3 callbacks each, and one to publish", async () => {
    const connectionsBefore = (await clientList(admin)).length;
    const pubsub = open({ url: redis.url, channelPrefix: "count:" });
    const topics = Array.from({ length: 20 }, (_, position) => `topic-${position}`);
    const received = new Map<string, number>();
    const callbacks = new Map<string, EventCallback[]>();
    await Promise.all(
      topics.flatMap((topic) => {
        const forTopic = [0, 1, 2].map(
          (position): EventCallback =>
            () => {
              const key = `${topic}/${position}`;
              received.set(key, (received.get(key) ?? 0) + 1);
            },
        );
        callbacks.set(topic, forTopic);
        return forTopic.map((callback) => pubsub.subscribe(topic, callback));
      }),
    );

    const subscribers = await clientList(admin, "pubsub");
    expect(subscribers).toHaveLength(1);
    expect(subscribers[0]?.sub).toBe("20");

    await Promise.all(topics.map((topic) => pubsub.publish(topic, { type: "ping", runId: "run-1", data: null })));
    await until(() => received.size === 60, { intervalMs: 10 });
    await sleep(50);
    expect([...received.values()].every((count) => count === 1)).toBe(true);
    expect((await clientList(admin)).length).toBe(connectionsBefore + 2);

    const [first, second, third] = callbacks.get("topic-0") as [EventCallback, EventCallback, EventCallback];
    await pubsub.unsubscribe("topic-0", first);
    await pubsub.unsubscribe("topic-0", second);
    expect((await clientList(admin, "pubsub"))[0]?.sub).toBe("20");
    await pubsub.unsubscribe("topic-0", third);
    expect((await clientList(admin, "pubsub"))[0]?.sub).toBe("19");

    await pubsub.close();
    await until(async () => (await clientList(admin)).length === connectionsBefore, { intervalMs: 10 });
  });

  it("shares a given client to publish, duplicates it once to subscribe, and never quits it", async () => {
    const client = new Redis(redis.url);
    const pubsub = open({ client, channelPrefix: "shared:" });
    const received: string[] = [];
    await pubsub.subscribe("a", (event) => {
      received.push(event.type);
    });
    await pubsub.subscribe("b", (event) => {
      received.push(event.type);
    });
    expect(await clientList(admin, "pubsub")).toHaveLength(1);
    await pubsub.publish("a", { type: "to-a", runId: "run-1", data: null });
    await until(() => received.length === 1, { intervalMs: 10 });
    await pubsub.close();
    expect(await clientList(admin, "pubsub")).toHaveLength(0);
    expect(client.status).toBe("ready");
    expect(await client.ping()).toBe("PONG");
    client.disconnect();
  });

  it("never sends a command for a topic that fails validation", async () => {
    // A heartbeat PING must not fall inside the measurement.
    const pubsub = open({ url: redis.url, heartbeatMs: 60_000 });
    // Connect both connections first, so the check below is about the commands, not the connections.
    await pubsub.subscribe("valid", () => {});
    await pubsub.publish("valid", { type: "warm-up", runId: "run-1", data: null });
    const before = await redisCommandCalls(admin);

    const event = { type: "chunk", runId: "run-1", data: null };
    for (const topic of [
      "agent.stream.{x}",
      "a b",
      "topic*",
      "",
      "agent.stream.",
      `x${"y".repeat(300)}`,
      "t\r\nPING",
    ]) {
      await expect(pubsub.publish(topic, event)).rejects.toMatchObject({ code: ErrorCode.INVALID_ID });
      await expect(pubsub.subscribe(topic, () => {})).rejects.toMatchObject({ code: ErrorCode.INVALID_ID });
    }

    const after = await redisCommandCalls(admin);
    for (const command of ["publish", "subscribe", "psubscribe", "ping"]) {
      expect(after[command] ?? 0, command).toBe(before[command] ?? 0);
    }
  });

  it("reconnects and resubscribes after CLIENT KILL TYPE pubsub, and receives what is published afterwards", async () => {
    const subscriberSide = open({ url: redis.url, channelPrefix: "kill:" });
    const publisherSide = open({ url: redis.url, channelPrefix: "kill:" });
    const received: number[] = [];
    await subscriberSide.subscribe("stream", (event) => {
      received.push((event.data as { sequence: number }).sequence);
    });
    const [before] = await clientList(admin, "pubsub");
    expect(before?.id).toBeDefined();

    let next = 0;
    let publishing = true;
    const publisher = (async () => {
      while (publishing) {
        await publisherSide.publish("stream", { type: "sequence", runId: "run-1", data: { sequence: next++ } });
        await sleep(5);
      }
    })();

    await until(() => received.length >= 20, { intervalMs: 10 });
    const killed = Number(await admin.call("CLIENT", "KILL", "TYPE", "pubsub"));
    expect(killed).toBeGreaterThanOrEqual(1);

    let after: Record<string, string> | undefined;
    await until(
      async () => {
        after = (await clientList(admin, "pubsub"))[0];
        return after !== undefined && after.id !== before?.id && after.sub === "1";
      },
      { intervalMs: 10 },
    );
    // Every publish issued from here on reaches Redis after it listed the new subscription.
    const firstAfterResubscribe = next;
    await until(() => received.includes(firstAfterResubscribe + 50), { intervalMs: 10 });
    publishing = false;
    await publisher;
    const last = next - 1;
    await until(() => received.includes(last), { intervalMs: 10 });

    const tail = received.filter((sequence) => sequence >= firstAfterResubscribe);
    expect(tail).toEqual(Array.from({ length: last - firstAfterResubscribe + 1 }, (_, i) => firstAfterResubscribe + i));
    expect(received).toEqual([...received].sort((a, b) => a - b));
    expect(after?.id).not.toBe(before?.id);
  });
});

describe("RedisPubSub with an ACL user", () => {
  let restricted: RedisServer;

  beforeAll(async () => {
    restricted = await startRedis({
      // Redis 7 denies every channel to a new user (acl-pubsub-default resetchannels); grant app:* only.
      arguments: ["--user", "app", "on", ">secret", "resetchannels", "&app:*", "+@all", "~app:*"],
    });
  });

  afterAll(async () => {
    await restricted.kill();
  });

  it("publishes and subscribes on the channels the user is granted", async () => {
    const pubsub = open({ url: `redis://app:secret@127.0.0.1:${restricted.port}`, channelPrefix: "app:" });
    const received: string[] = [];
    await pubsub.subscribe("agent.stream.run-1", (event) => {
      received.push(event.type);
    });
    await pubsub.publish("agent.stream.run-1", { type: "chunk", runId: "run-1", data: null });
    await until(() => received.length === 1, { intervalMs: 10 });
    expect(received).toEqual(["chunk"]);
  });

  it("surfaces NOPERM to the caller for channels the user is not granted", async () => {
    const pubsub = open({ url: `redis://app:secret@127.0.0.1:${restricted.port}`, channelPrefix: "other:" });
    const error = await pubsub.subscribe("agent.stream.run-1", () => {}).catch((caught: unknown) => caught);
    expect(String(error)).toMatch(/NOPERM/);
    expect(MastraInngestError.isInstance(error)).toBe(false);
    await expect(pubsub.publish("agent.stream.run-1", { type: "chunk", runId: "run-1", data: null })).rejects.toThrow(
      /NOPERM/,
    );
    // The failed subscription left nothing behind: a retry fails the same way instead of hanging.
    await expect(pubsub.subscribe("agent.stream.run-1", () => {})).rejects.toThrow(/NOPERM/);
  });
});
