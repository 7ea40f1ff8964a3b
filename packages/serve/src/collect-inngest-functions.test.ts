import { Agent } from "@mastra/core/agent";
import { Mastra } from "@mastra/core/mastra";
import { createStep, createWorkflow } from "@mastra/core/workflows";
import { createInngestAgent } from "@mastra/inngest-agent";
import { ErrorCode, MastraInngestError } from "@mastra/inngest-core";
import { silentLogger } from "@mastra/inngest-testing/helpers";
import { scriptedModel, textTurn } from "@mastra/inngest-testing/model";
import { Inngest, type InngestFunction } from "inngest";
import { describe, expect, it, vi } from "vitest";
import { z } from "zod";
import { collectInngestFunctions } from "./collect-inngest-functions.ts";

const inngest = new Inngest({ id: "collect", isDev: true, logger: silentLogger });

function plainAgent(id: string): Agent {
  return new Agent({ id, name: id, instructions: "Answer.", model: scriptedModel([textTurn("ok")]) as never });
}

function durableAgent(id: string) {
  return createInngestAgent({ agent: plainAgent(id), inngest });
}

function userFunction(id: string): InngestFunction.Any {
  return inngest.createFunction({ id, triggers: [{ event: `test/${id}` }] }, async () => id);
}

/** A Mastra workflow carrying Inngest functions, as Inngest workflows made by other tools do. */
function inngestWorkflow(id: string, functions: InngestFunction.Any[]) {
  const step = createStep({
    id: `${id}-step`,
    inputSchema: z.object({}),
    outputSchema: z.object({}),
    execute: async () => ({}),
  });
  const workflow = createWorkflow({ id, inputSchema: z.object({}), outputSchema: z.object({}) })
    .then(step)
    .commit();
  return Object.assign(workflow, { getFunctions: () => functions });
}

describe("collectInngestFunctions", () => {
  it("collects the functions of an agent from the Mastra config and of one added later with addAgent()", () => {
    const inConfig = durableAgent("in-config");
    const added = durableAgent("added");
    const mastra = new Mastra({ agents: { inConfig: inConfig as never }, logger: false });
    mastra.addAgent(added as never);

    const functions = collectInngestFunctions({ mastra });

    expect(functions).toEqual([...inConfig.getInngestFunctions(), ...added.getInngestFunctions()]);
    // Each agent's loop and the handler of its runs Inngest cancels.
    expect((functions as InngestFunction.Any[]).map((fn) => fn.id())).toEqual([
      "agent-in-config",
      "agent-in-config-cancelled",
      "agent-added",
      "agent-added-cancelled",
    ]);
  });

  it("skips agents that are not durable", () => {
    const durable = durableAgent("durable");
    const mastra = new Mastra({ agents: { plain: plainAgent("plain"), durable: durable as never }, logger: false });
    expect(collectInngestFunctions({ mastra })).toEqual(durable.getInngestFunctions());
  });

  it("appends the user's functions and lists every function once, at its first place", () => {
    const agent = durableAgent("dedupe");
    const [loop, cancelled] = agent.getInngestFunctions();
    const report = userFunction("report");
    const mastra = new Mastra({ agents: { agent: agent as never }, logger: false });

    const functions = collectInngestFunctions({ mastra, functions: [report, loop as InngestFunction.Any, report] });

    expect(functions).toEqual([loop, cancelled, report]);
  });

  it("collects the functions of registered workflows that have getFunctions()", () => {
    const nightly = userFunction("nightly");
    const cleanup = userFunction("cleanup");
    const mastra = new Mastra({
      workflows: { nightlyWorkflow: inngestWorkflow("nightly-workflow", [nightly, cleanup]) },
      logger: false,
    });
    expect(collectInngestFunctions({ mastra })).toEqual([nightly, cleanup]);
  });

  it("finds the workflows of durable agents that Mastra hides from listWorkflows()", () => {
    const hiddenFunction = userFunction("hidden-loop");
    const hiddenWorkflow = inngestWorkflow("hidden-loop-workflow", [hiddenFunction]);
    // A durable agent as @mastra/inngest 1.9 made them: its loop is a workflow that Mastra registers
    // on addAgent() and, since @mastra/core 1.71, leaves out of listWorkflows().
    const legacyAgent = {
      id: "legacy",
      name: "legacy",
      agent: plainAgent("legacy"),
      stream: async () => ({}),
      recover: async () => {},
      recoverActiveRuns: async () => {},
      getDurableWorkflows: () => [hiddenWorkflow],
    };
    const mastra = new Mastra({ logger: false });
    mastra.addAgent(legacyAgent as never);
    expect(Object.keys(mastra.listWorkflows())).not.toContain("hidden-loop-workflow");

    expect(collectInngestFunctions({ mastra })).toEqual([hiddenFunction]);
  });

  it("calls getFunctions() once for a workflow that is both listed and an agent's durable workflow", () => {
    const fn = userFunction("shared");
    const getFunctions = vi.fn(() => [fn]);
    const workflow = Object.assign(inngestWorkflow("shared-workflow", []), { getFunctions });
    const mastra = new Mastra({ workflows: { shared: workflow }, logger: false });
    const agentLike = {
      id: "sharing",
      name: "sharing",
      agent: plainAgent("sharing"),
      stream: async () => ({}),
      recover: async () => {},
      recoverActiveRuns: async () => {},
      getDurableWorkflows: () => [workflow],
    };
    mastra.addAgent(agentLike as never);

    expect(collectInngestFunctions({ mastra })).toEqual([fn]);
    expect(getFunctions).toHaveBeenCalledTimes(1);
  });

  it("warns on the Mastra logger, saying why, when there is nothing to serve", () => {
    const mastra = new Mastra({ agents: { plain: plainAgent("alone") }, logger: false });
    const warn = vi.spyOn(mastra.getLogger(), "warn");

    expect(collectInngestFunctions({ mastra })).toEqual([]);

    expect(warn).toHaveBeenCalledTimes(1);
    const message = String(warn.mock.calls[0]?.[0]);
    expect(message).toContain("no Inngest functions to serve");
    expect(message).toContain("createInngestAgent");
    expect(message).toContain("addAgent()");
    expect(message).toContain("stream() would wait for a run that never starts");
  });

  it("does not warn when only the user's functions are served", () => {
    const mastra = new Mastra({ logger: false });
    const warn = vi.spyOn(mastra.getLogger(), "warn");
    const only = userFunction("only");
    expect(collectInngestFunctions({ mastra, functions: [only] })).toEqual([only]);
    expect(warn).not.toHaveBeenCalled();
  });

  it("rejects a missing Mastra instance and functions that are not an array", () => {
    expect(() => collectInngestFunctions({ mastra: undefined as never })).toThrowError(
      expect.objectContaining({ code: ErrorCode.INVALID_OPTION }),
    );
    const mastra = new Mastra({ logger: false });
    let caught: unknown;
    try {
      collectInngestFunctions({ mastra, functions: userFunction("single") as never });
    } catch (error) {
      caught = error;
    }
    expect(MastraInngestError.isInstance(caught, ErrorCode.INVALID_OPTION)).toBe(true);
    expect((caught as Error).message).toContain("functions must be an array");
  });
});
