import { Agent } from "@mastra/core/agent";
import { Mastra } from "@mastra/core/mastra";
import { InMemoryStore } from "@mastra/core/storage";
import { silentLogger, until } from "@mastra/inngest-testing/helpers";
import { type ScriptedModelCallOptions, scriptedModel, textTurn, toolTurn } from "@mastra/inngest-testing/model";
import { Memory } from "@mastra/memory";
import { Inngest } from "inngest";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createInngestAgent } from "./create-inngest-agent.ts";
import { laneAliveKey, threadLaneKey } from "./internal/thread-lane.ts";
import { transfer, untilSuspendedOrTimeout } from "./test/approval-world.ts";
import { startTestWorld, type TestWorld } from "./test/test-world.ts";

/** The texts of a thread's messages, as [role, text] pairs, in the order memory recalls them. */
async function threadTexts(memory: Memory, threadId: string): Promise<[string, string][]> {
  const { messages } = await memory.recall({ threadId });
  return messages.map((message) => {
    const content = message.content as { parts?: Array<{ type: string; text?: string }> };
    const text = (content.parts ?? [])
      .filter((part) => part.type === "text")
      .map((part) => part.text ?? "")
      .join("");
    return [message.role, text];
  });
}

/**
 * Runs on one memory thread never overlap: the loop's function has a concurrency constraint keyed
 * on the thread (limit 1), so a second `stream()` waits until the first run ended.
 * @see issue 22
 */
