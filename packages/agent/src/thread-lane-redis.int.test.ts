import { Agent } from "@mastra/core/agent";
import { Mastra } from "@mastra/core/mastra";
import { InMemoryStore } from "@mastra/core/storage";
import { RedisStreamCache } from "@mastra/inngest-stream-cache-redis";
import { type RedisServer, startRedis } from "@mastra/inngest-testing";
import { silentLogger } from "@mastra/inngest-testing/helpers";
import { scriptedModel, textTurn } from "@mastra/inngest-testing/model";
import { Memory } from "@mastra/memory";
import { Inngest } from "inngest";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createInngestAgent } from "./create-inngest-agent.ts";
import { startTestWorld, type TestWorld } from "./test/test-world.ts";

/**
 * The thread's lane across callers that share nothing but Redis: two agent instances (as in two
 * processes) stream on one thread at once, and the turns come out one after the other.
 * @see issue 22
 */
describe("the thread lane on Redis, between two callers", () => {
  let world: TestWorld;
  let redis: RedisServer;
  const caches: RedisStreamCache[] = [];
  const callers: ReturnType<typeof createInngestAgent>[] = [];
  let memory: Memory;

  beforeAll(async () => {
    redis = await startRedis();
    world = await startTestWorld();
    memory = new Memory({ storage: new InMemoryStore() as never, options: { lastMessages: 20 } });
    for (const name of ["a", "b"]) {
      const inngest = new Inngest({ id: "lane-redis", isDev: true, baseUrl: world.engine.url, logger: silentLogger });
      const cache = new RedisStreamCache({ url: redis.url, keyPrefix: "lane-redis" });
      caches.push(cache);
      const durable = createInngestAgent({
        agent: new Agent({
          id: "laned",
          name: "Laned",
          instructions: "-",
          model: scriptedModel([textTurn(["One ", "answer."]), textTurn(["Two ", "answers."])], {
            delayMs: 30,
          }) as never,
          memory,
        }),
        inngest,
        cache,
      });
      new Mastra({ agents: { laned: durable as never }, storage: new InMemoryStore() as never, logger: false });
      callers.push(durable);
      if (name === "a") {
        await world.serve(inngest, durable.getInngestFunctions());
      }
    }
  });

  afterAll(async () => {
    for (const caller of callers) {
      await caller.pubsub.close();
    }
    for (const cache of caches) {
      await cache.close();
    }
    await world?.close();
    await redis?.kill();
  });

  it("serializes two callers' runs on one thread: one waits, memory has two whole turns", async () => {
    const memoryOption = { thread: "shared-thread", resource: "user-1" };
    const results = await Promise.all(
      callers.map((caller, index) => caller.stream(`From ${index}`, { memory: memoryOption })),
    );
    const firstChunks = await Promise.all(
      results.map(async (result) => {
        const reader = (result.fullStream as ReadableStream<{ type: string }>).getReader();
        const { value } = await reader.read();
        reader.releaseLock();
        return value?.type;
      }),
    );
    const texts = await Promise.all(results.map((result) => result.output.text));
    expect(firstChunks.filter((type) => type === "data-run-queued")).toHaveLength(1);
    expect([...texts].sort()).toEqual(["One answer.", "Two answers."]);
    const { messages } = await memory.recall({ threadId: "shared-thread" });
    expect(messages.map((message) => message.role)).toEqual(["user", "assistant", "user", "assistant"]);
  });
});
