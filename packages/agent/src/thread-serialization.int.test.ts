import { Agent } from "@mastra/core/agent";
import { Mastra } from "@mastra/core/mastra";
import { InMemoryStore } from "@mastra/core/storage";
import { silentLogger } from "@mastra/inngest-testing/helpers";
import { type ScriptedModelCallOptions, scriptedModel, textTurn } from "@mastra/inngest-testing/model";
import { Memory } from "@mastra/memory";
import { Inngest } from "inngest";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createInngestAgent } from "./create-inngest-agent.ts";
import { startTestWorld, type TestWorld } from "./test/test-world.ts";

/** The texts of a thread's messages, as [role, text] pairs, in the order memory recalls them. */
async function threadTexts(memory: Memory, threadId: string): Promise<[string, string][]> {
  const { messages } = await memory.recall({ threadId });
  return messages.map((message) => {
    const content = message.content as { parts?: Array<{ type: string; text?: string }> };
    const text = (content.parts ?? [])
      .filter((part) => part.type === "text")
      .map((part) => part.text ?? "")
      .join("");
    return [message.role, text];
  });
}

/**
 * Runs on one memory thread never overlap: the loop's function has a concurrency constraint keyed
 * on the thread (limit 1), so a second `stream()` waits until the first run ended.
 * @see issue 22
 */
describe("runs on one memory thread", () => {
  let world: TestWorld;
  let memory: Memory;
  let durable: ReturnType<typeof createInngestAgent>;
  const prompts: number[] = [];

  beforeAll(async () => {
    world = await startTestWorld();
    memory = new Memory({ storage: new InMemoryStore() as never, options: { lastMessages: 20 } });
    const inngest = new Inngest({ id: "threads", isDev: true, baseUrl: world.engine.url, logger: silentLogger });
    const onCall = (options: ScriptedModelCallOptions): void => {
      // How many assistant messages the model saw: 1 means the earlier turn was in memory already.
      prompts.push(options.prompt.filter((message) => message.role === "assistant").length);
    };
    durable = createInngestAgent({
      agent: new Agent({
        id: "threaded",
        name: "Threaded",
        instructions: "-",
        model: scriptedModel([textTurn(["First ", "answer ", "in ", "parts."]), textTurn(["Second ", "answer."])], {
          delayMs: 40,
          onCall,
        }) as never,
        memory,
      }),
      inngest,
    });
    new Mastra({ agents: { threaded: durable as never }, storage: new InMemoryStore() as never, logger: false });
    await world.serve(inngest, durable.getInngestFunctions());
  });

  afterAll(async () => {
    await durable?.pubsub.close();
    await world?.close();
  });

  it("gives two concurrent stream() calls two complete turns, one after the other, in memory", async () => {
    const memoryOption = { thread: "thread-serial", resource: "user-1" };
    const [first, second] = await Promise.all([
      durable.stream("Question one", { memory: memoryOption }),
      durable.stream("Question two", { memory: memoryOption }),
    ]);
    const secondChunks: { type: string; data?: unknown }[] = [];
    const reading = (async () => {
      for await (const chunk of second.output.fullStream as AsyncIterable<{ type: string; data?: unknown }>) {
        secondChunks.push(chunk);
      }
    })();
    const [firstText, secondText] = await Promise.all([first.output.text, second.output.text, reading]);
    expect(firstText).toBe("First answer in parts.");
    expect(secondText).toBe("Second answer.");
    // The second run's model call saw the first run's answer.
    expect(prompts).toEqual([0, 1]);
    // The caller's stream says it waited, and for which run.
    expect(secondChunks[0]).toEqual({
      type: "data-run-queued",
      runId: second.runId,
      from: "AGENT",
      data: { threadId: "thread-serial", ahead: [first.runId] },
    });
    const runs = world.engine.runs().filter((run) => run.functionId === "threads-agent-threaded");
    expect(runs).toHaveLength(2);
    expect(runs[1]?.startedAt).toBeGreaterThanOrEqual(runs[0]?.endedAt ?? Number.POSITIVE_INFINITY);
    expect(await threadTexts(memory, "thread-serial")).toEqual([
      ["user", "Question one"],
      ["assistant", "First answer in parts."],
      ["user", "Question two"],
      ["assistant", "Second answer."],
    ]);
  });
});
