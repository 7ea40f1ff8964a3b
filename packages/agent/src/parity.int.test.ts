import { Mastra } from "@mastra/core/mastra";
import { InMemoryStore } from "@mastra/core/storage";
import { silentLogger } from "@mastra/inngest-testing/helpers";
import { Inngest } from "inngest";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createInngestAgent } from "./create-inngest-agent.ts";
import type { InngestAgent } from "./inngest-agent-types.ts";
import { parityAgent, parityAgentId } from "./test/parity/parity-agents.ts";
import { parityAllowances } from "./test/parity/parity-allowances.ts";
import { compareRuns } from "./test/parity/parity-compare.ts";
import { runDurable, runPlain } from "./test/parity/parity-drivers.ts";
import { parityScenarios } from "./test/parity/parity-scenarios.ts";
import { startTestWorld, type TestWorld } from "./test/test-world.ts";

const agentId = parityAgentId;

describe.each(["checkpoint", "classic"] as const)("parity with the plain agent.stream() (%s mode)", (mode) => {
  let world: TestWorld;
  const durableAgents = new Map<string, InngestAgent>();
  let plainMastra: Mastra;

  beforeAll(async () => {
    world = await startTestWorld(mode);
    const inngest = new Inngest({ id: `parity-${mode}`, isDev: true, baseUrl: world.engine.url, logger: silentLogger });
    for (const scenario of parityScenarios) {
      durableAgents.set(
        scenario.name,
        createInngestAgent({ agent: parityAgent(agentId(scenario.name), scenario.agent), inngest }),
      );
    }
    new Mastra({
      agents: Object.fromEntries([...durableAgents].map(([name, durable]) => [agentId(name), durable])),
      storage: new InMemoryStore(),
      backgroundTasks: { enabled: true },
      logger: false,
    });
    plainMastra = new Mastra({
      agents: Object.fromEntries(
        parityScenarios.map((scenario) => [
          agentId(scenario.name),
          parityAgent(agentId(scenario.name), scenario.agent),
        ]),
      ),
      storage: new InMemoryStore(),
      backgroundTasks: { enabled: true },
      logger: false,
    });
    await world.serve(
      inngest,
      [...durableAgents.values()].flatMap((durable) => durable.getInngestFunctions()),
    );
  });

  afterAll(async () => {
    for (const durable of durableAgents.values()) {
      await durable.pubsub.close();
    }
    await world?.close();
  });

  it.each(parityScenarios.map((scenario) => [scenario.name, scenario] as const))(
    "%s",
    async (_name, scenario) => {
      const plain = await runPlain(plainMastra.getAgent(agentId(scenario.name)), scenario);
      const durable = await runDurable(durableAgents.get(scenario.name) as InngestAgent, scenario);
      expect(compareRuns(scenario, plain, durable, parityAllowances)).toEqual([]);
    },
    60_000,
  );
});
