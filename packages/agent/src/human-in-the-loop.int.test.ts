import { Agent } from "@mastra/core/agent";
import { Mastra } from "@mastra/core/mastra";
import { InMemoryStore } from "@mastra/core/storage";
import { createTool } from "@mastra/core/tools";
import { ErrorCode, MastraInngestError } from "@mastra/inngest-core";
import { InMemoryStreamCache } from "@mastra/inngest-stream-cache";
import { silentLogger } from "@mastra/inngest-testing/helpers";
import { scriptedModel } from "@mastra/inngest-testing/model";
import { Memory } from "@mastra/memory";
import { Inngest } from "inngest";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { createInngestAgent } from "./create-inngest-agent.ts";
import type { InngestAgentStreamResult } from "./inngest-agent-types.ts";
import { startTestWorld, type TestWorld } from "./test/test-world.ts";

const executions: Record<string, number> = {};

const transfer = createTool({
  id: "transfer",
  description: "Moves money",
  inputSchema: z.object({ amount: z.number() }),
  requireApproval: true,
  execute: async ({ amount }: { amount: number }) => {
    executions.transfer = (executions.transfer ?? 0) + 1;
    return { moved: amount };
  },
});

const ask = createTool({
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
class LostReplyCache extends InMemoryStreamCache {
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
async function toolResultsOf(stream: ReadableStream<unknown>): Promise<unknown[]> {
  const results: unknown[] = [];
  for await (const chunk of stream as unknown as AsyncIterable<{ type: string; payload?: { result?: unknown } }>) {
    if (chunk.type === "tool-result") {
      results.push(chunk.payload?.result);
    }
  }
  return results;
}

type Turn = { toolCalls: Array<{ toolName: string; args: Record<string, unknown> }> } | { text: string };

function agentWith(id: string, turns: Turn[], tools: Record<string, unknown>): Agent {
  return new Agent({
    id,
    name: id,
    instructions: "-",
    model: scriptedModel(turns as never) as never,
    tools: tools as never,
  });
}

describe("human in the loop", () => {
  let world: TestWorld;
  type DurableAgent = ReturnType<typeof createInngestAgent>;
  let agents: {
    approve: DurableAgent;
    suspend: DurableAgent;
    several: DurableAgent;
    expiring: DurableAgent;
    autoResume: DurableAgent;
    lossy: DurableAgent;
  };
  const lossyCache = new LostReplyCache();

  beforeAll(async () => {
    world = await startTestWorld("checkpoint", 0.001);
    const inngest = new Inngest({ id: "hitl", isDev: true, baseUrl: world.engine.url, logger: silentLogger });
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
    agents = {
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
  });

  afterAll(async () => {
    for (const agent of Object.values(agents ?? {})) {
      await agent.pubsub.close();
    }
    await world?.close();
  });

  const engineRun = (runId: string) =>
    world.engine.runs().find((candidate) => (candidate.event.data as { runId?: string }).runId === runId);

  it("approve: the tool runs once, the resumed stream holds only new chunks and ends with the final text", async () => {
    const before = executions.transfer ?? 0;
    const started = await agents.approve.stream("Send 5");
    const [request] = await untilSuspendedOrTimeout(started);
    expect(request?.type).toBe("tool-call-approval");
    expect(executions.transfer ?? 0).toBe(before);
    const resumed = await agents.approve.resume(started.runId, { approved: true });
    const types: string[] = [];
    for await (const chunk of resumed.fullStream as unknown as AsyncIterable<{ type: string }>) {
      types.push(chunk.type);
    }
    expect(types).not.toContain("tool-call-approval");
    expect(types).toContain("tool-result");
    expect(await resumed.output.text).toBe("Done.");
    expect((executions.transfer ?? 0) - before).toBe(1);
    expect((await world.engine.waitForRun(engineRun(started.runId)?.id ?? "")).status).toBe("Completed");
  });

  it("a resume() whose reply was lost still decides the call, once: the run continues and a retry is a duplicate", async () => {
    const before = executions.transfer ?? 0;
    const started = await agents.lossy.stream("Send 3");
    await untilSuspendedOrTimeout(started);
    await expect(agents.lossy.resume(started.runId, { approved: true })).rejects.toThrow("connection lost");
    expect(lossyCache.lostReplies).toBe(1);
    const retried = await agents.lossy.resume(started.runId, { approved: true }).catch((error: unknown) => error);
    expect((retried as MastraInngestError).code).toBe(ErrorCode.DUPLICATE_RESUME);
    // The run finds the recorded decision at its next check, without a resume event.
    expect((await world.engine.waitForRun(engineRun(started.runId)?.id ?? "")).status).toBe("Completed");
    expect((executions.transfer ?? 0) - before).toBe(1);
    const replay = await agents.lossy.observe(started.runId);
    expect(await replay.output.text).toBe("Sent.");
  });

  it("deny: the tool never runs and the model continues", async () => {
    const before = executions.transfer ?? 0;
    const started = await agents.approve.stream("Send 5");
    await untilSuspendedOrTimeout(started);
    const resumed = await agents.approve.resume(started.runId, { approved: false, reason: "no" });
    expect(await resumed.output.text).toBe("Done.");
    expect(executions.transfer ?? 0).toBe(before);
  });

  it("in-tool suspend: the tool is called again with the resume data", async () => {
    const before = executions.ask ?? 0;
    const started = await agents.suspend.stream("Ask me");
    const [request] = await untilSuspendedOrTimeout(started);
    expect(request?.type).toBe("tool-call-suspended");
    const resumed = await agents.suspend.resume(started.runId, { answer: "blue" });
    expect(await toolResultsOf(resumed.fullStream)).toEqual([{ answer: "blue" }]);
    expect((executions.ask ?? 0) - before).toBe(2);
  });

  it("several pending approvals are emitted before the run waits and resumed one by one in reverse order", async () => {
    const before = executions.transfer ?? 0;
    const started = await agents.several.stream("Two transfers");
    const requests = await untilSuspendedOrTimeout(started, 2);
    expect(requests).toHaveLength(2);
    await expect(agents.several.resume(started.runId, { approved: true })).rejects.toSatisfy((error) =>
      MastraInngestError.isInstance(error, ErrorCode.AMBIGUOUS_RESUME),
    );
    const [first, second] = requests;
    const later = await agents.several.resume(started.runId, { approved: true }, { toolCallId: second?.toolCallId });
    const earlier = await agents.several.resume(started.runId, { approved: true }, { toolCallId: first?.toolCallId });
    expect(await earlier.output.text).toBe("Both settled.");
    expect(await later.output.text).toBe("Both settled.");
    expect((executions.transfer ?? 0) - before).toBe(2);
  });

  it("rejects a wrong toolCallId, a double resume and a resume of a finished run, and the tool never runs again", async () => {
    const started = await agents.approve.stream("Send 5");
    const [request] = await untilSuspendedOrTimeout(started);
    await expect(agents.approve.resume(started.runId, { approved: true }, { toolCallId: "nope" })).rejects.toSatisfy(
      (error) => MastraInngestError.isInstance(error, ErrorCode.NO_PENDING_RESUME),
    );
    const before = executions.transfer ?? 0;
    const eventsBefore = world.engine.events().length;
    const attempts = await Promise.allSettled([
      agents.approve.resume(started.runId, { approved: true }, { toolCallId: request?.toolCallId }),
      agents.approve.resume(started.runId, { approved: true }, { toolCallId: request?.toolCallId }),
    ]);
    const accepted = attempts.filter((attempt) => attempt.status === "fulfilled");
    expect(accepted).toHaveLength(1);
    // Only the accepted resume sent an event; the rejected ones sent nothing.
    expect(world.engine.events().filter((event) => event.name.endsWith(".resume")).length).toBeGreaterThan(0);
    expect(world.engine.events().length - eventsBefore).toBeLessThanOrEqual(1 + 2);
    const rejected = attempts.find((attempt) => attempt.status === "rejected") as PromiseRejectedResult;
    expect(MastraInngestError.isInstance(rejected.reason, ErrorCode.DUPLICATE_RESUME)).toBe(true);
    await (accepted[0] as PromiseFulfilledResult<InngestAgentStreamResult>).value.output.text;
    await world.engine.waitForRun(engineRun(started.runId)?.id ?? "");
    await expect(agents.approve.resume(started.runId, { approved: true })).rejects.toSatisfy((error) =>
      MastraInngestError.isInstance(error, ErrorCode.RUN_NOT_SUSPENDED),
    );
    await expect(agents.approve.resume("unknown-run", { approved: true })).rejects.toSatisfy((error) =>
      MastraInngestError.isInstance(error, ErrorCode.RUN_NOT_FOUND),
    );
    expect((executions.transfer ?? 0) - before).toBe(1);
  });

  it("a resume sent the instant the run suspends is applied exactly once, many times in a row", async () => {
    const rounds = process.env.CI ? 10 : 50;
    const before = executions.transfer ?? 0;
    for (let round = 0; round < rounds; round++) {
      const started = await agents.approve.stream("Send 5", {
        onSuspended: () => {
          void agents.approve.resume(started.runId, { approved: true });
        },
      } as never);
      // The starting stream stays open through the suspension and carries the continuation.
      expect(await started.output.text).toBe("Done.");
      const run = await world.engine.waitForRun(engineRun(started.runId)?.id ?? "", { timeoutMs: 20_000 });
      expect(run.status).toBe("Completed");
    }
    expect((executions.transfer ?? 0) - before).toBe(rounds);
  }, 120_000);

  it("a resume sent on the tool-call-approval chunk itself finds the run waiting for it", async () => {
    const before = executions.transfer ?? 0;
    const rounds = 5;
    for (let round = 0; round < rounds; round++) {
      let resumed: Promise<unknown> | undefined;
      const started = await agents.approve.stream("Send 5", {
        onChunk: (chunk: { type: string }) => {
          if (chunk.type === "tool-call-approval") {
            resumed = agents.approve.resume(started.runId, { approved: true });
          }
        },
      } as never);
      expect(await started.output.text).toBe("Done.");
      await expect(resumed).resolves.toBeDefined();
    }
    expect((executions.transfer ?? 0) - before).toBe(rounds);
  });

  it("autoResumeSuspendedTools: a later message on the thread resumes the suspended tool with the model's resumeData", async () => {
    const before = executions.ask ?? 0;
    const memory = { thread: "auto-thread", resource: "auto-user" };
    const first = await agents.autoResume.stream("Ask me", { memory, autoResumeSuspendedTools: true });
    const [request] = await untilSuspendedOrTimeout(first);
    expect(request?.type).toBe("tool-call-suspended");
    const second = await agents.autoResume.stream("blue", { memory, autoResumeSuspendedTools: true });
    expect(await toolResultsOf(second.output.fullStream)).toEqual([{ answer: "blue" }]);
    expect(await second.output.text).toBe("Thanks.");
    expect((executions.ask ?? 0) - before).toBe(2);
  });

  it("a wait that expires ends the run, and a later resume gets RESUME_EXPIRED", async () => {
    const started = await agents.expiring.stream("Send 9");
    await untilSuspendedOrTimeout(started);
    const run = await world.engine.waitForRun(engineRun(started.runId)?.id ?? "", { timeoutMs: 20_000 });
    expect(run.status).toBe("Failed");
    await expect(agents.expiring.resume(started.runId, { approved: true })).rejects.toSatisfy((error) =>
      MastraInngestError.isInstance(error, ErrorCode.RESUME_EXPIRED),
    );
  });
});

/** Reads the stream until `count` requests for a decision arrived. */
async function untilSuspendedOrTimeout(
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
function autoResumeAgent(): Agent {
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
