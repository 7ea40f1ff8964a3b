import { Mastra } from "@mastra/core/mastra";
import { InMemoryStore } from "@mastra/core/storage";
import { silentLogger } from "@mastra/inngest-testing/helpers";
import { Inngest } from "inngest";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createInngestAgent } from "./create-inngest-agent.ts";
import type { InngestAgent } from "./inngest-agent-types.ts";
import { parityAgent, parityAgentId } from "./test/parity/parity-agents.ts";
import { runDurable, runPlain } from "./test/parity/parity-drivers.ts";
import { type ParityScenario, parityScenarios } from "./test/parity/parity-scenarios.ts";
import { startTestWorld, type TestWorld } from "./test/test-world.ts";
import {
  agentRunEnded,
  endedSpansOfRun,
  type SpanNode,
  settled,
  spansExportedTwice,
  spanTrees,
  testObservability,
} from "./test/tracing/span-tree.ts";

/**
 * A durable run traces like the plain agent's: the same span tree (types, names, parent links, key
 * attributes) from one Mastra's observability, each span exported once.
 * @see issue 20
 */
// Not compared: a declined call (the plain resume numbers its next step 0 again, the durable loop 1),
// the other parity scenarios.
const traced = [
  "text only",
  "tools",
  "parallel tools",
  "tool error",
  "model error",
  "approval approved",
  "suspend and resume",
  "abort mid-text",
];
const abortMidTool = parityScenarios.find((scenario) => scenario.name === "abort mid-tool") as ParityScenario;
// Aborted once the tool step runs: an abort that lands between two steps, when Inngest cancels the
// run before the next one starts, leaves the root spans open (docs/observability.md).
const abortWhileToolRuns: ParityScenario = {
  ...abortMidTool,
  name: "abort while a tool runs",
  interaction: { kind: "abort", onChunk: "tool-call", afterMs: 300 },
};
// Suspended, resumed, suspended again by the resumed run, and resumed again.
const resuspended: ParityScenario = {
  name: "suspend, resume, suspend again",
  agent: {
    script: [
      { toolCalls: [{ toolName: "ask", args: { question: "Color?" } }] },
      { toolCalls: [{ toolName: "ask", args: { question: "Shade?" } }] },
      { text: "Dark blue it is." },
    ],
    tools: ["ask"],
  },
  prompt: "Pick a color and a shade",
  options: { maxSteps: 5 },
  interaction: { kind: "resume", resumeData: { color: "blue" }, resumeAgain: [{ color: "dark" }] },
  split: false,
};
const scenarios = [
  ...parityScenarios.filter((scenario) => traced.includes(scenario.name)),
  abortWhileToolRuns,
  resuspended,
];
const plainId = (name: string) => `${parityAgentId(name)}-plain`;

