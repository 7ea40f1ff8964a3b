import { Agent } from "@mastra/core/agent";
import { Mastra } from "@mastra/core/mastra";
import type { ChunkType } from "@mastra/core/stream";
import { createTool } from "@mastra/core/tools";
import { Inngest } from "inngest";
import { describe, expectTypeOf, it } from "vitest";
import { z } from "zod";
import { createInngestAgent, isInngestAgent } from "./create-inngest-agent.ts";
import type { InngestAgent } from "./inngest-agent-types.ts";

const inngest = new Inngest({ id: "types" });
const weather = createTool({
  id: "weather",
  description: "The weather in a city",
  inputSchema: z.object({ city: z.string() }),
  execute: async ({ city }) => ({ city, degrees: 21 }),
});
const agent = new Agent({
  id: "assistant",
  name: "Assistant",
  instructions: "Answer briefly.",
  model: "openai/gpt-5.5",
  tools: { weather },
});
const durableAgent = createInngestAgent({ agent, inngest });

describe("InngestAgent", () => {
  it("forwards the wrapped agent's members with their own types", () => {
    expectTypeOf(durableAgent.generate).toEqualTypeOf<typeof agent.generate>();
    expectTypeOf(durableAgent.listTools).toEqualTypeOf<typeof agent.listTools>();
    expectTypeOf(durableAgent.getMemory).toEqualTypeOf<typeof agent.getMemory>();
    expectTypeOf(durableAgent.getInstructions).toEqualTypeOf<typeof agent.getInstructions>();
    expectTypeOf(durableAgent.agent).toEqualTypeOf<typeof agent>();
    expectTypeOf(durableAgent.generate("hi")).resolves.toHaveProperty("text").toEqualTypeOf<string>();
  });

  it("puts its own stream() in place of the agent's", () => {
    expectTypeOf(durableAgent.stream("hi")).resolves.toHaveProperty("runId").toEqualTypeOf<string>();
    expectTypeOf(durableAgent.stream("hi")).resolves.toHaveProperty("abort").toEqualTypeOf<() => Promise<void>>();
    expectTypeOf(durableAgent.observe).parameter(1).exclude<undefined>().toHaveProperty("offset");
  });

  it("is assignable to the plain default InngestAgent, and registers with Mastra without a cast", () => {
    expectTypeOf(durableAgent).toExtend<InngestAgent>();
    const registered: ReturnType<typeof createInngestAgent> = durableAgent;
    new Mastra({ agents: { durableAgent, registered }, logger: false });
  });

  it("narrows with isInngestAgent", () => {
    const value: unknown = durableAgent;
    if (isInngestAgent(value)) {
      expectTypeOf(value.resume).toBeFunction();
    }
  });

  it("accepts callbacks as a user writes them, typed with core's chunks", () => {
    const chunks: ChunkType[] = [];
    void durableAgent.stream("hi", {
      onChunk: (chunk) => chunks.push(chunk),
      onFinish: (result) => {
        expectTypeOf(result.text).toEqualTypeOf<string>();
      },
      onStepFinish: async (step) => {
        expectTypeOf(step).not.toBeAny();
      },
      onError: ({ error }) => {
        expectTypeOf(error).toEqualTypeOf<Error | string>();
      },
      onSuspended: (data) => data.toolCallId,
      maxSteps: 3,
      memory: { thread: "thread-1", resource: "user-1" },
    });
    void durableAgent.observe("run-1", { offset: 0, onChunk: (chunk) => chunks.push(chunk) });
    void durableAgent.resume("run-1", { approved: true }, { toolCallId: "call-1", onFinish: () => 1 });
    void durableAgent.prepare("hi", { memory: { threadId: "thread-1", resourceId: "user-1" } });
  });

  it("rejects a misspelled option", () => {
    // @ts-expect-error `maxStep` is not an option of stream()
    void durableAgent.stream("hi", { maxStep: 3 });
    // @ts-expect-error `ofset` is not an option of observe()
    void durableAgent.observe("run-1", { ofset: 0 });
    // @ts-expect-error `toolCall` is not an option of resume()
    void durableAgent.resume("run-1", {}, { toolCall: "call-1" });
    // @ts-expect-error messages are core's message input, not a number
    void durableAgent.stream(42);
  });

  it("types functionOptions from Inngest's createFunction options", () => {
    createInngestAgent({
      agent,
      inngest,
      functionOptions: { retries: 2, concurrency: { limit: 1, key: "event.data.runId" } },
    });
    // @ts-expect-error retries is 0 to 20
    createInngestAgent({ agent, inngest, functionOptions: { retries: 50 } });
    // @ts-expect-error the loop owns its triggers
    createInngestAgent({ agent, inngest, functionOptions: { triggers: [] } });
  });
});

describe("InngestAgent structured output", () => {
  it("infers the object type from the schema, as the plain agent's stream() does", async () => {
    const result = await durableAgent.stream("Answer", {
      structuredOutput: { schema: z.object({ answer: z.string() }) },
    });
    expectTypeOf(result.output.object).resolves.toEqualTypeOf<{ answer: string }>();
  });
});
