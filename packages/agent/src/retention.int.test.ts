import { readFileSync } from "node:fs";
import { Mastra } from "@mastra/core/mastra";
import { ErrorCode, MastraInngestError } from "@mastra/inngest-core";
import { RedisStreamCache } from "@mastra/inngest-stream-cache-redis";
import { type RedisServer, startRedis } from "@mastra/inngest-testing";
import { silentLogger, until } from "@mastra/inngest-testing/helpers";
import { Inngest } from "inngest";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createInngestAgent } from "./create-inngest-agent.ts";
import type { CreateInngestAgentOptions } from "./inngest-agent-options.ts";
import type { InngestAgent } from "./inngest-agent-types.ts";
import { bank } from "./test/bank-agent.ts";
import { startTestWorld, type TestWorld } from "./test/test-world.ts";

// Every key a run creates carries a TTL from one retention policy, and the invariants hold on a
// real Redis: the record and claim outlive the history, nothing of a waiting run expires before its
// wait can end, an ended run's keys all expire, and the documented defaults (docs/retention.md) are what Redis shows.

/** A run's keys on Redis with their time to live in milliseconds, history and bookkeeping apart. */
interface RunKeys {
  history: Map<string, number>;
  bookkeeping: Map<string, number>;
}

async function runKeys(redis: Redis, runId: string): Promise<RunKeys> {
  const keys = await redis.keys(`*${runId}*`);
  const ttls = await Promise.all(keys.map((key) => redis.pttl(key)));
  const all = keys.map((key, position) => [key, ttls[position] as number] as const);
  return {
    history: new Map(all.filter(([key]) => key.includes("agent.stream."))),
    bookkeeping: new Map(all.filter(([key]) => !key.includes("agent.stream."))),
  };
}

/** Waits until the run's record says it ended: the loop writes it just after the finish event. */
async function untilEnded(redis: Redis, runId: string): Promise<void> {
  await until(
    async () => {
      const [key] = await redis.keys(`*{${runId}}:run`);
      const record = key === undefined ? null : await redis.get(key);
      return record !== null && /"status":"(finished|failed|aborted)"/.test(record);
    },
    { timeoutMs: 10_000, description: "the run's final record" },
  );
}

const minimum = (ttls: Map<string, number>) => Math.min(...ttls.values());
const maximum = (ttls: Map<string, number>) => Math.max(...ttls.values());
/** Slack for the time between a write and the PTTL read, on a loaded machine. */
const slackMs = 10_000;

