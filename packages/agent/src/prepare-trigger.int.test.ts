import { Agent } from "@mastra/core/agent";
import { Mastra } from "@mastra/core/mastra";
import { InMemoryStore } from "@mastra/core/storage";
import { ErrorCode, MastraInngestError } from "@mastra/inngest-core";
import { RedisStreamCache } from "@mastra/inngest-stream-cache-redis";
import { type RedisServer, startRedis } from "@mastra/inngest-testing";
import { silentLogger } from "@mastra/inngest-testing/helpers";
import { scriptedModel, textTurn } from "@mastra/inngest-testing/model";
import { Memory } from "@mastra/memory";
import { Inngest } from "inngest";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createInngestAgent } from "./create-inngest-agent.ts";
import { startTestWorld, type TestWorld } from "./test/test-world.ts";

/**
 * The manual trigger the README shows: `prepare()`, then `inngest.send()` of `runEventName` with the
 * prepared `workflowInput`, then `observe(runId)`. The cache is Redis, as where the sender, the
 * worker and the observer are different processes.
 */
describe("prepare(), a manual trigger and observe()", () => {
  let world: TestWorld;
  let redis: RedisServer;
  let cache: RedisStreamCache;
  let memory: Memory;
  let inngest: Inngest;
  let durableAgent: ReturnType<typeof createInngestAgent>;

  beforeAll(async () => {
    redis = await startRedis();
    world = await startTestWorld();
    cache = new RedisStreamCache({ url: redis.url, keyPrefix: "prepare-trigger" });
    memory = new Memory({ storage: new InMemoryStore() as never, options: { lastMessages: 10 } });
    inngest = new Inngest({ id: "prepare-trigger", isDev: true, baseUrl: world.engine.url, logger: silentLogger });
    durableAgent = createInngestAgent({
      agent: new Agent({
        id: "prepared",
        name: "Prepared",
        instructions: "Answer.",
        model: scriptedModel([textTurn("Started by a manual trigger.")]) as never,
        memory,
      }),
      inngest,
      cache,
    });
    new Mastra({ agents: { prepared: durableAgent as never }, storage: new InMemoryStore() as never, logger: false });
    await world.serve(inngest, durableAgent.getInngestFunctions());
  });

  afterAll(async () => {
    await durableAgent?.pubsub.close();
    await cache?.close();
    await world?.close();
    await redis?.kill();
  });

  it("runs the prepared input sent as runEventName to Completed, and observe(runId) streams it", async () => {
    const { runId, workflowInput, threadId } = await durableAgent.prepare("Hello!", {
      memory: { thread: "thread-1", resource: "user-1" },
    });
    await inngest.send({ name: durableAgent.runEventName, data: workflowInput });
    // The run belongs to its memory's resource: its owner observes it.
    const { output } = await durableAgent.observe(runId, { resourceId: "user-1" });

    expect(await output.text).toBe("Started by a manual trigger.");
    expect(threadId).toBe("thread-1");
    expect(durableAgent.runEventName).toBe("mastra-inngest/agent.prepared.run");
    const run = world.engine.runs().find((candidate) => (candidate.event.data as { runId?: string }).runId === runId);
    expect(run?.event.name).toBe(durableAgent.runEventName);
    expect((await world.engine.waitForRun(run?.id ?? "")).status).toBe("Completed");
    const { messages } = await memory.recall({ threadId: "thread-1" });
    expect(messages.map((message) => message.role)).toEqual(["user", "assistant"]);
  });

  it("refuses a runId that prepare() or stream() already used, sending nothing", async () => {
    const { runId } = await durableAgent.prepare("First");
    const eventsBefore = world.engine.events().length;

    await expect(durableAgent.prepare("Second", { runId })).rejects.toSatisfy((error) =>
      MastraInngestError.isInstance(error, ErrorCode.RUN_IN_USE),
    );
    await expect(durableAgent.stream("Second", { runId })).rejects.toSatisfy((error) =>
      MastraInngestError.isInstance(error, ErrorCode.RUN_IN_USE),
    );
    expect(world.engine.events().length).toBe(eventsBefore);
  });
});
