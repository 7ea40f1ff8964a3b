import { Agent } from "@mastra/core/agent";
import { Mastra } from "@mastra/core/mastra";
import { InMemoryStore } from "@mastra/core/storage";
import { createTool } from "@mastra/core/tools";
import { InMemoryStreamCache } from "@mastra/inngest-stream-cache";
import { silentLogger } from "@mastra/inngest-testing/helpers";
import { scriptedModel } from "@mastra/inngest-testing/model";
import { Memory } from "@mastra/memory";
import { Inngest } from "inngest";
import { z } from "zod";
import { createInngestAgent } from "../create-inngest-agent.ts";
import type { InngestAgent, InngestAgentStreamResult } from "../inngest-agent-types.ts";
import { startTestWorld, type TestWorld } from "./test-world.ts";

// The agents of the human-in-the-loop tests: tools that need approval or suspend, and the world
// that serves them. Test support only.

/** How often each tool ran, by tool id. */
export const executions: Record<string, number> = {};

/** A tool that needs approval. */
export const transfer: ReturnType<typeof createTool> = createTool({
  id: "transfer",
  description: "Moves money",
  inputSchema: z.object({ amount: z.number() }),
  requireApproval: true,
  execute: async ({ amount }: { amount: number }) => {
    executions.transfer = (executions.transfer ?? 0) + 1;
    return { moved: amount };
  },
});

/** A tool that suspends with a question and takes the answer as resume data. */
export const ask: ReturnType<typeof createTool> = createTool({
  id: "ask",
  description: "Asks the user a question",
  inputSchema: z.object({ question: z.string() }),
  suspendSchema: z.object({ question: z.string() }),
  resumeSchema: z.object({ answer: z.string() }),
  execute: async ({ question }, context) => {
    executions.ask = (executions.ask ?? 0) + 1;
    const answer = (context?.agent?.resumeData as { answer?: string } | undefined)?.answer;
    if (answer === undefined) {
      await context?.agent?.suspend?.({ question });
      return { answer: "" };
    }
    return { answer };
  },
});

/** A cache that loses the answer to the first decision it records: the push happens, the reply does not arrive. */
export class LostReplyCache extends InMemoryStreamCache {
  lostReplies = 0;

  override async listPushIndexed(listKey: string, counterKey: string, value: Record<string, unknown>): Promise<number> {
    const index = await super.listPushIndexed(listKey, counterKey, value);
    if (listKey.includes(":decision:") && this.lostReplies === 0) {
      this.lostReplies++;
      throw new Error("connection lost before the reply");
    }
    return index;
  }
}

/** The results of the `tool-result` chunks of a stream, read to its end. */
export async function toolResultsOf(stream: ReadableStream<unknown>): Promise<unknown[]> {
  const results: unknown[] = [];
  for await (const chunk of stream as unknown as AsyncIterable<{ type: string; payload?: { result?: unknown } }>) {
    if (chunk.type === "tool-result") {
      results.push(chunk.payload?.result);
    }
  }
  return results;
}

/** A scripted turn. */
export type Turn = { toolCalls: Array<{ toolName: string; args: Record<string, unknown> }> } | { text: string };

/** An agent on a scripted model with `tools`. */
export function agentWith(id: string, turns: Turn[], tools: Record<string, unknown>): Agent {
  return new Agent({
    id,
    name: id,
    instructions: "-",
    model: scriptedModel(turns as never) as never,
    tools: tools as never,
  });
}

/** The durable agents of the tests, by role. */
export interface ApprovalAgents {
  approve: InngestAgent;
  suspend: InngestAgent;
  several: InngestAgent;
  expiring: InngestAgent;
  autoResume: InngestAgent;
  lossy: InngestAgent;
}

/** The dev server serving {@link ApprovalAgents}. */
export interface ApprovalWorld {
  world: TestWorld;
  agents: ApprovalAgents;
  lossyCache: LostReplyCache;
  /** The engine run of a run id. */
  engineRun(runId: string): ReturnType<TestWorld["engine"]["runs"]>[number] | undefined;
  close(): Promise<void>;
}

