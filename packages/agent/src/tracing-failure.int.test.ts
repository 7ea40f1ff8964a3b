import { Mastra } from "@mastra/core/mastra";
import type { AnyExportedSpan } from "@mastra/core/observability";
import { InMemoryStore } from "@mastra/core/storage";
import { InMemoryStreamCache } from "@mastra/inngest-stream-cache";
import { silentLogger, until } from "@mastra/inngest-testing/helpers";
import { Inngest } from "inngest";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createInngestAgent } from "./create-inngest-agent.ts";
import type { InngestAgent } from "./inngest-agent-types.ts";
import { ABORT_SPANS_GRACE_MS } from "./internal/run-spans-end.ts";
import { parityAgent } from "./test/parity/parity-agents.ts";
import { startTestWorld, type TestWorld } from "./test/test-world.ts";
import { agentRunEnded, settled, spansExportedTwice, testObservability } from "./test/tracing/span-tree.ts";

/**
 * An in-memory cache that fails to write a run record as `finished` while `failing` is set: the
 * finish step fails for good (no retries), and the failure handler, which writes `failed`, runs.
 */
class FailingFinishCache extends InMemoryStreamCache {
  failing = false;
  refused = 0;
  override async set(key: string, value: unknown, ttlMs?: number): Promise<void> {
    if (this.failing && (value as { status?: string } | undefined)?.status === "finished") {
      this.refused++;
      throw new Error("the store refused the run record");
    }
    await super.set(key, value, ttlMs);
  }
}

/**
 * A run that fails for good (`onFailure`) ends its open root spans with the error, once: after a
 * resume, the resumed ones; while it waits for a decision (its wait expired), none, since its
 * suspension ended them. A run aborted before a step could see it has its root spans ended by
 * `abort()`'s process.
 * @see issue 20
 */
describe("tracing a run that fails, or is aborted as it starts", () => {
  let world: TestWorld;
  let expiring: InngestAgent;
  let failing: InngestAgent;
  const cache = new FailingFinishCache();
  const tracing = testObservability();

  beforeAll(async () => {
    world = await startTestWorld("checkpoint");
    const inngest = new Inngest({
      id: "tracing-failure",
      isDev: true,
      baseUrl: world.engine.url,
      logger: silentLogger,
    });
    const approval = parityAgent("expiring", {
      script: [{ toolCalls: [{ toolName: "transfer", args: { amount: 9 } }] }, { text: "-" }],
      tools: ["transfer"],
    });
    expiring = createInngestAgent({ agent: approval, inngest, waitTimeoutMs: 5_000 });
    const asking = parityAgent("failing-after-resume", {
      script: [{ toolCalls: [{ toolName: "ask", args: { question: "Color?" } }] }, { text: "Blue it is." }],
      tools: ["ask"],
    });
    failing = createInngestAgent({ agent: asking, inngest, cache, functionOptions: { retries: 0 } });
    new Mastra({
      agents: { expiring, failing },
      storage: new InMemoryStore(),
      observability: tracing.observability,
      logger: false,
    });
    await world.serve(inngest, [...expiring.getInngestFunctions(), ...failing.getInngestFunctions()]);
  }, 60_000);

  afterAll(async () => {
    await expiring?.pubsub.close();
    await failing?.pubsub.close();
    await world?.close();
  });

  /** Waits until the run's failure handler completed. */
  async function failureHandled(runId: string): Promise<void> {
    const handler = await until(
      () =>
        world.engine
          .runs()
          .find(
            (candidate) =>
              candidate.functionId.endsWith("-failure") &&
              (candidate.event.data as { event?: { data?: { runId?: string } } }).event?.data?.runId === runId,
          ),
      { timeoutMs: 20_000 },
    );
    expect((await world.engine.waitForRun(handler.id, { timeoutMs: 20_000 })).status).toBe("Completed");
    await settled();
  }

  /** The `agent_run` spans the exporter received as ended for `runId`. */
  function endedAgentRuns(runId: string): AnyExportedSpan[] {
    return tracing.exporter.events
      .filter((event) => event.type === "span_ended" && event.exportedSpan.type === "agent_run")
      .map((event) => event.exportedSpan)
      .filter((span) => (span.metadata as { runId?: string } | undefined)?.runId === runId);
  }

  function spanIds(): Set<string> {
    return new Set(tracing.exporter.events.map((event) => event.exportedSpan.id));
  }

  it("an abort as the run starts ends its root spans once (a step that saw it, or abort() after its grace)", async () => {
    tracing.exporter.clearEvents();
    const controller = new AbortController();
    controller.abort();
    const started = await failing.stream("Pick a color", { maxSteps: 5, abortSignal: controller.signal });
    await started.output.consumeStream().catch(() => {});
    await agentRunEnded(tracing.exporter, started.runId, ABORT_SPANS_GRACE_MS + 8_000);

    const agentRuns = endedAgentRuns(started.runId);
    expect(agentRuns.map((span) => (span.output as { status?: string } | undefined)?.status)).toEqual(["aborted"]);
    const generation = tracing.exporter.events.find(
      (event) => event.type === "span_ended" && event.exportedSpan.parentSpanId === agentRuns[0]?.id,
    )?.exportedSpan;
    expect(generation?.type).toBe("model_generation");
    expect(generation?.attributes).toMatchObject({ finishReason: "aborted" });
    expect(spansExportedTwice(tracing.exporter.events, spanIds())).toEqual([]);
  }, 60_000);

  it("a wait that expires: the suspension ended the root spans, the failure ends nothing again", async () => {
    tracing.exporter.clearEvents();
    const started = await expiring.stream("Send 9");
    expect(await started.output.finishReason).toBe("suspended");
    await failureHandled(started.runId);

    const agentRuns = endedAgentRuns(started.runId);
    expect(agentRuns.map((span) => (span.output as { status?: string } | undefined)?.status)).toEqual(["suspended"]);
    expect(agentRuns[0]?.errorInfo).toBeUndefined();
    expect(spansExportedTwice(tracing.exporter.events, spanIds())).toEqual([]);
  }, 60_000);

  it("a failure after a resume ends the resumed root spans with its error, once", async () => {
    tracing.exporter.clearEvents();
    const started = await failing.stream("Pick a color", { maxSteps: 5 });
    expect(await started.output.finishReason).toBe("suspended");
    cache.failing = true;
    try {
      const resumed = await failing.resume(started.runId, { color: "blue" });
      await resumed.output.consumeStream().catch(() => {});
      await failureHandled(started.runId);
    } finally {
      cache.failing = false;
    }
    // The fault happened: the finish step's record write was refused, and the run failed.
    expect(cache.refused).toBeGreaterThan(0);

    const agentRuns = endedAgentRuns(started.runId);
    const resumedRun = agentRuns.find((span) => span.name.endsWith("(resumed)"));
    const firstRun = agentRuns.find((span) => !span.name.endsWith("(resumed)"));
    expect((firstRun?.output as { status?: string } | undefined)?.status).toBe("suspended");
    expect(resumedRun?.errorInfo?.message).toContain("the store refused the run record");
    const resumedGeneration = tracing.exporter.events.find(
      (event) => event.type === "span_ended" && event.exportedSpan.parentSpanId === resumedRun?.id,
    )?.exportedSpan;
    expect(resumedGeneration?.type).toBe("model_generation");
    expect(resumedGeneration?.errorInfo?.message).toContain("the store refused the run record");
    expect(spansExportedTwice(tracing.exporter.events, spanIds())).toEqual([]);
  }, 60_000);
});
