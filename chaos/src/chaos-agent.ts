import { appendFileSync } from "node:fs";
import { setTimeout as sleep } from "node:timers/promises";
import { Agent } from "@mastra/core/agent";
import { createTool } from "@mastra/core/tools";
import { z } from "zod";
import { planModel } from "./plan-model.ts";

/**
 * One line of the executions log, written by a tool each time it runs: the call's reference
 * (`<runId>/<turn>/<position>`), the process and the time. A file, because workers are separate
 * processes that get killed, and Redis is itself under fault.
 */
export function formatExecution(reference: string, tool: string): string {
  return `${reference} ${tool} ${process.pid} ${Date.now()}\n`;
}

function loggingTool(id: string, requireApproval: boolean, executionsLog: string): ReturnType<typeof createTool> {
  return createTool({
    id,
    description: requireApproval ? "Moves money; needs an approval" : "Records something",
    inputSchema: z.object({ reference: z.string() }),
    requireApproval,
    execute: async ({ reference }: { reference: string }) => {
      appendFileSync(executionsLog, formatExecution(reference, id));
      // Long enough that a worker killed at a random moment sometimes dies inside a tool step.
      await sleep(30);
      return { done: reference };
    },
  });
}

/** The suite's agent: the plan model, `record` and `transfer` (which needs an approval). */
export function chaosAgent(executionsLog: string): Agent {
  return new Agent({
    // The same id in every process: it names the loop function and its events.
    id: "chaos",
    name: "Chaos",
    instructions: "Follow the plan.",
    model: planModel() as never,
    tools: {
      record: loggingTool("record", false, executionsLog),
      transfer: loggingTool("transfer", true, executionsLog),
    },
  });
}
