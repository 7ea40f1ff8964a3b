import { Agent } from "@mastra/core/agent";
import { Mastra } from "@mastra/core/mastra";
import { InMemoryStore } from "@mastra/core/storage";
import { createTool } from "@mastra/core/tools";
import { createKeyLayout } from "@mastra/inngest-core";
import { silentLogger } from "@mastra/inngest-testing/helpers";
import { scriptedModel, textTurn, toolTurn } from "@mastra/inngest-testing/model";
import { Memory } from "@mastra/memory";
import { Inngest } from "inngest";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { createInngestAgent } from "./create-inngest-agent.ts";
import type { InngestAgent } from "./inngest-agent-types.ts";
import { startTestWorld, type TestWorld } from "./test/test-world.ts";

/**
 * An agent whose `research` tool runs as a background task and takes `researchMs`: long enough for
 * the first run to finish before the task does, as it would with real research, on a loaded machine too.
 */
function researcher(id: string, researched: string[], researchMs = 1_500): Agent {
  const research = createTool({
    id: "research",
    description: "Research a topic",
    inputSchema: z.object({ topic: z.string() }),
    background: { enabled: true },
    execute: async ({ topic }: { topic: string }) => {
      await new Promise((resolve) => setTimeout(resolve, researchMs));
      researched.push(topic);
      return { topic, finding: `${topic} are fine` };
    },
  });
  return new Agent({
    id,
    name: id,
    instructions: "Research in the background.",
    model: scriptedModel([
      toolTurn("research", { topic: "tides" }),
      textTurn("Started the research."),
      textTurn("Tides are fine."),
    ]) as never,
    tools: { research },
    memory: new Memory({ storage: new InMemoryStore() as never, options: { lastMessages: 20 } }),
  });
}

/** The chunk types of a stream, text deltas joined into one `text:` entry per text part. */
async function chunkTypes(stream: ReadableStream<unknown>): Promise<string[]> {
  const types: string[] = [];
  for await (const chunk of stream as unknown as AsyncIterable<{ type: string; payload?: { text?: string } }>) {
    if (chunk.type === "text-delta" && types.at(-1)?.startsWith("text:")) {
      types[types.length - 1] += chunk.payload?.text ?? "";
    } else {
      types.push(chunk.type === "text-delta" ? `text:${chunk.payload?.text ?? ""}` : chunk.type);
    }
  }
  return types;
}

describe("stream({ untilIdle })", () => {
  let world: TestWorld;
  let durable: InngestAgent;
  const researched: string[] = [];

  beforeAll(async () => {
    world = await startTestWorld();
    const inngest = new Inngest({ id: "until-idle", isDev: true, baseUrl: world.engine.url, logger: silentLogger });
    durable = createInngestAgent({ agent: researcher("idle-researcher", researched), inngest });
    new Mastra({
      agents: { researcher: durable as never },
      storage: new InMemoryStore() as never,
      backgroundTasks: { enabled: true },
      logger: false,
    });
    await world.serve(inngest, durable.getInngestFunctions());
  });

  afterAll(async () => {
    await durable?.pubsub.close();
    await world?.close();
  });

  it("streams the first run, the background task and the continuation run, as the plain agent does", async () => {
    const plainResearched: string[] = [];
    const plain = new Mastra({
      agents: { plain: researcher("plain-researcher", plainResearched) },
      storage: new InMemoryStore() as never,
      backgroundTasks: { enabled: true },
      logger: false,
    }).getAgent("plain");
    const memory = { thread: "plain-thread", resource: "user" };
    const expected = await chunkTypes((await plain.stream("Research tides", { untilIdle: true, memory })).fullStream);
    expect(expected).toContain("background-task-completed");
    expect(expected.at(-2)).toBe("step-finish");

    const result = await durable.stream("Research tides", {
      untilIdle: true,
      memory: { threadId: "durable-thread", resourceId: "user" },
    });
    const types = await chunkTypes(result.fullStream);
    // The task manager's chunks are merged as they arrive, so `background-task-running` may come
    // before the run's `background-task-started` (see the README); everything else is in order.
    const withoutRunning = (list: string[]) => list.filter((type) => type !== "background-task-running");
    expect(withoutRunning(types)).toEqual(withoutRunning(expected));
    expect(types.filter((type) => type === "background-task-running")).toHaveLength(1);
    expect(types.indexOf("background-task-running")).toBeGreaterThan(types.indexOf("tool-call"));
    expect(types.filter((type) => type.startsWith("text:"))).toEqual([
      "text:Started the research.",
      "text:Tides are fine.",
    ]);
    expect(researched).toEqual(["tides"]);
    expect(result.threadId).toBe("durable-thread");

    // Two durable runs: the first, and the continuation the finished task started.
    const runs = world.engine.runs().filter((run) => run.functionId.endsWith("agent-idle-researcher"));
    expect(runs).toHaveLength(2);
    expect((await Promise.all(runs.map((run) => world.engine.waitForRun(run.id)))).map((run) => run.status)).toEqual([
      "Completed",
      "Completed",
    ]);
    expect(new Set(runs.map((run) => (run.event.data as { runId: string }).runId)).size).toBe(2);

    // Aborting afterwards (the wrapper aborts every run it started) leaves the ended runs as they
    // ended: nothing appended to their history, no cancel event sent.
    // Read from the cache itself: the agent's pubsub member serves no owned run to a caller without identity.
    const history = () => durable.cache.listLength(createKeyLayout().run(result.runId).stream.events);
    const storedBefore = await history();
    expect(storedBefore).toBeGreaterThan(0);
    await result.abort();
    expect(await history()).toBe(storedBefore);
    expect(world.engine.events().filter((event) => event.name.endsWith(".cancel"))).toEqual([]);
  });

  it("is a plain stream() when nothing runs in the background", async () => {
    const result = await durable.stream("Just answer", {
      untilIdle: { maxIdleMs: 1_000 },
      memory: { thread: "quiet-thread", resource: "user" },
      runId: "until-idle-quiet",
    });
    expect(result.runId).toBe("until-idle-quiet");
    expect(await result.output.text).toBeTypeOf("string");
  });

  it("streamUntilIdle(), as Mastra's server calls it, is stream() with untilIdle", async () => {
    const result = await durable.streamUntilIdle("Just answer", {
      maxIdleMs: 1_000,
      memory: { thread: "quiet-thread-2", resource: "user" },
      runId: "until-idle-member",
    });
    expect(result.runId).toBe("until-idle-member");
    expect(await result.output.text).toBeTypeOf("string");
  });
});