describe("run retention on Redis", () => {
  let world: TestWorld;
  let redis: RedisServer;
  let client: Redis;
  let inngest: Inngest;
  const agents: InngestAgent[] = [];

  /** A bank agent (one approval per run) on its own key prefix of the test's Redis. */
  async function agentWith(
    id: string,
    options: Pick<CreateInngestAgentOptions, "retention" | "waitTimeoutMs"> & { ttlSeconds?: number },
  ): Promise<InngestAgent> {
    const { ttlSeconds, ...rest } = options;
    const cache = new RedisStreamCache({ url: redis.url, ...(ttlSeconds === undefined ? {} : { ttlSeconds }) });
    const durable = createInngestAgent({ agent: bank(), id, inngest, cache, ...rest });
    new Mastra({ agents: { [id]: durable }, logger: false });
    agents.push(durable);
    await world.serve(inngest, durable.getInngestFunctions());
    return durable;
  }

  beforeAll(async () => {
    world = await startTestWorld();
    redis = await startRedis();
    client = new Redis(redis.url);
    inngest = new Inngest({ id: "retention", isDev: true, baseUrl: world.engine.url, logger: silentLogger });
  });

  afterAll(async () => {
    client?.disconnect();
    for (const durable of agents) {
      await durable.pubsub.close();
    }
    await world?.close();
    await redis?.stop();
  });

  it("keeps a waiting run's keys as long as its wait, longer than the history of a running run", async () => {
    const retention = { activeMs: 60_000, endedMs: 20_000 };
    const waitTimeoutMs = 300_000;
    const durable = await agentWith("keeper", { retention, waitTimeoutMs });
    const { output, runId } = await durable.stream("Send 5", { memory: { thread: "t", resource: "ada" } });
    expect(await output.finishReason).toBe("suspended");

    const waiting = await runKeys(client, runId);
    expect(waiting.history.size).toBeGreaterThan(0);
    expect([...waiting.bookkeeping.keys()].map((key) => key.replace(/^.*:run/, "run"))).toEqual(
      expect.arrayContaining(["run", "run:claim", "run:claimants"]),
    );
    // The wait is longer than a running run's history lives: the history is kept for the wait.
    expect(minimum(waiting.history)).toBeGreaterThan(waitTimeoutMs + retention.endedMs - slackMs);
    expect(minimum(waiting.bookkeeping)).toBeGreaterThan(maximum(waiting.history));

    const resumed = await durable.resume(runId, { approved: true }, { resourceId: "ada" });
    expect(await resumed.output.text).toBe("Done.");
    await untilEnded(client, runId);
    const ended = await runKeys(client, runId);
    expect([...ended.bookkeeping.keys()].some((key) => key.includes(":decision:"))).toBe(true);
    // Every key expires; the history after endedMs, the rest after it.
    expect(minimum(ended.history)).toBeGreaterThan(0);
    expect(maximum(ended.history)).toBeLessThanOrEqual(retention.endedMs);
    expect(minimum(ended.bookkeeping)).toBeGreaterThan(maximum(ended.history));
    // Nothing keeps the cache's default TTL (a day) it was pushed with: the record and claim go
    // endedMs + activeMs after the end, a decision at most as long as a waiting run's keys.
    for (const [key, ttl] of ended.bookkeeping) {
      const bound = key.includes(":decision:")
        ? waitTimeoutMs + retention.endedMs + retention.activeMs
        : retention.endedMs + retention.activeMs;
      expect(ttl, key).toBeLessThanOrEqual(bound);
    }
  });

  it("defaults the retention from the cache's TTL, and a run id stays claimed after its history expired", async () => {
    const durable = await agentWith("short", { ttlSeconds: 3, waitTimeoutMs: 60_000 });
    const { output, runId } = await durable.stream("Send 5", { memory: { thread: "t", resource: "bo" } });
    expect(await output.finishReason).toBe("suspended");
    const resumed = await durable.resume(runId, { approved: true }, { resourceId: "bo" });
    expect(await resumed.output.text).toBe("Done.");
    await untilEnded(client, runId);
    const ended = await runKeys(client, runId);
    // activeMs = the cache's 3 s, endedMs = at most activeMs.
    expect(maximum(ended.history)).toBeLessThanOrEqual(3_000);
    expect(minimum(ended.bookkeeping)).toBeGreaterThan(maximum(ended.history));

    await new Promise((resolve) => setTimeout(resolve, maximum(ended.history) + 200));
    const expired = await runKeys(client, runId);
    expect(expired.history.size).toBe(0);
    expect(expired.bookkeeping.size).toBeGreaterThan(0);
    // The id is still taken, and observe() says the history is gone instead of waiting for it.
    const again = await durable.stream("Send 5", { runId, memory: { thread: "t", resource: "bo" } }).catch((e) => e);
    expect(MastraInngestError.isInstance(again, ErrorCode.RUN_IN_USE)).toBe(true);
    const observed = await durable.observe(runId, { resourceId: "bo" }).catch((e) => e);
    expect(MastraInngestError.isInstance(observed, ErrorCode.OFFSET_EXPIRED)).toBe(true);
  });

  it("shows on Redis the defaults the retention table of docs/retention.md gives", async () => {
    const table = documentedRetention();
    const durable = await agentWith("defaults", {});
    const { output, runId } = await durable.stream("Send 5", { memory: { thread: "t", resource: "cy" } });
    expect(await output.finishReason).toBe("suspended");
    const waiting = await runKeys(client, runId);
    expect(minimum(waiting.history)).toBeGreaterThan(table.waiting.history - slackMs);
    expect(maximum(waiting.history)).toBeLessThanOrEqual(table.waiting.history);
    expect(minimum(waiting.bookkeeping)).toBeGreaterThan(table.waiting.bookkeeping - slackMs);
    const resumed = await durable.resume(runId, { approved: true }, { resourceId: "cy" });
    expect(await resumed.output.text).toBe("Done.");
    await untilEnded(client, runId);
    const ended = await runKeys(client, runId);
    expect(minimum(ended.history)).toBeGreaterThan(table.ended.history - slackMs);
    expect(maximum(ended.history)).toBeLessThanOrEqual(table.ended.history);
    // The record is written at the end with exactly its time; the claim may keep a longer one.
    const record = [...ended.bookkeeping].find(([key]) => key.endsWith(":run"));
    expect(record?.[1]).toBeGreaterThan(table.ended.bookkeeping - slackMs);
    expect(record?.[1]).toBeLessThanOrEqual(table.ended.bookkeeping);
  });
});

/** The retention table of docs/retention.md, with the default figures, in milliseconds, per phase and key group. */
function documentedRetention(): Record<"running" | "waiting" | "ended", { history: number; bookkeeping: number }> {
  const section = readFileSync(new URL("../docs/retention.md", import.meta.url), "utf8");
  const hours = (cell: string) => Number(/\((\d+) h\)/.exec(cell)?.[1]) * 3_600_000;
  const row = (phase: string) => {
    const match = new RegExp(`^\\| ${phase} \\| (.+) \\| (.+) \\|$`, "m").exec(section);
    if (match === null) {
      throw new Error(`docs/retention.md's retention table has no row "${phase}"`);
    }
    return { history: hours(match[1] as string), bookkeeping: hours(match[2] as string) };
  };
  return { running: row("running"), waiting: row("waiting"), ended: row("ended") };
}
