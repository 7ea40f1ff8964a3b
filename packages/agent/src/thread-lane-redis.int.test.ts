import { Agent } from "@mastra/core/agent";
import { InMemoryStore } from "@mastra/core/storage";
import { scriptedModel, textTurn } from "@mastra/inngest-testing/model";
import { Memory } from "@mastra/memory";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { InngestAgent } from "./inngest-agent-types.ts";
import { type RedisCallers, startRedisCallers } from "./test/redis-callers.ts";

/**
 * The thread's lane across callers that share nothing but Redis: two agent instances (as in two
 * processes) stream on one thread at once, and the turns come out one after the other.
 * @see issue 22
 */
describe("the thread lane on Redis, between two callers", () => {
  let setup: RedisCallers;
  let callers: InngestAgent[];
  let memory: Memory;

  beforeAll(async () => {
    memory = new Memory({ storage: new InMemoryStore() as never, options: { lastMessages: 20 } });
    setup = await startRedisCallers({
      appId: "lane-redis",
      agent: () =>
        new Agent({
          id: "laned",
          name: "Laned",
          instructions: "-",
          model: scriptedModel([textTurn(["One ", "answer."]), textTurn(["Two ", "answers."])], {
            delayMs: 30,
          }) as never,
          memory,
        }),
    });
    ({ callers } = setup);
  });

  afterAll(async () => {
    await setup?.close();
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
