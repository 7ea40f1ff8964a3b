import { Agent } from "@mastra/core/agent";
import { createTool } from "@mastra/core/tools";
import { silentLogger } from "@mastra/inngest-testing/helpers";
import { scriptedModel, textTurn, toolTurn } from "@mastra/inngest-testing/model";
import { Inngest } from "inngest";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { createInngestAgent } from "./create-inngest-agent.ts";
import type { InngestAgent } from "./inngest-agent-types.ts";
import { startTestWorld, type TestWorld } from "./test/test-world.ts";

// What Inngest stores per run is the sum of the step outputs: the history must be stored once, not
// once per step, and the provider request (the whole prompt again) not at all.

const cities = ["Paris", "Oslo", "Rome", "Lima", "Kyiv"];
const question = "What is the weather in five cities?";

const weather = createTool({
  id: "weather",
  description: "The weather in a city",
  inputSchema: z.object({ city: z.string() }),
  execute: async ({ city }: { city: string }) => ({ city, temperature: 21, summary: `Sunny in ${city}.` }),
});

/** Every object of a memo that is a message (an id and a role), as JSON. */
function messagesIn(value: unknown, found: string[] = []): string[] {
  if (Array.isArray(value)) {
    for (const item of value) messagesIn(item, found);
  } else if (value !== null && typeof value === "object") {
    const record = value as Record<string, unknown>;
    if (typeof record.id === "string" && typeof record.role === "string") found.push(JSON.stringify(record));
    for (const item of Object.values(record)) messagesIn(item, found);
  }
  return found;
}

describe.each(["checkpoint", "classic"] as const)("memoized state in %s mode", (mode) => {
  let world: TestWorld;
  let agent: InngestAgent;

  beforeAll(async () => {
    world = await startTestWorld(mode);
    const inngest = new Inngest({ id: `memo-${mode}`, isDev: true, baseUrl: world.engine.url, logger: silentLogger });
    const model = scriptedModel(
      [...cities.map((city) => toolTurn("weather", { city })), textTurn("Sunny everywhere.")],
      // Real providers report the request body: the whole prompt, growing with the conversation.
      { requestBody: true },
    );
    agent = createInngestAgent({
      inngest,
      agent: new Agent({
        id: `memo-${mode}`,
        name: "Memo",
        instructions: "Use the tool.",
        model: model as never,
        tools: { weather },
      }),
    });
    await world.serve(inngest, agent.getInngestFunctions());
  });

  afterAll(async () => {
    await agent?.pubsub.close();
    await world?.close();
  });

  it("stores each message once and no provider request, however many iterations", async () => {
    const { output, runId } = await agent.stream(question, { maxSteps: 10 });
    expect(await output.text).toBe("Sunny everywhere.");
    expect((await output.toolResults).map((result) => (result.payload.args as { city: string }).city)).toEqual(cities);

    const found = world.engine.runs().find((run) => (run.event.data as { runId?: string }).runId === runId);
    const run = await world.engine.waitForRun(found?.id ?? "");
    expect(run.status).toBe("Completed");
    const nameOf = new Map(run.steps.map((step) => [step.hashedId, step.name]));
    const memos = Object.entries(run.memoized).map(([hashedId, value]) => ({
      name: nameOf.get(hashedId) ?? hashedId,
      json: JSON.stringify(value),
    }));
    expect(memos.map((memo) => memo.name)).toContain("llm:5");

    for (const memo of memos) {
      // The request body embeds the prompt as a JSON string; the instructions are part of every prompt.
      expect(memo.json, memo.name).not.toContain('\\"prompt\\"');
      expect(memo.json, memo.name).not.toContain(question);
    }
    const holders = new Map<string, string[]>();
    for (const memo of memos) {
      for (const message of messagesIn(JSON.parse(memo.json))) {
        holders.set(message, [...(holders.get(message) ?? []), memo.name]);
      }
    }
    expect(holders.size).toBeGreaterThan(0);
    for (const [message, steps] of holders) {
      expect(steps, message).toHaveLength(1);
    }

    // An iteration's memo does not grow with the iterations before it.
    const bytes = (name: string) => memos.find((memo) => memo.name === name)?.json.length ?? Number.NaN;
    for (const prefix of ["llm", "map"]) {
      expect(bytes(`${prefix}:4`)).toBeLessThan(bytes(`${prefix}:1`) + 200);
    }
    expect(run.counters.memoizedBytes).toBeLessThan(20_000);
  });
});
