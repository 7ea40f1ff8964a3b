import type { ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Mastra } from "@mastra/core/mastra";
import { InMemoryStore } from "@mastra/core/storage";
import { RedisStreamCache } from "@mastra/inngest-stream-cache-redis";
import { type RedisServer, startRedis } from "@mastra/inngest-testing";
import { findFreePort, silentLogger } from "@mastra/inngest-testing/helpers";
import { Inngest } from "inngest";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createInngestAgent } from "./create-inngest-agent.ts";
import type { InngestAgent } from "./inngest-agent-types.ts";
import { parityAgent, parityAgentId } from "./test/parity/parity-agents.ts";
import { parityAllowances } from "./test/parity/parity-allowances.ts";
import { compareRuns } from "./test/parity/parity-compare.ts";
import { runDurable, runPlain } from "./test/parity/parity-drivers.ts";
import { parityScenarios } from "./test/parity/parity-scenarios.ts";
import { startFixtureProcess } from "./test/test-worker.ts";
import { startTestWorld, type TestWorld } from "./test/test-world.ts";

// The parity harness with the steps in a worker process and the history on Redis: the scenarios
// whose options can cross processes (closures cannot, by design). CI runs a few; locally all.
const scenarios = parityScenarios.filter((scenario) => scenario.split);
const chosen = process.env.CI
  ? scenarios.filter((scenario) =>
      ["tools", "approval approved", "suspend and resume", "tool error", "processor retries", "raw chunks"].includes(
        scenario.name,
      ),
    )
  : scenarios;

describe("parity with the plain agent.stream(), steps in a worker process, history on Redis", () => {
  let world: TestWorld;
  let redis: RedisServer;
  let cache: RedisStreamCache;
  let worker: ChildProcess | undefined;
  let logFile: string;
  const durableAgents = new Map<string, InngestAgent>();
  let plainMastra: Mastra;

  beforeAll(async () => {
    redis = await startRedis();
    world = await startTestWorld("checkpoint");
    cache = new RedisStreamCache({ url: redis.url });
    const port = await findFreePort();
    logFile = join(mkdtempSync(join(tmpdir(), "agent-parity-")), "model-calls.log");
    worker = await startFixtureProcess("parity-worker.ts", [world.engine.url, String(port), redis.url, logFile]);
    await world.engine.syncApp(`http://127.0.0.1:${port}/api/inngest`);
    const inngest = new Inngest({ id: "parity-split", isDev: true, baseUrl: world.engine.url, logger: silentLogger });
    for (const scenario of scenarios) {
      const id = parityAgentId(scenario.name);
      durableAgents.set(scenario.name, createInngestAgent({ agent: parityAgent(id, scenario.agent), inngest, cache }));
    }
    new Mastra({
      agents: Object.fromEntries([...durableAgents].map(([name, durable]) => [parityAgentId(name), durable])),
      storage: new InMemoryStore(),
      logger: false,
    });
    plainMastra = new Mastra({
      agents: Object.fromEntries(
        scenarios.map((scenario) => [
          parityAgentId(scenario.name),
          parityAgent(parityAgentId(scenario.name), scenario.agent),
        ]),
      ),
      storage: new InMemoryStore(),
      logger: false,
    });
  }, 60_000);

  afterAll(async () => {
    worker?.kill("SIGKILL");
    for (const durable of durableAgents.values()) {
      await durable.pubsub.close();
    }
    await cache?.close();
    await world?.close();
    await redis?.kill();
  });

  /** Model calls the worker made for `id`, read from its log. */
  const workerCalls = (id: string) => async () =>
    existsSync(logFile)
      ? readFileSync(logFile, "utf8")
          .split("\n")
          .filter((line) => line === id).length
      : 0;

  it.each(chosen.map((scenario) => [scenario.name, scenario] as const))(
    "%s",
    async (_name, scenario) => {
      const id = parityAgentId(scenario.name);
      const plain = await runPlain(plainMastra.getAgent(id), scenario);
      const before = await workerCalls(id)();
      const durable = await runDurable(durableAgents.get(scenario.name) as InngestAgent, scenario, async () => {
        return (await workerCalls(id)()) - before;
      });
      expect(compareRuns(scenario, plain, durable, parityAllowances)).toEqual([]);
    },
    60_000,
  );
});
