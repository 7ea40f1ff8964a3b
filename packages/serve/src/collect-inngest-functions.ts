import type { Mastra } from "@mastra/core/mastra";
import { isInngestAgent } from "@mastra/inngest-agent";
import { ErrorCode, MastraInngestError } from "@mastra/inngest-core";
import type { InngestFunction } from "inngest";

const packageName = "@mastra/inngest-serve";

/** Options of {@link collectInngestFunctions}. */
export interface CollectInngestFunctionsOptions {
  /** The Mastra instance whose agents and workflows are searched. */
  mastra: Mastra;
  /**
   * More Inngest functions to serve beside the ones found on `mastra`, in this order after them.
   * @default []
   */
  functions?: readonly InngestFunction.Like[];
}

/**
 * Collects every Inngest function a Mastra instance needs served: the loop function of each agent
 * made with `createInngestAgent` (registered in `new Mastra({ agents })` or with `addAgent`), the
 * functions of each registered workflow that has `getFunctions()` (Inngest workflows built with
 * other Mastra tools, including the workflows durable agents register and Mastra hides from
 * `listWorkflows()`), then `functions`. Each function appears once, at its first place. Warns on
 * the Mastra logger when nothing is found, since an endpoint that serves nothing leaves every
 * durable `stream()` waiting for a run that never starts.
 *
 * @example
 * const functions = collectInngestFunctions({ mastra, functions: [nightlyReport] });
 * app.use("/api/inngest", serve({ client: inngest, functions }));
 */
export function collectInngestFunctions(options: CollectInngestFunctionsOptions): InngestFunction.Like[] {
  const { mastra } = options;
  if (
    mastra === undefined ||
    mastra === null ||
    typeof (mastra as { listAgents?: unknown }).listAgents !== "function"
  ) {
    throw new MastraInngestError(`[${packageName}] mastra must be a Mastra instance`, {
      code: ErrorCode.INVALID_OPTION,
    });
  }
  const userFunctions = options.functions ?? [];
  if (!Array.isArray(userFunctions)) {
    throw new MastraInngestError(`[${packageName}] functions must be an array of Inngest functions`, {
      code: ErrorCode.INVALID_OPTION,
    });
  }

  const collected = new Set<InngestFunction.Like>();
  const agents = Object.values(mastra.listAgents() ?? {}) as unknown[];
  for (const agent of agents) {
    if (isInngestAgent(agent)) {
      for (const fn of agent.getInngestFunctions()) {
        collected.add(fn);
      }
    }
  }
  for (const workflow of registeredWorkflows(mastra, agents)) {
    for (const fn of workflowFunctions(workflow)) {
      collected.add(fn);
    }
  }
  for (const fn of userFunctions) {
    collected.add(fn);
  }

  if (collected.size === 0) {
    mastra
      .getLogger()
      ?.warn(
        `[${packageName}] no Inngest functions to serve: the Mastra instance has no agent made with createInngestAgent (in \`agents\` or added with addAgent() before serve() is called), no workflow with getFunctions(), and \`functions\` is empty. Inngest would have nothing to call, so every durable agent's stream() would wait for a run that never starts.`,
      );
  }
  return [...collected];
}

/**
 * The workflows `listWorkflows()` shows, plus the ones durable agents registered: Mastra (1.71)
 * hides those from `listWorkflows()`, and an agent's `getDurableWorkflows()` is the public way to
 * reach them.
 */
function registeredWorkflows(mastra: Mastra, agents: readonly unknown[]): Set<unknown> {
  const workflows = new Set<unknown>(Object.values(mastra.listWorkflows() ?? {}));
  for (const agent of agents) {
    const getDurableWorkflows = (agent as { getDurableWorkflows?: unknown } | null)?.getDurableWorkflows;
    if (typeof getDurableWorkflows === "function") {
      const durable: unknown = getDurableWorkflows.call(agent);
      for (const workflow of Array.isArray(durable) ? durable : []) {
        workflows.add(workflow);
      }
    }
  }
  return workflows;
}

function workflowFunctions(workflow: unknown): InngestFunction.Like[] {
  const getFunctions = (workflow as { getFunctions?: unknown } | null)?.getFunctions;
  if (typeof getFunctions !== "function") {
    return [];
  }
  const functions: unknown = getFunctions.call(workflow);
  return Array.isArray(functions) ? (functions as InngestFunction.Like[]) : [];
}
