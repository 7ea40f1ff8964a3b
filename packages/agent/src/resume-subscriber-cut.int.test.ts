import { RedisPubSub } from "@mastra/inngest-pubsub-redis";
import type { RedisStreamCache } from "@mastra/inngest-stream-cache-redis";
import { DroppingPubSub, silentLogger } from "@mastra/inngest-testing/helpers";
import Redis from "ioredis";
import { afterAll, beforeAll, expect, it } from "vitest";
import type { InngestAgent } from "./inngest-agent-types.ts";
import { type BankOnRedis, startBankOnRedis } from "./test/bank-on-redis.ts";

// The stream of a resume() loses its live feed in the middle of the run: the Redis connection that
// carries its subscription is killed, or every live delivery after the tool's result is lost. What
// follows reaches it from the history, and the stream ends as the run did.

let setup: BankOnRedis<RedisStreamCache>;
let agent: InngestAgent;
let admin: Redis;
let dropping: DroppingPubSub;
let dropAfterToolResult = false;
let toolResultSeen = false;

beforeAll(async () => {
  setup = await startBankOnRedis({
    appId: "resume-subscriber-cut",
    pubsub: (url) => {
      dropping = new DroppingPubSub(
        new RedisPubSub({ url, logger: silentLogger }),
        () => dropAfterToolResult && toolResultSeen,
      );
      return dropping;
    },
  });
  agent = setup.agent;
  admin = new Redis(setup.redis.url);
});

afterAll(async () => {
  admin?.disconnect();
  await setup?.close();
});

it("a resume() stream whose subscriber connection is killed at the tool's result still ends with the answer", async () => {
  for (let round = 0; round < 4; round++) {
    const started = await agent.stream("Send 5", { memory: { thread: `kill-${round}`, resource: "ada" } });
    expect(await started.output.finishReason).toBe("suspended");
    let killed = 0;
    const resumed = await agent.resume(
      started.runId,
      { approved: true },
      {
        resourceId: "ada",
        onChunk: async (chunk) => {
          if (chunk.type === "tool-result") {
            killed = Number(await admin.call("CLIENT", "KILL", "TYPE", "pubsub"));
          }
        },
      },
    );
    expect(await resumed.output.text).toBe("Done.");
    expect(await resumed.output.finishReason).toBe("stop");
    expect(killed).toBeGreaterThan(0);
  }
}, 30_000);

it("a resume() stream that receives nothing live after the tool's result reads the rest from history", async () => {
  const started = await agent.stream("Send 5", { memory: { thread: "dropped", resource: "ada" } });
  expect(await started.output.finishReason).toBe("suspended");
  const droppedBefore = dropping.dropped.length;
  dropAfterToolResult = true;
  const types: string[] = [];
  try {
    const resumed = await agent.resume(
      started.runId,
      { approved: true },
      {
        resourceId: "ada",
        onChunk: (chunk) => {
          types.push(chunk.type);
          if (chunk.type === "tool-result") {
            toolResultSeen = true;
          }
        },
      },
    );
    expect(await resumed.output.text).toBe("Done.");
  } finally {
    dropAfterToolResult = false;
    toolResultSeen = false;
  }
  // The fault happened: the run's end was published after the tool's result and never arrived live.
  expect(dropping.dropped.length).toBeGreaterThan(droppedBefore);
  expect(types).toContain("text-delta");
}, 20_000);
