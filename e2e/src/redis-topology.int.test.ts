import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import type { Event } from "@mastra/core/events";
import { RedisPubSub } from "@mastra/inngest-pubsub-redis";
import { CachingPubSub } from "@mastra/inngest-stream-cache";
import { RedisStreamCache } from "@mastra/inngest-stream-cache-redis";
import { type RedisServer, startRedis } from "@mastra/inngest-testing";
import { describePubSubConformance } from "@mastra/inngest-testing/pubsub";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from "vitest";

// The all-Redis topology: RedisPubSub for live delivery, RedisStreamCache for history, CachingPubSub
// on top, as a deployment with separate callers and workers runs it.

let redis: RedisServer;
let admin: Redis;

beforeAll(async () => {
  redis = await startRedis({ appendOnly: true });
  admin = new Redis(redis.url);
});

afterAll(async () => {
  admin?.disconnect();
  await redis?.kill();
});

interface Topology {
  pubsub: CachingPubSub;
  close(): Promise<void>;
}

function topology(options: { subscriberRetryMs?: number; idleRecheckMs?: number } = {}): Topology {
  const cache = new RedisStreamCache({ url: redis.url });
  const live = new RedisPubSub({
    url: redis.url,
    heartbeatMs: 1_000,
    ...(options.subscriberRetryMs === undefined
      ? {}
      : { redisOptions: { retryStrategy: () => options.subscriberRetryMs as number } }),
  });
  const pubsub = new CachingPubSub(live, cache, { idleRecheckMs: options.idleRecheckMs ?? 300, batchWindowMs: 2 });
  const handle: Topology = {
    pubsub,
    async close() {
      await pubsub.close();
      await cache.close();
    },
  };
  onTestFinished(() => handle.close());
  return handle;
}

/** Collects one run's chunk sequence numbers and whether its stream finished. */
function observer(): { sequences: number[]; finished: boolean; callback: (event: Event) => void } {
  const state = {
    sequences: [] as number[],
    finished: false,
    callback: (event: Event) => {
      if (event.type === "chunk") {
        state.sequences.push((event.data as { sequence: number }).sequence);
      } else if (event.type === "finish") {
        state.finished = true;
      }
    },
  };
  return state;
}

const range = (count: number): number[] => Array.from({ length: count }, (_, index) => index);

/** MONITOR lines not issued by a script, from one connection's point of view. */
async function monitorCommands(): Promise<{ commands: string[]; stop(): void }> {
  const monitor = await admin.duplicate().monitor();
  const commands: string[] = [];
  monitor.on("monitor", (_time: string, args: string[], source: string) => {
    if (!source.includes("lua")) {
      commands.push(String(args[0]).toLowerCase());
    }
  });
  return { commands, stop: () => monitor.disconnect() };
}

