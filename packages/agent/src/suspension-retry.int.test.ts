import { Mastra } from "@mastra/core/mastra";
import { type DevServer, startDevServer } from "@mastra/inngest-dev-server";
import { RedisStreamCache } from "@mastra/inngest-stream-cache-redis";
import { type RedisServer, startRedis } from "@mastra/inngest-testing";
import { type HttpTestServer, serveFunctions, silentLogger, until } from "@mastra/inngest-testing/helpers";
import { Inngest } from "inngest";
import { serve } from "inngest/node";
import { afterAll, beforeAll, expect, it } from "vitest";
import { createInngestAgent } from "./create-inngest-agent.ts";
import type { InngestAgent } from "./inngest-agent-types.ts";
import { bank } from "./test/bank-agent.ts";
import { readRunRecord, untilRunStatus } from "./test/run-record-reads.ts";

// A tool step that asked for approval, recorded the request and streamed it, then lost its result
// (the worker died before the engine heard back): the engine runs the step again and it asks
// again. A client that approved the first request must not be left with a run that waits for a
// decision it already gave. Found by the fault suite (seed 20261206: runs waited until their
// bound with the decision recorded under the first request's time).

let engine: DevServer;
let app: HttpTestServer;
let redis: RedisServer;
let agent: InngestAgent;

beforeAll(async () => {
  redis = await startRedis();
  // Waits run scaled; the retry of a lost step comes 3 s later, in real time, which is when the
  // client's decision arrives.
  engine = await startDevServer({ mode: "checkpoint", timeScale: 0.001, retryIntervalMs: 3_000 });
  const inngest = new Inngest({ id: "suspension-retry", isDev: true, baseUrl: engine.url, logger: silentLogger });
  agent = createInngestAgent({ agent: bank(), inngest, cache: new RedisStreamCache({ url: redis.url }) });
  new Mastra({ agents: { bank: agent }, logger: false });
  app = await serveFunctions(engine, serve({ client: inngest, functions: agent.getInngestFunctions() }));
});

afterAll(async () => {
  await agent?.pubsub.close();
  await app?.close();
  await engine?.close();
  await redis?.stop();
});

it("a decision given to a request whose step is then retried is the one the retried request reads", async () => {
  const lost = engine.faults.crashAfterStep({ step: "tool:0:0" });
  const started = await agent.stream("Send 5", { memory: { thread: "retried", resource: "ada" } });
  const { runId } = started;
  // The first attempt recorded its request; its result is lost and the retry waits 3 s.
  const first = await until(
    async () => (lost.triggered === 1 ? (await readRunRecord(agent.cache, runId))?.pendingResumes[0] : undefined),
    { timeoutMs: 10_000, description: "the first request, and its lost result" },
  );
  const resumed = await agent.resume(runId, { approved: true }, { resourceId: "ada" });
  const finished = await untilRunStatus(agent.cache, runId, "finished");
  expect(finished.pendingResumes).toEqual([]);
  expect(await resumed.output.text).toBe("Done.");
  // The retry asked again, as the same request: the step ran twice, the first result discarded.
  const engineRun = engine.runs().find((run) => (run.event.data as { runId?: string }).runId === runId);
  const asks = engineRun?.steps.filter((step) => step.name === "tool:0:0") ?? [];
  expect(asks.map((step) => [step.attempt, step.discarded])).toEqual([
    [0, true],
    [1, false],
  ]);
  expect(first.stepId).toBe("tool:0:0");
  expect(finished.status).toBe("finished");
}, 40_000);
