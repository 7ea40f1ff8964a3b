import { Agent } from "@mastra/core/agent";
import { Mastra } from "@mastra/core/mastra";
import { InMemoryStore } from "@mastra/core/storage";
import { silentLogger } from "@mastra/inngest-testing/helpers";
import { scriptedModel, textTurn } from "@mastra/inngest-testing/model";
import { Memory } from "@mastra/memory";
import { Inngest } from "inngest";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createInngestAgent } from "./create-inngest-agent.ts";
import { startTestWorld, type TestWorld } from "./test/test-world.ts";

describe("memory", () => {
  let world: TestWorld;
  let memory: Memory;
  let durable: ReturnType<typeof createInngestAgent>;

  beforeAll(async () => {
    world = await startTestWorld();
    memory = new Memory({ storage: new InMemoryStore() as never, options: { lastMessages: 10 } });
    const inngest = new Inngest({ id: "memory", isDev: true, baseUrl: world.engine.url, logger: silentLogger });
    durable = createInngestAgent({
      agent: new Agent({
        id: "remembering",
        name: "Remembering",
        instructions: "-",
        model: scriptedModel([textTurn("Nice to meet you, Ada.")]) as never,
        memory,
      }),
      inngest,
    });
    new Mastra({ agents: { remembering: durable as never }, storage: new InMemoryStore() as never, logger: false });
    await world.serve(inngest, durable.getInngestFunctions());
  });

  afterAll(async () => {
    await durable?.pubsub.close();
    await world?.close();
  });

  it.each([
    ["Mastra's { thread, resource }", { thread: "thread-1", resource: "user-1" }, "thread-1"],
    ["the reference's { threadId, resourceId }", { threadId: "thread-2", resourceId: "user-2" }, "thread-2"],
  ])("saves the user's message and the answer to the thread with %s", async (_form, memoryOption, threadId) => {
    const {
      output,
      threadId: reported,
      runId,
    } = await durable.stream("My name is Ada.", { memory: memoryOption as never });
    expect(await output.text).toBe("Nice to meet you, Ada.");
    expect(reported).toBe(threadId);
    const found = world.engine.runs().find((candidate) => (candidate.event.data as { runId?: string }).runId === runId);
    await world.engine.waitForRun(found?.id ?? "");
    const { messages } = await memory.recall({ threadId });
    const texts = messages.map((message) => {
      const content = message.content as { parts?: Array<{ type: string; text?: string }> };
      return [
        message.role,
        content.parts
          ?.filter((part) => part.type === "text")
          .map((part) => part.text)
          .join(""),
      ];
    });
    expect(texts).toEqual([
      ["user", "My name is Ada."],
      ["assistant", "Nice to meet you, Ada."],
    ]);
  });
});