describe.each(["checkpoint", "classic"] as const)("tracing like the plain agent (%s mode)", (mode) => {
  let world: TestWorld;
  const durableAgents = new Map<string, InngestAgent>();
  let plainMastra: Mastra;
  const durableTracing = testObservability();
  const plainTracing = testObservability();

  beforeAll(async () => {
    world = await startTestWorld(mode);
    const inngest = new Inngest({
      id: `tracing-${mode}`,
      isDev: true,
      baseUrl: world.engine.url,
      logger: silentLogger,
    });
    for (const scenario of scenarios) {
      const id = parityAgentId(scenario.name);
      durableAgents.set(scenario.name, createInngestAgent({ agent: parityAgent(id, scenario.agent), inngest }));
    }
    new Mastra({
      agents: Object.fromEntries([...durableAgents].map(([name, durable]) => [parityAgentId(name), durable])),
      storage: new InMemoryStore(),
      observability: durableTracing.observability,
      logger: false,
    });
    plainMastra = new Mastra({
      agents: Object.fromEntries(
        scenarios.map((scenario) => [plainId(scenario.name), parityAgent(plainId(scenario.name), scenario.agent)]),
      ),
      storage: new InMemoryStore(),
      observability: plainTracing.observability,
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

  it.each(scenarios.map((scenario) => [scenario.name, scenario] as const))(
    "%s",
    async (name, scenario) => {
      plainTracing.exporter.clearEvents();
      durableTracing.exporter.clearEvents();
      // The plain loop, aborted while a tool runs, starts its next step when the tool returns and
      // ends that one: its tree for an abort during a call is the one of an abort at the call.
      const plainScenario = name === abortWhileToolRuns.name ? abortMidTool : scenario;
      await runPlain(plainMastra.getAgent(plainId(name)), plainScenario);
      await settled();
      const plainSpans = plainTracing.exporter.events
        .filter((event) => event.type === "span_ended")
        .map((event) => event.exportedSpan);
      await runDurable(durableAgents.get(name) as InngestAgent, scenario);
      await settled();
      // Started, not ended: an aborted run's spans end after its stream did.
      const agentRun = durableTracing.exporter.events.find(
        (event) => event.type === "span_started" && event.exportedSpan.type === "agent_run",
      )?.exportedSpan;
      const runId = (agentRun?.metadata as { runId?: string } | undefined)?.runId ?? "";
      await agentRunEnded(durableTracing.exporter, runId);
      const durableSpans = endedSpansOfRun(durableTracing.exporter, runId);

      const durableTrees = spanTrees(durableSpans, parityAgentId(name));
      const plainTrees = spanTrees(plainSpans, plainId(name));
      if (name === "model error") {
        // Core's durable LLM step records a failed model call as an error on the generation, step and
        // inference spans; the plain loop, as finish reason "error" on them. The tree and the agent
        // run's error are the same.
        expect(durableTrees.map(withoutAttributesBelowRoot)).toEqual(plainTrees.map(withoutAttributesBelowRoot));
        expect(durableTrees[0]?.error).toBe("the model is down");
      } else if (name === "abort mid-text") {
        expect(durableTrees.map(abortedModelAllowances)).toEqual(plainTrees);
      } else if (scenario.interaction.kind === "none" || scenario.interaction.kind === "abort") {
        expect(durableTrees).toEqual(plainTrees);
      } else {
        expect(durableTrees.map(suspensionAllowances)).toEqual(plainTrees.map(suspensionAllowances));
      }
      expect(new Set(durableSpans.map((span) => span.traceId)).size).toBe(1);
      // Every span the exporter received since the scenario began, in any trace, started and ended once.
      const ids = new Set(durableTracing.exporter.events.map((event) => event.exportedSpan.id));
      expect(spansExportedTwice(durableTracing.exporter.events, ids)).toEqual([]);
      const resumedGenerations = durableSpans.filter(
        (span) => span.type === "model_generation" && span.parentSpanId !== agentRun?.id,
      );
      expect(resumedGenerations).toHaveLength(countResumes(scenario));
    },
    60_000,
  );
});

/**
 * What core's durable LLM step records differently when an abort interrupts the model: an error
 * "Aborted" on the generation, step and inference spans (plain: finish reason `aborted` on the
 * generation, no error). The tree, the agent run's status and each span's end are the same.
 */
function abortedModelAllowances(node: SpanNode): SpanNode {
  const { error, ...rest } = node;
  const aborted = error === "Aborted";
  const attributes =
    aborted && node.type === "model_generation" ? { ...node.attributes, finishReason: "aborted" } : node.attributes;
  return {
    ...(aborted ? rest : node),
    attributes,
    children: node.children.map(abortedModelAllowances),
  };
}

/** How many times the scenario resumes its run: each resume opens one generation, ended once. */
function countResumes(scenario: ParityScenario): number {
  const { interaction } = scenario;
  if (interaction.kind === "approve" || interaction.kind === "decline") {
    return 1;
  }
  return interaction.kind === "resume" ? 1 + (interaction.resumeAgain?.length ?? 0) : 0;
}

/** A tree with its root as it is and, below it, only span types and names. */
function withoutAttributesBelowRoot(root: SpanNode): SpanNode {
  const shape = (node: SpanNode): SpanNode => ({
    type: node.type,
    name: node.name,
    attributes: {},
    children: node.children.map(shape),
  });
  return { ...root, children: root.children.map(shape) };
}

/**
 * What core's durable steps record differently around a suspension, removed from both trees: the
 * suspended generation's finish reason (core ends it with `status: "suspended"` as its output), the
 * suspended call's output and success (core ends it with what the tool returned after `suspend()`),
 * the plain resume's replay of the suspended step (`step: 0` again under the resumed generation),
 * and the numbers of the steps after a resume (the durable loop counts the run's LLM calls, the
 * plain resume from the resumed call).
 */
function suspensionAllowances(root: SpanNode): SpanNode {
  const visit = (node: SpanNode, resumed: boolean, suspending: boolean): SpanNode => {
    const inResumed = resumed || node.name.endsWith("(resumed)");
    let { attributes, name } = node;
    // A generation that a resumed run continues under is the one whose call suspended.
    const resumedUnder = (child: SpanNode) => child.type === "agent_run" && child.name.endsWith("(resumed)");
    const suspendingHere = node.type === "model_generation" ? node.children.some(resumedUnder) : suspending;
    if (node.type === "model_generation" && attributes.finishReason === "suspended") {
      attributes = { ...attributes, finishReason: undefined };
    }
    if (node.type === "tool_call" && suspending) {
      const { output: _output, success: _success, ...rest } = attributes;
      attributes = rest;
    }
    if (inResumed && (node.type === "model_step" || node.type === "model_inference")) {
      const { stepIndex: _stepIndex, ...rest } = attributes;
      attributes = rest;
      name = name.replace(/: \d+$/, "");
    }
    const children = node.children
      .filter((child) => !(inResumed && node.type === "model_generation" && child.name === "step: 0"))
      .map((child) => visit(child, inResumed, suspendingHere && !resumedUnder(child)))
      .sort((left, right) => JSON.stringify(left).localeCompare(JSON.stringify(right)));
    return { ...node, name, attributes, children };
  };
  return visit(root, false, false);
}
