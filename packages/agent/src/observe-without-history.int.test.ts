import { Agent } from "@mastra/core/agent";
import { Mastra } from "@mastra/core/mastra";
import { ErrorCode, MastraInngestError, streamTopic } from "@mastra/inngest-core";
import { silentLogger, until } from "@mastra/inngest-testing/helpers";
import { scriptedModel, textTurn } from "@mastra/inngest-testing/model";
import { Inngest } from "inngest";
import { afterAll, beforeAll, expect, it } from "vitest";
import { createInngestAgent } from "./create-inngest-agent.ts";
import type { InngestAgent } from "./inngest-agent-types.ts";
import { startTestWorld, type TestWorld } from "./test/test-world.ts";

let world: TestWorld;
let durable: InngestAgent;

beforeAll(async () => {
  world = await startTestWorld();
  const inngest = new Inngest({ id: "no-history", isDev: true, baseUrl: world.engine.url, logger: silentLogger });
  const agent = new Agent({
    id: "brief",
    name: "Brief",
    instructions: "-",
    model: scriptedModel([textTurn("Short.")]),
  });
  durable = createInngestAgent({ agent, inngest });
  new Mastra({ agents: { brief: durable }, logger: false });
  await world.serve(inngest, durable.getInngestFunctions());
});

afterAll(async () => {
  await durable?.pubsub.close();
  await world?.close();
});

it("observe() of a run whose history is gone here, with a cache not shared across processes, says where the history lives and how to keep it", async () => {
  const { output, runId } = await durable.stream("Hi");
  expect(await output.text).toBe("Short.");
  const replay = await durable.observe(runId, { offset: 0 });
  expect(await replay.output.text).toBe("Short.");
  replay.cleanup();
  // As when the history expires before the run's record does.
  await durable.pubsub.clearTopic(streamTopic(runId));
  await until(async () => (await durable.pubsub.getHistory(streamTopic(runId))).length === 0);
  const error = await durable.observe(runId).catch((caught: unknown) => caught);
  expect(MastraInngestError.isInstance(error, ErrorCode.SHARED_CACHE_REQUIRED)).toBe(true);
  const message = (error as Error).message;
  expect(message).toContain("has no history in this process");
  expect(message).toContain("when it expires");
  expect(message).toContain("RedisStreamCache");
  expect(message).not.toContain("did not stream");
});
