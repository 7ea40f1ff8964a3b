import type { ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Mastra } from "@mastra/core/mastra";
import type { AnyExportedSpan } from "@mastra/core/observability";
import { RedisStreamCache } from "@mastra/inngest-stream-cache-redis";
import { type RedisServer, startRedis } from "@mastra/inngest-testing";
import { findFreePort, silentLogger } from "@mastra/inngest-testing/helpers";
import { Inngest } from "inngest";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createInngestAgent } from "./create-inngest-agent.ts";
import { splitAgent } from "./fixtures/split-agents.ts";
import { tracedApprovalAgent } from "./fixtures/traced-agents.ts";
import { startFixtureProcess } from "./test/test-worker.ts";
import { startTestWorld, type TestWorld } from "./test/test-world.ts";
import { settled, spanTrees, testObservability } from "./test/tracing/span-tree.ts";

/**
 * The caller's process opens the run's root spans; the steps run in a worker process, which adds its
 * spans to the same trace and ends the root spans, each once; also when the worker is killed mid-run,
 * and across a suspension resumed from the caller's process.
 * @see issue 20
 */
describe("tracing with the steps in a worker process", () => {
  let world: TestWorld;
  let worker: ChildProcess | undefined;
  let eventsFile: string;
  let port: number;
  let caller: ReturnType<typeof createInngestAgent>;
  let approvalCaller: ReturnType<typeof createInngestAgent>;
  let redis: RedisServer;
  let cache: RedisStreamCache;
  const tracing = testObservability();
  const workerArguments = () => [world.engine.url, String(port), eventsFile, redis.url];

  beforeAll(async () => {
    // Retries back off 1.5 s, 3 s, 6 s (Inngest's table scaled by 0.1): enough for a worker to restart.
    world = await startTestWorld("classic", 0.1);
    redis = await startRedis();
    cache = new RedisStreamCache({ url: redis.url });
    port = await findFreePort();
    eventsFile = join(mkdtempSync(join(tmpdir(), "agent-traced-")), "events.jsonl");
    worker = await startFixtureProcess("traced-worker.ts", workerArguments());
    await world.engine.syncApp(`http://127.0.0.1:${port}/api/inngest`);
    const inngest = new Inngest({ id: "traced", isDev: true, baseUrl: world.engine.url, logger: silentLogger });
    caller = createInngestAgent({ agent: splitAgent(), inngest });
    approvalCaller = createInngestAgent({ agent: tracedApprovalAgent(), inngest, cache });
    new Mastra({
      agents: { split: caller as never, approval: approvalCaller as never },
      observability: tracing.observability,
      logger: false,
    });
  }, 60_000);

  afterAll(async () => {
    worker?.kill("SIGKILL");
    await caller?.pubsub.close();
    await approvalCaller?.pubsub.close();
    await cache?.close();
    await world?.close();
    await redis?.kill();
  });

  /**
   * The worker's events of the trace `traceId`, once its exporter wrote the end of an `agent_run`
   * span (whose name ends with `nameEnd`).
   */
  async function workerEvents(
    traceId: string | undefined,
    nameEnd = "",
  ): Promise<Array<{ type: string; span: AnyExportedSpan }>> {
    for (let waited = 0; waited < 10_000; waited += 100) {
      const lines = existsSync(eventsFile) ? readFileSync(eventsFile, "utf8").trim().split("\n") : [];
      const events = lines
        .filter(Boolean)
        .map((line) => JSON.parse(line) as { type: string; span: AnyExportedSpan })
        .filter((event) => event.span.traceId === traceId);
      const ended = (event: { type: string; span: AnyExportedSpan }) =>
        event.type === "span_ended" && event.span.type === "agent_run" && event.span.name.endsWith(nameEnd);
      if (events.some(ended)) {
        return events;
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    throw new Error("the worker never ended the agent_run span");
  }

  it("one trace: the caller's root spans, the worker's steps under them, each span ended once", async () => {
    const live = await caller.stream("Look up a, b and c", { maxSteps: 10 });
    for await (const _chunk of live.output.fullStream as unknown as AsyncIterable<unknown>) {
      // read to the end
    }
    const ended = await expectOneTree(live.runId);
    expect(ended.filter((span) => span.type === "generic")).toEqual([]);
    // The same tree as the plain agent's in one process (ids, times and chunk spans aside).
    const plainTracing = testObservability();
    const plainMastra = new Mastra({
      agents: { split: splitAgent() },
      observability: plainTracing.observability,
      logger: false,
    });
    await (await plainMastra.getAgent("split").stream("Look up a, b and c", { maxSteps: 10 })).consumeStream();
    await settled();
    const plainEnded = plainTracing.exporter.events
      .filter((event) => event.type === "span_ended")
      .map((event) => event.exportedSpan);
    expect(spanTrees(ended, "split")).toEqual(spanTrees(plainEnded, "split"));
  }, 60_000);

  it("a worker killed mid-run: the retried step's spans join the same trace, and no span is ended twice", async () => {
    const live = await caller.stream("Look up a, b and c", { maxSteps: 10 });
    const reader = (live.output.fullStream as ReadableStream<{ type: string }>).getReader();
    let killed = false;
    let toolResults = 0;
    for (;;) {
      const { done, value } = await reader.read();
      if (done) {
        break;
      }
      toolResults += value.type === "tool-result" ? 1 : 0;
      // Kill the worker while it streams the second LLM call, after the first tool ran.
      if (!killed && toolResults === 1 && value.type === "step-start") {
        killed = true;
        worker?.kill("SIGKILL");
        await new Promise((resolve) => setTimeout(resolve, 300));
        worker = await startFixtureProcess("traced-worker.ts", workerArguments());
      }
    }
    expect(killed).toBe(true);
    const ended = await expectOneTree(live.runId);
    // The attempts the kill failed are recorded once, as an error, by the attempt that ran the step again.
    const retries = ended.filter((span) => span.type === "generic" && span.name.startsWith("retry: "));
    expect(retries).toHaveLength(1);
    const [retry] = retries;
    expect(retry?.errorInfo?.message).toMatch(
      /^step '[^']+' did not complete in its (first attempt|\d+ earlier attempts) .* retried it as attempt \d+$/,
    );
    expect(ended.find((span) => span.id === retry?.parentSpanId)?.type).toBe("model_generation");
  }, 60_000);

  it("suspended in the worker, resumed from the caller: the resumed run goes on in the same trace, each span ended once", async () => {
    const started = await approvalCaller.stream("Send 5", { maxSteps: 5 });
    expect(await started.output.finishReason).toBe("suspended");
    const resumed = await approvalCaller.resume(started.runId, { approved: true });
    expect(await resumed.output.text).toBe("Transferred.");
    const [opened] = tracing.exporter.events
      .filter((event) => event.type === "span_started" && event.exportedSpan.type === "agent_run")
      .map((event) => event.exportedSpan)
      .filter((span) => (span.metadata as { runId?: string } | undefined)?.runId === started.runId);

    const ended = (await workerEvents(opened?.traceId, "(resumed)"))
      .filter((event) => event.type === "span_ended")
      .map((event) => event.span);
    expect(new Set(ended.map((span) => span.id)).size).toBe(ended.length);
    const byId = new Map(ended.map((span) => [span.id, span]));
    const agentRuns = ended.filter((span) => span.type === "agent_run");
    const first = agentRuns.find((span) => span.id === opened?.id);
    const again = agentRuns.find((span) => span.name.endsWith("(resumed)"));
    expect(agentRuns).toHaveLength(2);
    // The caller opened the run; the worker ended it at the suspension, and the resumed one at the end.
    expect((first?.output as { status?: string } | undefined)?.status).toBe("suspended");
    expect(byId.get(again?.parentSpanId ?? "")?.type).toBe("model_generation");
    expect(byId.get(again?.parentSpanId ?? "")?.parentSpanId).toBe(first?.id);
    expect(again?.output).toEqual({ text: "Transferred." });
    const resumedGeneration = ended.find((span) => span.parentSpanId === again?.id);
    expect(resumedGeneration?.type).toBe("model_generation");
    expect(ended.filter((span) => span.type === "tool_call").map((span) => span.name)).toContain("tool: 'transfer'");
    const detached = ended.filter((span) => span.id !== first?.id && !byId.has(span.parentSpanId ?? ""));
    expect(detached.map((span) => `${span.type} ${span.name}`)).toEqual([]);
    started.cleanup();
    resumed.cleanup();
  }, 60_000);

  /**
   * The run's spans: the caller's roots, and the worker's spans in their trace, ended once each, one
   * tree under the `agent_run`. Returns the ended spans.
   */
  async function expectOneTree(runId: string): Promise<AnyExportedSpan[]> {
    const callerRoots = tracing.exporter.events
      .filter((event) => event.type === "span_started")
      .map((event) => event.exportedSpan)
      .filter((span) => (span.metadata as { runId?: string } | undefined)?.runId === runId);
    expect(callerRoots.map((span) => span.type).sort()).toEqual(["agent_run", "model_generation"]);
    const [agentRun] = callerRoots.filter((span) => span.type === "agent_run");

    const ended = (await workerEvents(agentRun?.traceId))
      .filter((event) => event.type === "span_ended")
      .map((event) => event.span);
    const endedIds = ended.map((span) => span.id);
    expect(new Set(endedIds).size).toBe(endedIds.length);
    // The root spans the caller opened are ended by the worker, once.
    for (const root of callerRoots) {
      expect(ended.filter((span) => span.id === root.id)).toHaveLength(1);
    }
    const byId = new Map(ended.map((span) => [span.id, span]));
    const parentType = (span: AnyExportedSpan) => byId.get(span.parentSpanId ?? "")?.type;
    const steps = ended.filter((span) => span.type === "model_step");
    expect(steps.map((span) => span.name).sort()).toEqual(["step: 0", "step: 1", "step: 2", "step: 3"]);
    expect(steps.every((span) => parentType(span) === "model_generation")).toBe(true);
    const tools = ended.filter((span) => span.type === "tool_call");
    expect(tools).toHaveLength(3);
    expect(tools.every((span) => parentType(span) === "model_step")).toBe(true);
    expect(byId.get(agentRun?.id ?? "")?.output).toEqual({ text: expect.stringContaining("z39") });
    // One tree: every ended span but the root has its parent among them.
    const detached = ended.filter((span) => span.id !== agentRun?.id && !byId.has(span.parentSpanId ?? ""));
    expect(detached.map((span) => `${span.type} ${span.name}`)).toEqual([]);
    // Times are when the work ran, not when Inngest replayed the function: each span lies within its
    // parent, and the steps follow one another.
    const time = (value: Date | string | undefined) => new Date(value ?? 0).getTime();
    for (const span of ended) {
      const parent = byId.get(span.parentSpanId ?? "");
      expect(time(span.startTime)).toBeLessThanOrEqual(time(span.endTime));
      if (parent !== undefined) {
        expect(time(span.startTime), `${span.name} starts within ${parent.name}`).toBeGreaterThanOrEqual(
          time(parent.startTime),
        );
      }
    }
    const ordered = [...steps].sort((left, right) => left.name.localeCompare(right.name));
    for (let index = 1; index < ordered.length; index++) {
      expect(time(ordered[index]?.startTime)).toBeGreaterThanOrEqual(time(ordered[index - 1]?.endTime));
    }
    return ended;
  }
});
