import { Agent } from "@mastra/core/agent";
import { Mastra } from "@mastra/core/mastra";
import { createTool } from "@mastra/core/tools";
import { silentLogger } from "@mastra/inngest-testing/helpers";
import { scriptedModel, textTurn, toolTurn } from "@mastra/inngest-testing/model";
import { Inngest } from "inngest";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { createInngestAgent } from "./create-inngest-agent.ts";
import { startTestWorld, type TestWorld } from "./test/test-world.ts";

const weather = createTool({
  id: "weather",
  description: "The weather in a city",
  inputSchema: z.object({ city: z.string() }),
  execute: async ({ city }: { city: string }) => ({ city, temperature: 21 }),
});

const script = [
  toolTurn("weather", { city: "Paris" }),
  toolTurn("weather", { city: "Oslo" }),
  textTurn("Both are at 21 degrees."),
];

function makeAgent(): Agent {
  return new Agent({
    id: "golden",
    name: "Golden",
    instructions: "Use the tool.",
    model: scriptedModel(script) as never,
    tools: { weather },
  });
}

async function chunkTypes(stream: ReadableStream<unknown>): Promise<string[]> {
  const types: string[] = [];
  for await (const chunk of stream as unknown as AsyncIterable<{ type: string }>) {
    types.push(chunk.type);
  }
  return types;
}

describe.each(["checkpoint", "classic"] as const)("the durable agent against the plain agent (%s mode)", (mode) => {
  let world: TestWorld;
  let durable: ReturnType<typeof createInngestAgent>;

  beforeAll(async () => {
    world = await startTestWorld(mode);
    const inngest = new Inngest({ id: `golden-${mode}`, isDev: true, baseUrl: world.engine.url, logger: silentLogger });
    durable = createInngestAgent({ agent: makeAgent(), inngest });
    new Mastra({ agents: { golden: durable as never }, logger: false });
    await world.serve(inngest, durable.getInngestFunctions());
  });

  afterAll(async () => {
    await durable?.pubsub.close();
    await world?.close();
  });

  it("gives the same text, finish reason, usage, tool calls, tool results and chunk types", async () => {
    const plain = await makeAgent().stream("Weather?", { maxSteps: 10 });
    const plainTypes = await chunkTypes(plain.fullStream as ReadableStream<unknown>);
    const run = await durable.stream("Weather?", { maxSteps: 10 });
    const durableTypes = await chunkTypes(run.output.fullStream as ReadableStream<unknown>);

    expect(await run.output.text).toBe(await plain.text);
    expect(await run.output.finishReason).toBe(await plain.finishReason);
    expect(await run.output.usage).toEqual(await plain.usage);
    const calls = (chunks: Array<{ payload: { toolName: string; args?: unknown } }>) =>
      chunks.map((chunk) => [chunk.payload.toolName, chunk.payload.args]);
    expect(calls((await run.output.toolCalls) as never)).toEqual(calls((await plain.toolCalls) as never));
    const results = (chunks: Array<{ payload: { result: unknown } }>) => chunks.map((chunk) => chunk.payload.result);
    expect(results((await run.output.toolResults) as never)).toEqual(results((await plain.toolResults) as never));
    expect(durableTypes).toEqual(plainTypes);
  });
});
