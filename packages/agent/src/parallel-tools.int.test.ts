import { Agent } from "@mastra/core/agent";
import { Mastra } from "@mastra/core/mastra";
import { createTool } from "@mastra/core/tools";
import { silentLogger } from "@mastra/inngest-testing/helpers";
import { scriptedModel } from "@mastra/inngest-testing/model";
import { Inngest } from "inngest";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { createInngestAgent } from "./create-inngest-agent.ts";
import { startTestWorld, type TestWorld } from "./test/test-world.ts";

let running = 0;
let mostAtOnce = 0;

const lookup = createTool({
  id: "lookup",
  description: "Looks a city up",
  inputSchema: z.object({ city: z.string() }),
  execute: async ({ city }) => {
    running++;
    mostAtOnce = Math.max(mostAtOnce, running);
    await new Promise((resolve) => setTimeout(resolve, 150));
    running--;
    return { city, found: true };
  },
});

describe.each(["checkpoint", "classic"] as const)("parallel tool calls (%s mode)", (mode) => {
  let world: TestWorld;
  let durable: ReturnType<typeof createInngestAgent>;

  beforeAll(async () => {
    world = await startTestWorld(mode);
    const inngest = new Inngest({
      id: `parallel-${mode}`,
      isDev: true,
      baseUrl: world.engine.url,
      logger: silentLogger,
    });
    durable = createInngestAgent({
      agent: new Agent({
        id: "parallel",
        name: "Parallel",
        instructions: "-",
        model: scriptedModel([
          { toolCalls: ["Paris", "Oslo", "Rome"].map((city) => ({ toolName: "lookup", args: { city } })) },
          { text: "All three found." },
        ] as never) as never,
        tools: { lookup },
      }),
      inngest,
    });
    new Mastra({ agents: { parallel: durable as never }, logger: false });
    await world.serve(inngest, durable.getInngestFunctions());
  });

  afterAll(async () => {
    await durable?.pubsub.close();
    await world?.close();
  });

  it("runs the calls of one iteration as parallel steps, each once, results in call order", async () => {
    mostAtOnce = 0;
    const { output, runId } = await durable.stream("Find three cities", { toolCallConcurrency: 3 });
    expect(await output.text).toBe("All three found.");
    const results = (await output.toolResults).map((result) => (result.payload.result as { city: string }).city);
    expect(results).toEqual(["Paris", "Oslo", "Rome"]);
    expect(mostAtOnce).toBe(3);
    const found = world.engine.runs().find((candidate) => (candidate.event.data as { runId?: string }).runId === runId);
    const run = await world.engine.waitForRun(found?.id ?? "");
    expect(
      run.steps
        .filter((step) => step.name.startsWith("tool:0:"))
        .map((step) => step.name)
        .sort(),
    ).toEqual(["tool:0:0", "tool:0:1", "tool:0:2"]);
  });

  it("runs them one at a time with toolCallConcurrency 1", async () => {
    mostAtOnce = 0;
    const { output } = await durable.stream("Find three cities", { toolCallConcurrency: 1 });
    expect(await output.text).toBe("All three found.");
    expect(mostAtOnce).toBe(1);
  });
});