describe("runs on one memory thread", () => {
  let world: TestWorld;
  let memory: Memory;
  let durable: ReturnType<typeof createInngestAgent>;
  let approving: ReturnType<typeof createInngestAgent>;
  const prompts: number[] = [];

  beforeAll(async () => {
    world = await startTestWorld();
    memory = new Memory({ storage: new InMemoryStore() as never, options: { lastMessages: 20 } });
    const inngest = new Inngest({ id: "threads", isDev: true, baseUrl: world.engine.url, logger: silentLogger });
    const onCall = (options: ScriptedModelCallOptions): void => {
      // How many assistant messages the model saw: 1 means the earlier turn was in memory already.
      prompts.push(options.prompt.filter((message) => message.role === "assistant").length);
    };
    durable = createInngestAgent({
      agent: new Agent({
        id: "threaded",
        name: "Threaded",
        instructions: "-",
        model: scriptedModel([textTurn(["First ", "answer ", "in ", "parts."]), textTurn(["Second ", "answer."])], {
          delayMs: 40,
          onCall,
        }) as never,
        memory,
      }),
      inngest,
    });
    approving = createInngestAgent({
      agent: new Agent({
        id: "approving",
        name: "Approving",
        instructions: "-",
        model: scriptedModel([toolTurn("transfer", { amount: 5 }), textTurn(["Sent ", "as ", "asked."])], {
          delayMs: 40,
        }) as never,
        tools: { transfer },
        memory,
      }),
      inngest,
    });
    new Mastra({
      agents: { threaded: durable as never, approving: approving as never },
      storage: new InMemoryStore() as never,
      logger: false,
    });
    await world.serve(inngest, [...durable.getInngestFunctions(), ...approving.getInngestFunctions()]);
  });

  afterAll(async () => {
    await durable?.pubsub.close();
    await approving?.pubsub.close();
    await world?.close();
  });

  it("gives two concurrent stream() calls two complete turns, one after the other, in memory", async () => {
    const memoryOption = { thread: "thread-serial", resource: "user-1" };
    const queued: { runId: string; threadId: string; ahead: string[]; at: number }[] = [];
    const [first, second] = await Promise.all([
      durable.stream("Question one", { memory: memoryOption }),
      durable.stream("Question two", {
        memory: memoryOption,
        onQueued: (info) => queued.push({ ...info, at: Date.now() }),
      }),
    ]);
    const secondChunks: { type: string; data?: unknown }[] = [];
    const reading = (async () => {
      for await (const chunk of second.output.fullStream as AsyncIterable<{ type: string; data?: unknown }>) {
        secondChunks.push(chunk);
      }
    })();
    const [firstText, secondText] = await Promise.all([first.output.text, second.output.text, reading]);
    expect(firstText).toBe("First answer in parts.");
    expect(secondText).toBe("Second answer.");
    // The second run's model call saw the first run's answer.
    expect(prompts).toEqual([0, 1]);
    // The caller's stream says it waited, and for which run.
    expect(secondChunks[0]).toEqual({
      type: "data-run-queued",
      runId: second.runId,
      from: "AGENT",
      data: { threadId: "thread-serial", ahead: [first.runId] },
    });
    const runs = world.engine.runs().filter((run) => run.functionId === "threads-agent-threaded");
    expect(runs).toHaveLength(2);
    expect(runs[1]?.startedAt).toBeGreaterThanOrEqual(runs[0]?.endedAt ?? Number.POSITIVE_INFINITY);
    // The caller heard at once that it waits, before the first run ended.
    expect(queued).toEqual([
      { runId: second.runId, threadId: "thread-serial", ahead: [first.runId], at: expect.any(Number) },
    ]);
    expect(queued[0]?.at).toBeLessThan(runs[0]?.endedAt ?? 0);
    expect(await threadTexts(memory, "thread-serial")).toEqual([
      ["user", "Question one"],
      ["assistant", "First answer in parts."],
      ["user", "Question two"],
      ["assistant", "Second answer."],
    ]);
  });

  it("lets the next run on the thread go while a run waits for a decision; the resumed run waits for the slot", async () => {
    const memoryOption = { thread: "thread-suspended", resource: "user-2" };
    const waiting = await approving.stream("Send 5", { memory: memoryOption });
    const [request] = await untilSuspendedOrTimeout(waiting);
    expect(request?.type).toBe("tool-call-approval");
    // The waiting run does not hold the thread: the next stream() on it (here by another agent, which
    // shares the thread's slot: env scope) starts at once, not queued.
    const next = await durable.stream("And now?", { memory: memoryOption });
    const engineRun = (runId: string) =>
      world.engine.runs().find((run) => (run.event.data as { runId?: string }).runId === runId);
    await until(() => engineRun(next.runId)?.flowControl.firstCallAt);
    // Decided while the next run executes: the resumed run's steps wait until it ended.
    const resumed = await approving.resume(waiting.runId, { approved: true }, { resourceId: "user-2" });
    const nextChunks: string[] = [];
    for await (const chunk of next.fullStream as AsyncIterable<{ type: string }>) {
      nextChunks.push(chunk.type);
    }
    expect(nextChunks).not.toContain("data-run-queued");
    expect(await resumed.output.text).toBe("Sent as asked.");
    const [first, second] = await Promise.all(
      [waiting.runId, next.runId].map((runId) => world.engine.waitForRun(engineRun(runId)?.id ?? "")),
    );
    expect(first?.status).toBe("Completed");
    expect(second?.status).toBe("Completed");
    const window = { from: second?.flowControl.firstCallAt ?? 0, to: second?.endedAt ?? 0 };
    const overlapping = (first?.steps ?? []).filter((step) => step.at > window.from && step.at < window.to);
    expect(overlapping).toEqual([]);
    expect(first?.flowControl.queued).toBeGreaterThan(0);
  });

  it("gives a queued caller whose signal aborts its place back: stream() rejects, the thread goes on", async () => {
    const memoryOption = { thread: "thread-abort", resource: "user-3" };
    const first = await durable.stream("Long question", { memory: memoryOption });
    const controller = new AbortController();
    const queued = durable.stream("Never mind", { memory: memoryOption, abortSignal: controller.signal });
    setTimeout(() => controller.abort(new Error("the user left")), 30);
    await expect(queued).rejects.toThrow("the user left");
    await first.output.text;
    const after = await durable.stream("Next", { memory: memoryOption });
    expect(typeof (await after.output.text)).toBe("string");
    const texts = (await threadTexts(memory, "thread-abort")).map(([role]) => role);
    expect(texts).toEqual(["user", "assistant", "user", "assistant"]);
  });

  it("waits for a run not started yet only while its caller is alive", async () => {
    const threadId = "thread-ghost";
    const memoryOption = { thread: threadId, resource: "user-4" };
    // A caller that claimed its run, joined the lane, and died before sending it.
    await durable.prepare("Lost", { memory: memoryOption, runId: "ghost-run" });
    const lane = threadLaneKey(threadId);
    await durable.cache.listPushIndexed(lane, `${lane}:count`, { runId: "ghost-run" });
    const firstChunks: string[] = [];
    const first = await durable.stream("Hello", { memory: memoryOption });
    for await (const chunk of first.fullStream as AsyncIterable<{ type: string }>) {
      firstChunks.push(chunk.type);
    }
    expect(firstChunks).not.toContain("data-run-queued");
    const firstRun = world.engine.runs().find((run) => (run.event.data as { runId?: string }).runId === first.runId);
    await world.engine.waitForRun(firstRun?.id ?? "");
    // The same entry with a caller that is alive (its mark renewed) holds the thread until the mark goes.
    const index = await durable.cache.listPushIndexed(lane, `${lane}:count`, { runId: "ghost-run" });
    await durable.cache.set(laneAliveKey(threadId, index), true, 15_000);
    setTimeout(() => void durable.cache.delete(laneAliveKey(threadId, index)), 300);
    const startedAt = Date.now();
    const second = await durable.stream("Again", { memory: memoryOption });
    expect(Date.now() - startedAt).toBeGreaterThanOrEqual(290);
    const reader = (second.fullStream as ReadableStream<{ type: string; data?: { ahead?: string[] } }>).getReader();
    const { value } = await reader.read();
    expect(value).toMatchObject({ type: "data-run-queued", data: { ahead: ["ghost-run"] } });
    reader.releaseLock();
    await second.output.text;
  });
});
