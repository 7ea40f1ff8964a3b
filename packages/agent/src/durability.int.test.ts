import { Agent } from "@mastra/core/agent";
import { Mastra } from "@mastra/core/mastra";
import { createTool } from "@mastra/core/tools";
import { ATTEMPT_SUPERSEDED_EVENT_TYPE, streamTopic } from "@mastra/inngest-core";
import { silentLogger } from "@mastra/inngest-testing/helpers";
import { scriptedModel, textTurn, toolTurn } from "@mastra/inngest-testing/model";
import { Inngest } from "inngest";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { createInngestAgent } from "./create-inngest-agent.ts";
import { startTestWorld, type TestWorld } from "./test/test-world.ts";

const fiftyWords = Array.from({ length: 50 }, (_, index) => `w${index} `);

let toolStarted = 0;
const slowTool = createTool({
  id: "slow",
  description: "Takes its time",
  inputSchema: z.object({}),
  execute: async () => {
    toolStarted++;
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    return { done: true };
  },
});

describe("durability of the agent loop", () => {
  let world: TestWorld;
  let fifty: ReturnType<typeof createInngestAgent>;
  let slowModel: ReturnType<typeof createInngestAgent>;
  let slowToolAgent: ReturnType<typeof createInngestAgent>;

  beforeAll(async () => {
    // Classic mode: one call per step, so an injected crash after llm:0 stops the run there, as a
    // real crash would (in checkpointing mode the SDK would go on eagerly within the same call).
    world = await startTestWorld("classic");
    const inngest = new Inngest({ id: "durability", isDev: true, baseUrl: world.engine.url, logger: silentLogger });
    fifty = createInngestAgent({
      agent: new Agent({
        id: "fifty",
        name: "Fifty",
        instructions: "-",
        model: scriptedModel([textTurn(fiftyWords)]) as never,
      }),
      inngest,
    });
    slowModel = createInngestAgent({
      agent: new Agent({
        id: "slow-model",
        name: "Slow model",
        instructions: "-",
        model: scriptedModel([textTurn(fiftyWords)], { delayMs: 40 }) as never,
      }),
      inngest,
    });
    slowToolAgent = createInngestAgent({
      agent: new Agent({
        id: "slow-tool",
        name: "Slow tool",
        instructions: "-",
        model: scriptedModel([toolTurn("slow", {}), textTurn("never reached")]) as never,
        tools: { slow: slowTool },
      }),
      inngest,
    });
    new Mastra({
      agents: { fifty: fifty as never, slowModel: slowModel as never, slowToolAgent: slowToolAgent as never },
      logger: false,
    });
    await world.serve(inngest, [
      ...fifty.getInngestFunctions(),
      ...slowModel.getInngestFunctions(),
      ...slowToolAgent.getInngestFunctions(),
    ]);
  });

  afterAll(async () => {
    for (const agent of [fifty, slowModel, slowToolAgent]) {
      await agent?.pubsub.close();
    }
    await world?.close();
  });

  const engineRun = (runId: string) => {
    const run = world.engine.runs().find((candidate) => (candidate.event.data as { runId?: string }).runId === runId);
    if (run === undefined) {
      throw new Error(`no engine run for ${runId}`);
    }
    return run;
  };

  it("a step that streamed 50 chunks and is retried: replay shows the completed attempt once, live gets the notice", async () => {
    const fault = world.engine.faults.crashAfterStep({ functionId: "durability-agent-fifty", step: "llm:0" });
    const notices: unknown[] = [];
    const live = await fifty.stream("Go");
    await fifty.pubsub.subscribe(streamTopic(live.runId), (event) => {
      if (event.type === ATTEMPT_SUPERSEDED_EVENT_TYPE) {
        notices.push(event.data);
      }
    });
    const liveText = await live.output.text;
    const run = await world.engine.waitForRun(engineRun(live.runId).id);
    expect(fault.triggered).toBe(1);
    expect(run.steps.filter((step) => step.name === "llm:0").map((step) => [step.attempt, step.discarded])).toEqual([
      [0, true],
      [1, false],
    ]);
    const once = fiftyWords.join("");
    // Pinned: a live caller's output.text holds the failed attempt's text, then the retry's; the
    // notice between them tells a consumer to drop the first (core's stream adapter ignores it).
    expect(liveText).toBe(once + once);
    expect(notices).toEqual([{ stepId: "llm:0", attempt: 1, supersededAttempt: 0 }]);

    const replay = await fifty.observe(live.runId);
    expect(await replay.output.text).toBe(once);
    const history = await fifty.pubsub.getHistory(streamTopic(live.runId));
    const deltas = history.filter((event) => (event.data as { type?: string })?.type === "text-delta");
    expect(deltas).toHaveLength(50);
  });

  it("publishes far fewer transport messages than chunks, and each chunk once", async () => {
    const { output, runId } = await fifty.stream("Count");
    const chunks: string[] = [];
    for await (const chunk of output.fullStream as unknown as AsyncIterable<{ type: string }>) {
      chunks.push(chunk.type);
    }
    await world.engine.waitForRun(engineRun(runId).id);
    const channel = world.engine.counters().realtime.channels.get(`agent:${runId}`);
    expect(chunks.filter((type) => type === "text-delta")).toHaveLength(50);
    expect(channel?.publishes).toBeGreaterThan(0);
    expect(channel?.publishes).toBeLessThan(chunks.length / 4);
  });

  it("observes a run while it streams, from the start, from an offset and from the tail", async () => {
    const live = await slowModel.stream("Slowly");
    const seen: number[] = [];
    const fromStart = await slowModel.observe(live.runId);
    const fromFive = await slowModel.observe(live.runId, { offset: 5 });
    const tail = await slowModel.observe(live.runId, { offset: "latest" });
    const [startText, fiveText, tailText] = await Promise.all([
      fromStart.output.text,
      fromFive.output.text,
      tail.output.text,
    ]);
    const expected = fiftyWords.join("");
    expect(startText).toBe(expected);
    expect(await live.output.text).toBe(expected);
    // Joined later, these hold a suffix of the text; never a chunk twice.
    expect(expected.endsWith(fiveText)).toBe(true);
    expect(expected.endsWith(tailText)).toBe(true);
    expect(seen).toEqual([]);
  });

  it("abort during the LLM step ends the stream and runs no further step", async () => {
    const live = await slowModel.stream("Then stop");
    const types: string[] = [];
    const reader = (live.output.fullStream as ReadableStream<{ type: string }>).getReader();
    let aborted = false;
    for (;;) {
      const { done, value } = await reader.read();
      if (done) {
        break;
      }
      types.push(value.type);
      if (value.type === "text-delta" && !aborted) {
        aborted = true;
        await live.abort();
      }
    }
    expect(types.filter((type) => type === "text-delta").length).toBeLessThan(50);
    const run = await world.engine.waitForRun(engineRun(live.runId).id);
    expect(run.status).toBe("Cancelled");
    expect(run.steps.some((step) => step.name === "finish")).toBe(false);
  });

  it("abort during a tool call stops the run before the next LLM call", async () => {
    const before = toolStarted;
    const live = await slowToolAgent.stream("Use the slow tool");
    const reader = (live.output.fullStream as ReadableStream<{ type: string }>).getReader();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) {
        break;
      }
      if (value.type === "tool-call") {
        await new Promise((resolve) => setTimeout(resolve, 100));
        await live.abort();
      }
    }
    const run = await world.engine.waitForRun(engineRun(live.runId).id);
    expect(toolStarted - before).toBe(1);
    expect(run.status).toBe("Cancelled");
    await new Promise((resolve) => setTimeout(resolve, 1_800));
    expect(world.engine.run(run.id)?.steps.some((step) => step.name === "llm:1")).toBe(false);
  });
});
