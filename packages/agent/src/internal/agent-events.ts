import { assertValidId } from "@mastra/inngest-core";

const packageName = "@mastra/inngest-agent";

/** The event that starts an agent's run; its data is `prepare()`'s `workflowInput`. */
export function runEventName(agentId: string): string {
  return `mastra-inngest/agent.${assertValidId("agentId", agentId, packageName)}.run`;
}

/** The event that cancels a run of an agent (`cancelOn` matches its `data.runId`). */
export function cancelEventName(agentId: string): string {
  return `mastra-inngest/agent.${assertValidId("agentId", agentId, packageName)}.cancel`;
}

/** The Inngest function id of an agent's loop. */
export function loopFunctionId(agentId: string): string {
  return `agent-${assertValidId("agentId", agentId, packageName)}`;
}

/** The event `resume()` sends after recording a decision; the run waits for it (and re-reads decisions). */
export function resumeEventName(agentId: string): string {
  return `mastra-inngest/agent.${assertValidId("agentId", agentId, packageName)}.resume`;
}

/** The Inngest function id of the handler that ends an agent's runs Inngest cancelled. */
export function cancelledRunsFunctionId(agentId: string): string {
  return `agent-${assertValidId("agentId", agentId, packageName)}-cancelled`;
}
