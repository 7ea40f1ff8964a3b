import type { ChildProcess } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Mastra } from "@mastra/core/mastra";
import { findFreePort, silentLogger } from "@mastra/inngest-testing/helpers";
import { Inngest } from "inngest";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createInngestAgent } from "./create-inngest-agent.ts";
import { guardedAgent, splitAgent, splitAnswer } from "./fixtures/split-agents.ts";
import { startWorker } from "./test/test-worker.ts";
import { startTestWorld, type TestWorld } from "./test/test-world.ts";

describe("caller and worker in different processes", () => {
  let world: TestWorld;
  let worker: ChildProcess | undefined;
  let port: number;
  let logFile: string;
  let caller: ReturnType<typeof createInngestAgent>;
  let guardedCaller: ReturnType<typeof createInngestAgent>;

  beforeAll(async () => {
    // Retries back off 1.5 s, 3 s, 6 s (Inngest's table scaled by 0.1): enough for a worker to restart.
    world = await startTestWorld("classic", 0.1);
    port = await findFreePort();
    logFile = join(mkdtempSync(join(tmpdir(), "agent-split-")), "tool-calls.log");
    worker = await startWorker(world.engine.url, port, logFile);
    await world.engine.syncApp(`http://127.0.0.1:${port}/api/inngest`);
    const inngest = new Inngest({ id: "split", isDev: true, baseUrl: world.engine.url, logger: silentLogger });
    caller = createInngestAgent({ agent: splitAgent(), inngest });
    guardedCaller = createInngestAgent({ agent: guardedAgent(), inngest });
    new Mastra({ agents: { split: caller as never, guarded: guardedCaller as never }, logger: false });
  }, 60_000);

  afterAll(async () => {
    worker?.kill("SIGKILL");
    await caller?.pubsub.close();
    await guardedCaller?.pubsub.close();
    await world?.close();
  });

  it("a worker killed mid-run and restarted: the run completes, completed steps ran once, the stream ends normally", async () => {
    const live = await caller.stream("Look up a, b and c", { maxSteps: 10 });
    const types: string[] = [];
    const reader = (live.output.fullStream as ReadableStream<{ type: string }>).getReader();
    let killed = false;
    let toolResults = 0;
    for (;;) {
      const { done, value } = await reader.read();
      if (done) {
        break;
      }
      types.push(value.type);
      if (value.type === "tool-result") {
        toolResults++;
      }
      // Kill the worker while it streams the second LLM call, after the first tool ran.
      if (!killed && toolResults === 1 && value.type === "step-start") {
        killed = true;
        worker?.kill("SIGKILL");
        await new Promise((resolve) => setTimeout(resolve, 300));
        worker = await startWorker(world.engine.url, port, logFile);
      }
    }
    expect(killed).toBe(true);
    expect(types.at(-1)).toBe("finish");
    expect(await live.output.text).toBe(splitAnswer);

    const found = world.engine
      .runs()
      .find((candidate) => (candidate.event.data as { runId?: string }).runId === live.runId);
    const run = await world.engine.waitForRun(found?.id ?? "");
    expect(run.status).toBe("Completed");
    // The kill interrupted llm:1: it completed once, on a later attempt, in the restarted worker (on a
    // loaded machine a retry may also reach the worker before it listens again, hence "later").
    const llmCompletions = run.steps.filter((step) => step.name === "llm:1" && step.outcome === "ok");
    expect(llmCompletions).toHaveLength(1);
    expect(llmCompletions[0]?.attempt).toBeGreaterThanOrEqual(1);
    const completed = run.steps.filter((step) => step.outcome === "ok" && !step.discarded).map((step) => step.name);
    expect(new Set(completed).size).toBe(completed.length);
    // The tool of each iteration ran once: the kill happened in an LLM step, after tool:0:0 completed.
    expect(readFileSync(logFile, "utf8").trim().split("\n")).toEqual(["a", "b", "c"]);

    const replay = await caller.observe(live.runId);
    const replayed: string[] = [];
    for await (const chunk of replay.output.fullStream as unknown as AsyncIterable<{ type: string }>) {
      replayed.push(chunk.type);
    }
    expect(replayed.filter((type) => type === "text-delta")).toHaveLength(40);
    expect(replayed.filter((type) => type === "tool-result")).toHaveLength(3);
    expect(await replay.output.text).toBe(splitAnswer);
  }, 60_000);

  it("an input processor's tripwire stops the run in the worker process, without a model call", async () => {
    const calls = () =>
      readFileSync(logFile, "utf8")
        .split("\n")
        .filter((line) => line === "model").length;
    const before = calls();
    const live = await guardedCaller.stream("this is forbidden");
    const types: string[] = [];
    for await (const chunk of live.output.fullStream as unknown as AsyncIterable<{ type: string }>) {
      types.push(chunk.type);
    }
    expect(types).toContain("tripwire");
    expect(await live.output.text).toBe("");
    const found = world.engine
      .runs()
      .find((candidate) => (candidate.event.data as { runId?: string }).runId === live.runId);
    await world.engine.waitForRun(found?.id ?? "");
    expect(calls()).toBe(before);
  }, 30_000);

  it("abort from the caller's process stops the run in the worker during an LLM step", async () => {
    const live = await caller.stream("Look up a, b and c", { maxSteps: 10 });
    const reader = (live.output.fullStream as ReadableStream<{ type: string }>).getReader();
    let deltas = 0;
    for (;;) {
      const { done, value } = await reader.read();
      if (done) {
        break;
      }
      if (value.type === "text-delta" && ++deltas === 3) {
        await live.abort();
      }
    }
    expect(deltas).toBeLessThan(40);
    const found = world.engine
      .runs()
      .find((candidate) => (candidate.event.data as { runId?: string }).runId === live.runId);
    const run = await world.engine.waitForRun(found?.id ?? "");
    expect(run.status).toBe("Cancelled");
    expect(run.steps.some((step) => step.name === "finish")).toBe(false);
  }, 30_000);

  it("a per-call tool with execute fails the run in another process with an error naming the option", async () => {
    const errors: unknown[] = [];
    const live = await caller.stream("Look up a", {
      maxSteps: 10,
      toolsets: { extra: { ping: { id: "ping", description: "-", execute: async () => "pong" } } },
      onError: (error) => void errors.push(error),
    });
    const types: string[] = [];
    for await (const chunk of live.output.fullStream as unknown as AsyncIterable<{ type: string }>) {
      types.push(chunk.type);
    }
    const found = world.engine
      .runs()
      .find((candidate) => (candidate.event.data as { runId?: string }).runId === live.runId);
    const run = await world.engine.waitForRun(found?.id ?? "");
    expect(run.status).toBe("Failed");
    expect(JSON.stringify(run.error)).toContain("toolsets");
    expect(types).toContain("error");
  }, 30_000);
});
