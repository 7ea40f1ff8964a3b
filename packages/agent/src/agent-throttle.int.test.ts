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

/**
 * Per-user throttling of an agent: `functionOptions.throttle` keyed on the run's memory resource
 * (core puts it in the input's `state`), on the dev server at a time scale of 0.05, so the
 * throttle's "10s" period is 500 real ms.
 * @see issue 22
 */
describe("an agent throttled per user", () => {
  let world: TestWorld;
  let durable: ReturnType<typeof createInngestAgent>;

  beforeAll(async () => {
    world = await startTestWorld("checkpoint", 0.05);
    const inngest = new Inngest({ id: "throttled", isDev: true, baseUrl: world.engine.url, logger: silentLogger });
    durable = createInngestAgent({
      agent: new Agent({
        id: "limited",
        name: "Limited",
        instructions: "-",
        model: scriptedModel([textTurn("Done.")]) as never,
        memory: new Memory({ storage: new InMemoryStore() as never }),
      }),
      inngest,
      functionOptions: { throttle: { limit: 1, period: "10s", key: "event.data.state.resourceId" } },
    });
    new Mastra({ agents: { limited: durable as never }, storage: new InMemoryStore() as never, logger: false });
    await world.serve(inngest, durable.getInngestFunctions());
  });

  afterAll(async () => {
    await durable?.pubsub.close();
    await world?.close();
  });

  it("starts one run per user per period, and another user's at once", async () => {
    const before = world.engine.counters().runsThrottled;
    const calls = [
      { thread: "ann-1", resource: "ann" },
      { thread: "ann-2", resource: "ann" },
      { thread: "ann-3", resource: "ann" },
      { thread: "bob-1", resource: "bob" },
    ].map((memory) => durable.stream("Go", { memory }));
    const results = await Promise.all(calls);
    const texts = await Promise.all(results.map((result) => result.output.text));
    expect(texts).toEqual(["Done.", "Done.", "Done.", "Done."]);
    const runFor = (runId: string) =>
      world.engine.runs().find((run) => (run.event.data as { runId?: string }).runId === runId);
    const [ann1, ann2, ann3, bob] = results.map((result) => runFor(result.runId));
    const starts = [ann1, ann2, ann3].map((run) => run?.flowControl.firstCallAt ?? 0).sort((a, b) => a - b);
    expect((starts[1] ?? 0) - (starts[0] ?? 0)).toBeGreaterThanOrEqual(450);
    expect((starts[2] ?? 0) - (starts[1] ?? 0)).toBeGreaterThanOrEqual(450);
    expect(bob?.flowControl.throttledMs).toBe(0);
    expect((bob?.flowControl.firstCallAt ?? 0) - (starts[0] ?? 0)).toBeLessThan(450);
    expect(world.engine.counters().runsThrottled - before).toBe(2);
  });
});