describe("the all-Redis topology", () => {
  it("stores and announces a batch of events in one command", async () => {
    // No re-reads of history by the watcher: the test counts the commands of publishing.
    const { pubsub } = topology({ idleRecheckMs: 0 });
    const watcher = observer();
    await pubsub.subscribeWithReplay("agent.stream.one-command", watcher.callback);
    // Warm up: load the script.
    await pubsub.publish("agent.stream.one-command", { type: "chunk", runId: "one-command", data: { sequence: -1 } });
    await pubsub.flush();
    const monitor = await monitorCommands();
    try {
      await admin.ping();
      await expect.poll(() => monitor.commands.includes("ping"), { timeout: 5_000 }).toBe(true);
      monitor.commands.length = 0;
      for (const sequence of range(40)) {
        await pubsub.publish("agent.stream.one-command", { type: "chunk", runId: "one-command", data: { sequence } });
      }
      await pubsub.flush();
      await expect.poll(() => watcher.sequences.length, { timeout: 5_000 }).toBe(41);
      await admin.ping();
      await expect.poll(() => monitor.commands.at(-1), { timeout: 5_000 }).toBe("ping");
      // One EVALSHA stored the 40 events and published them (its PUBLISH runs inside the script).
      expect(monitor.commands.filter((command) => command !== "ping")).toEqual(["evalsha"]);
    } finally {
      monitor.stop();
    }
  });

  it("delivers each run's events exactly once, in order, to observers in another process", async () => {
    const runs = process.env.CI ? 20 : 100;
    const events = process.env.CI ? 100 : 500;
    const { pubsub } = topology({ idleRecheckMs: 1_000 });
    const observers = range(runs).map(() => observer());
    await Promise.all(
      observers.map((watcher, run) => pubsub.subscribeWithReplay(`agent.stream.cross-${run}`, watcher.callback)),
    );
    const publisher = spawn(
      process.execPath,
      [
        "--conditions=@mastra/inngest-source",
        fileURLToPath(new URL("./fixtures/redis-publisher.ts", import.meta.url)),
        redis.url,
        String(runs),
        String(events),
        "cross",
      ],
      { stdio: ["ignore", "inherit", "inherit"] },
    );
    const exitCode = await new Promise<number | null>((resolve) => publisher.once("exit", resolve));
    expect(exitCode).toBe(0);
    await expect
      .poll(() => observers.every((watcher) => watcher.finished), { timeout: 60_000, interval: 100 })
      .toBe(true);
    for (const watcher of observers) {
      expect(watcher.sequences).toEqual(range(events));
    }
  }, 120_000);

  it("ends with the full sequence while the subscriber connection is killed again and again", async () => {
    const { pubsub } = topology();
    const watcher = observer();
    await pubsub.subscribeWithReplay("agent.stream.kills", watcher.callback);
    let kills = 0;
    const killer = setInterval(() => {
      void admin.call("CLIENT", "KILL", "TYPE", "pubsub").then((killed) => {
        kills += Number(killed);
      });
    }, 100);
    try {
      for (const sequence of range(1_000)) {
        await pubsub.publish("agent.stream.kills", { type: "chunk", runId: "kills", data: { sequence } });
        // Spread the stream over about two seconds, so the killer strikes many times during it.
        if (sequence % 10 === 0) {
          await new Promise((resolve) => setTimeout(resolve, 20));
        }
      }
    } finally {
      clearInterval(killer);
    }
    await pubsub.publish("agent.stream.kills", { type: "finish", runId: "kills", data: {} });
    expect(kills).toBeGreaterThanOrEqual(5);
    await expect.poll(() => watcher.finished, { timeout: 20_000 }).toBe(true);
    expect(watcher.sequences).toEqual(range(1_000));
  }, 60_000);

  it("ends with the full sequence when the subscriber reconnects more slowly than the publisher", async () => {
    const publisher = topology();
    const subscriber = topology({ subscriberRetryMs: 1_500 });
    const watcher = observer();
    await subscriber.pubsub.subscribeWithReplay("agent.stream.slow", watcher.callback);
    const killed = Number(await admin.call("CLIENT", "KILL", "TYPE", "pubsub"));
    expect(killed).toBeGreaterThanOrEqual(1);
    for (const sequence of range(300)) {
      await publisher.pubsub.publish("agent.stream.slow", { type: "chunk", runId: "slow", data: { sequence } });
      if (sequence % 30 === 0) {
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    }
    await publisher.pubsub.publish("agent.stream.slow", { type: "finish", runId: "slow", data: {} });
    await expect.poll(() => watcher.finished, { timeout: 20_000 }).toBe(true);
    expect(watcher.sequences).toEqual(range(300));
  }, 60_000);
});

describePubSubConformance({
  name: "CachingPubSub over RedisPubSub and RedisStreamCache",
  capabilities: { ordered: true, replay: true, crossProcess: true },
  create: ({ namespace }) => {
    const cache = new RedisStreamCache({ url: redis.url });
    const pubsub = new CachingPubSub(new RedisPubSub({ url: redis.url, channelPrefix: `${namespace}:` }), cache, {
      keyPrefix: namespace,
      batchWindowMs: 1,
      idleRecheckMs: 200,
    });
    const close = pubsub.close.bind(pubsub);
    pubsub.close = async () => {
      await close();
      await cache.close();
    };
    return pubsub;
  },
});
