import { Agent } from "@mastra/core/agent";
import { Mastra } from "@mastra/core/mastra";
import { createTool } from "@mastra/core/tools";
import { ErrorCode, MastraInngestError, streamTopic } from "@mastra/inngest-core";
import { silentLogger, until } from "@mastra/inngest-testing/helpers";
import { scriptedModel, textTurn, toolTurn } from "@mastra/inngest-testing/model";
import { Inngest } from "inngest";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { z } from "zod";
import { createInngestAgent, isInngestAgent } from "./create-inngest-agent.ts";
import { threadConcurrencyKey } from "./internal/loop-flow-control.ts";
import { startTestWorld, type TestWorld } from "./test/test-world.ts";

let world: TestWorld;
let toolCalls = 0;

const weather = createTool({
  id: "weather",
  description: "The weather in a city",
  inputSchema: z.object({ city: z.string() }),
  execute: async ({ city }: { city: string }) => {
    toolCalls++;
    return { city, temperature: 21 };
  },
});

function buildAgents(inngest: Inngest.Any) {
  const chatty = new Agent({
    id: "chatty",
    name: "Chatty",
    instructions: "Answer briefly.",
    model: scriptedModel([textTurn("Hello from a durable agent.")]) as never,
  });
  const looper = new Agent({
    id: "looper",
    name: "Looper",
    instructions: "Use the tool.",
    model: scriptedModel([
      toolTurn("weather", { city: "Paris" }),
      toolTurn("weather", { city: "Oslo" }),
      toolTurn("weather", { city: "Rome" }),
      textTurn("Paris 21, Oslo 21, Rome 21."),
    ]) as never,
    tools: { weather },
  });
  return {
    chatty: createInngestAgent({ agent: chatty, inngest }),
    looper: createInngestAgent({ agent: looper, inngest }),
    plainLooper: looper,
  };
}