/** Starts the dev server and serves the agents under the Inngest app `appId`. */
export async function startApprovalWorld(appId: string): Promise<ApprovalWorld> {
  const lossyCache = new LostReplyCache();
  const world = await startTestWorld("checkpoint", 0.001);
  const inngest = new Inngest({ id: appId, isDev: true, baseUrl: world.engine.url, logger: silentLogger });
  const approve = agentWith(
    "approve",
    [{ toolCalls: [{ toolName: "transfer", args: { amount: 5 } }] }, { text: "Done." }],
    { transfer },
  );
  const suspend = agentWith(
    "suspend",
    [{ toolCalls: [{ toolName: "ask", args: { question: "Color?" } }] }, { text: "Thanks." }],
    { ask },
  );
  const several = agentWith(
    "several",
    [
      {
        toolCalls: [
          { toolName: "transfer", args: { amount: 1 } },
          { toolName: "transfer", args: { amount: 2 } },
        ],
      },
      { text: "Both settled." },
    ],
    { transfer },
  );
  const agents: ApprovalAgents = {
    approve: createInngestAgent({ agent: approve, inngest }),
    suspend: createInngestAgent({ agent: suspend, inngest }),
    several: createInngestAgent({ agent: several, inngest }),
    autoResume: createInngestAgent({ agent: autoResumeAgent(), inngest, id: "auto-resume" }),
    lossy: createInngestAgent({
      agent: agentWith("lossy", [{ toolCalls: [{ toolName: "transfer", args: { amount: 3 } }] }, { text: "Sent." }], {
        transfer,
      }),
      inngest,
      cache: lossyCache,
    }),
    expiring: createInngestAgent({
      agent: agentWith("expiring", [{ toolCalls: [{ toolName: "transfer", args: { amount: 9 } }] }, { text: "-" }], {
        transfer,
      }),
      inngest,
      id: "expiring",
      waitTimeoutMs: 5_000,
    }),
  };
  new Mastra({ agents: agents as never, logger: false });
  await world.serve(
    inngest,
    Object.values(agents).flatMap((agent) => agent.getInngestFunctions()),
  );
  return {
    world,
    agents,
    lossyCache,
    engineRun: (runId) =>
      world.engine.runs().find((candidate) => (candidate.event.data as { runId?: string }).runId === runId),
    async close() {
      for (const agent of Object.values(agents)) {
        await agent.pubsub.close();
      }
      await world.close();
    },
  };
}

/** Reads the stream until `count` requests for a decision arrived. */
export async function untilSuspendedOrTimeout(
  result: InngestAgentStreamResult,
  count = 1,
): Promise<Array<{ toolCallId?: string; type?: string }>> {
  const requests: Array<{ toolCallId?: string; type?: string }> = [];
  const reader = (result.fullStream as ReadableStream<{ type: string; payload?: { toolCallId?: string } }>).getReader();
  const deadline = Date.now() + 10_000;
  while (requests.length < count && Date.now() < deadline) {
    const { done, value } = await reader.read();
    if (done) {
      break;
    }
    if (value.type === "tool-call-approval" || value.type === "tool-call-suspended") {
      requests.push({ toolCallId: value.payload?.toolCallId, type: value.type });
    }
  }
  reader.releaseLock();
  return requests;
}

/**
 * The auto-resume agent's model: the first user message gets the suspending call; once the user
 * answers (a second user message, with core's auto-resume directive in the system prompt), the model
 * calls the tool again with `resumeData`, then answers.
 */
export function autoResumeAgent(): Agent {
  const asking = scriptedModel([{ toolCalls: [{ toolName: "ask", args: { question: "Color?" } }] }] as never);
  const resuming = scriptedModel([
    { toolCalls: [{ toolName: "ask", args: { question: "Color?", resumeData: { answer: "blue" } } }] },
    { text: "Thanks." },
  ] as never);
  const userMessages = (options: { prompt: Array<{ role: string }> }) =>
    options.prompt.filter((message) => message.role === "user").length;
  const model = {
    ...resuming,
    doStream: (options: { prompt: Array<{ role: string }> }) =>
      (userMessages(options) >= 2 ? resuming : asking).doStream(options as never),
    doGenerate: (options: { prompt: Array<{ role: string }> }) =>
      (userMessages(options) >= 2 ? resuming : asking).doGenerate(options as never),
  };
  return new Agent({
    id: "auto-resume",
    name: "auto-resume",
    instructions: "-",
    model: model as never,
    tools: { ask },
    memory: new Memory({ storage: new InMemoryStore() as never }),
  });
}