describe("createInngestAgent on the dev server", () => {
  let agents: ReturnType<typeof buildAgents>;

  beforeAll(async () => {
    world = await startTestWorld();
    const inngest = new Inngest({ id: "agents", isDev: true, baseUrl: world.engine.url, logger: silentLogger });
    agents = buildAgents(inngest);
    new Mastra({ agents: { chatty: agents.chatty, looper: agents.looper }, logger: false });
    await world.serve(inngest, [...agents.chatty.getInngestFunctions(), ...agents.looper.getInngestFunctions()]);
  });

  afterAll(async () => {
    await agents?.chatty.pubsub.close();
    await agents?.looper.pubsub.close();
    await world?.close();
  });

  it("streams a text-only answer", async () => {
    const { output, runId } = await agents.chatty.stream("Hi!");
    expect(await output.text).toBe("Hello from a durable agent.");
    expect(await output.finishReason).toBe("stop");
    const run = world.engine.runs().find((candidate) => (candidate.event.data as { runId?: string }).runId === runId);
    expect((await world.engine.waitForRun(run?.id ?? "")).status).toBe("Completed");
    expect(isInngestAgent(agents.chatty)).toBe(true);
  });

  it("releases the stream's subscription once it ended, for stream() and observe(), without cleanup()", async () => {
    const pubsub = agents.chatty.pubsub;
    const released: string[] = [];
    const unsubscribe = pubsub.unsubscribe.bind(pubsub);
    const spy = vi.spyOn(pubsub, "unsubscribe").mockImplementation(async (topic, callback) => {
      released.push(topic);
      return unsubscribe(topic, callback);
    });
    try {
      const { output, runId } = await agents.chatty.stream("Hi again!");
      await output.text;
      const topic = streamTopic(runId);
      await vi.waitFor(() => expect(released.filter((name) => name === topic)).toHaveLength(1));
      const observed = await agents.chatty.observe(runId, { offset: 0 });
      expect(await observed.output.text).toBe("Hello from a durable agent.");
      await vi.waitFor(() => expect(released.filter((name) => name === topic)).toHaveLength(2));
      // The run's control topic, subscribed by its steps in this process, is released too.
      expect(released).toContain(`agent.control.${runId}`);
    } finally {
      spy.mockRestore();
    }
  });

  it("runs a three-iteration tool loop, each step once", async () => {
    const before = toolCalls;
    const { output, runId } = await agents.looper.stream("Weather?", { maxSteps: 10 });
    expect(await output.text).toBe("Paris 21, Oslo 21, Rome 21.");
    expect(toolCalls - before).toBe(3);
    const toolResults = await output.toolResults;
    expect(toolResults.map((result) => (result.payload.args as { city: string }).city)).toEqual([
      "Paris",
      "Oslo",
      "Rome",
    ]);
    const found = world.engine.runs().find((candidate) => (candidate.event.data as { runId?: string }).runId === runId);
    const run = await world.engine.waitForRun(found?.id ?? "");
    const names = run.steps.filter((step) => !step.discarded).map((step) => step.name);
    // At most 3 steps per iteration with one tool call: the step budget of the design.
    expect(run.steps.length).toBeLessThanOrEqual(4 * 3 + 1);
    expect(names).toEqual([
      "llm:0",
      "tool:0:0",
      "map:0",
      "llm:1",
      "tool:1:0",
      "map:1",
      "llm:2",
      "tool:2:0",
      "map:2",
      "llm:3",
      "map:3",
      "finish",
    ]);
  });

  it("refuses a reused or invalid runId and empty messages before sending anything", async () => {
    const { output, runId } = await agents.chatty.stream("Once", { runId: "fixed-run-1" });
    await output.text;
    expect(runId).toBe("fixed-run-1");
    const eventsBefore = world.engine.events().length;
    await expect(agents.chatty.stream("Twice", { runId: "fixed-run-1" })).rejects.toSatisfy((error) =>
      MastraInngestError.isInstance(error, ErrorCode.RUN_IN_USE),
    );
    await expect(agents.chatty.stream("Bad", { runId: "a b" })).rejects.toSatisfy((error) =>
      MastraInngestError.isInstance(error, ErrorCode.INVALID_ID),
    );
    await expect(agents.chatty.stream("")).rejects.toSatisfy((error) =>
      MastraInngestError.isInstance(error, ErrorCode.INVALID_OPTION),
    );
    await expect(agents.chatty.observe("never-started", { resourceId: "user-1" })).rejects.toSatisfy((error) =>
      MastraInngestError.isInstance(error, ErrorCode.RUN_NOT_FOUND),
    );
    expect(world.engine.events().length).toBe(eventsBefore);
  });

  it("observes a finished run from the start, from an offset, and from the tail", async () => {
    const { output, runId } = await agents.chatty.stream("Again");
    await output.text;
    const replay = await agents.chatty.observe(runId);
    expect(await replay.output.text).toBe("Hello from a durable agent.");
    const partial = await agents.chatty.observe(runId, { offset: 3 });
    const chunks: unknown[] = [];
    for await (const chunk of partial.fullStream) {
      chunks.push(chunk);
    }
    expect(chunks.length).toBeGreaterThan(0);
  });

  it("prepares a run without starting it, and the prepared input runs when sent", async () => {
    const eventsBefore = world.engine.events().length;
    const prepared = await agents.chatty.prepare("Prepared hello");
    expect(world.engine.events().length).toBe(eventsBefore);
    const [eventId] = await world.engine.send({ name: agents.chatty.runEventName, data: prepared.workflowInput });
    const [run] = world.engine.runsForEvent(eventId ?? "");
    const done = await world.engine.waitForRun(run?.id ?? "");
    expect(done.status).toBe("Completed");
    expect((done.output as { text: string }).text).toBe("Hello from a durable agent.");
  });

  it("forwards members the reference does not list to the wrapped agent", async () => {
    expect(
      Object.keys(await (agents.looper as unknown as { listTools(): Promise<Record<string, unknown>> }).listTools()),
    ).toEqual(["weather"]);
    const generated = await agents.chatty.generate("plain");
    expect(generated.text).toBe("Hello from a durable agent.");
  });

  it("registers with mastra.addAgent, is found by getAgent, and passes flow control to its function", async () => {
    const inngest = new Inngest({ id: "registration", isDev: true, baseUrl: world.engine.url, logger: silentLogger });
    const durable = createInngestAgent({
      agent: new Agent({
        id: "registered",
        name: "Registered",
        instructions: "-",
        model: scriptedModel([textTurn("hi")]) as never,
      }),
      inngest,
      functionOptions: { concurrency: { limit: 2, key: "event.data.runId" }, retries: 1 },
    });
    const mastra = new Mastra({ logger: false });
    mastra.addAgent(durable as never, "registered");
    expect(mastra.getAgent("registered" as never)).toBe(durable);
    const [loop] = durable.getInngestFunctions();
    await world.serve(inngest, [loop as never]);
    const synced = world.engine.apps().find((app) => app.name === "registration");
    // The loop and its onFailure handler, with the flow control the agent was given.
    expect(synced?.functionIds).toEqual(["registration-agent-registered", "registration-agent-registered-failure"]);
    // The thread's constraint comes first (see loop-flow-control.ts), the agent's own beside it.
    expect((loop as unknown as { opts: Record<string, unknown> }).opts).toMatchObject({
      concurrency: [
        { limit: 1, key: threadConcurrencyKey, scope: "env" },
        { limit: 2, key: "event.data.runId" },
      ],
      retries: 1,
    });
    const { output } = await durable.stream("Hello");
    expect(await output.text).toBe("hi");
  });

  it("honours stopWhen in the caller's process: the loop stops after the iteration it names", async () => {
    const before = toolCalls;
    const { output, runId } = await agents.looper.stream("Weather?", {
      maxSteps: 10,
      stopWhen: ({ steps }: { steps: unknown[] }) => steps.length >= 1,
    });
    await output.text;
    expect(toolCalls - before).toBe(1);
    const found = world.engine.runs().find((candidate) => (candidate.event.data as { runId?: string }).runId === runId);
    const run = await world.engine.waitForRun(found?.id ?? "");
    expect(run.steps.map((step) => step.name)).toEqual(["llm:0", "tool:0:0", "map:0", "finish"]);
  });

  it("cleanup() right after stream() ends the caller's stream only: a run with stopWhen still completes", async () => {
    const before = toolCalls;
    const { runId, cleanup } = await agents.looper.stream("Weather?", {
      maxSteps: 10,
      stopWhen: ({ steps }: { steps: unknown[] }) => steps.length >= 1,
    });
    cleanup();
    const found = await until(() =>
      world.engine.runs().find((candidate) => (candidate.event.data as { runId?: string }).runId === runId),
    );
    const run = await world.engine.waitForRun(found.id);
    expect(run.status).toBe("Completed");
    expect(run.steps.map((step) => step.name)).toEqual(["llm:0", "tool:0:0", "map:0", "finish"]);
    expect(toolCalls - before).toBe(1);
  });
});
