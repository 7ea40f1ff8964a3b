import type { Event } from "@mastra/core/events";
import type { DevServer, RunView } from "@mastra/inngest-dev-server";
import type { CachingPubSub } from "@mastra/inngest-stream-cache";
import { describe, expect, it } from "vitest";
import type { ChaosCaller } from "./chaos-topology.ts";
import { driveRun, type RunContext, type RunResult } from "./drive-run.ts";
import { FaultLog } from "./fault-log.ts";
import { createRandom } from "./random.ts";
import { planRun } from "./workload.ts";

/** A call that never answers, as a Redis command without a timeout or a stream nobody ends. */
const never = <Value>(): Promise<Value> => new Promise<Value>(() => {});

/** The first seed whose run plans an approval in its first turn, so the caller must call resume(). */
function seedWithApproval(): number {
  for (let seed = 1; ; seed++) {
    const plan = planRun(createRandom(seed).fork("plan"), "r", { crashProbability: 0 });
    if (plan.iterations[0]?.calls[0]?.tool === "transfer") {
      return seed;
    }
  }
}

/** A stream of chunks that ends after `chunks` when `ends`, and otherwise stays open forever. */
function chunkStream(chunks: Array<{ type: string; payload?: { toolCallId?: string } }>, ends: boolean) {
  return new ReadableStream({
    start(controller) {
      for (const chunk of chunks) {
        controller.enqueue(chunk);
      }
      if (ends) {
        controller.close();
      }
    },
  });
}

/** The engine as far as the driver uses it, with one run that completed. */
function engineWith(runId: string): DevServer {
  const run = { id: "engine-run", status: "Completed", event: { data: { runId } } } as unknown as RunView;
  return {
    runs: () => [run],
    run: () => run,
    waitForRun: async () => run,
    faults: { crashAfterStep: () => ({ remove() {}, triggered: 0 }) },
  } as unknown as DevServer;
}

/** Observers whose transport answers at once with an empty history. */
const quietObservers = {
  getHistory: async (): Promise<Event[]> => [],
  subscribeFromOffset: async () => {},
  unsubscribe: async () => {},
} as unknown as CachingPubSub;

function contextWith(agent: Partial<ChaosCaller["agent"]>, runId: string, runBoundMs: number): RunContext {
  return {
    // The caller's transport, read for the report of a stream still open at the deadline.
    caller: { agent: { pubsub: { inspect: () => [] }, ...agent } } as unknown as ChaosCaller,
    observers: quietObservers,
    engine: engineWith(runId),
    faults: new FaultLog(),
    limits: { crashProbability: 0 },
    runBoundMs,
    inFlight: new Set<RunResult>(),
  };
}

describe("driveRun", () => {
  it("gives up on a stream() that never answers at the run's bound, and says so", async () => {
    const context = contextWith({ stream: never }, "r", 300);
    const startedAt = Date.now();
    const result = await driveRun(context, "r", createRandom(1));
    expect(Date.now() - startedAt).toBeLessThan(2_000);
    expect(result.startFailures[0]).toMatch(/stream\(\) did not settle within \d+ ms/);
    expect(result.problems).toEqual([expect.stringContaining("stream() kept failing")]);
    expect(result.endedAt).toBeUndefined();
    expect(context.inFlight.size).toBe(0);
  });

  it("names what it waits for while in flight: a resume() and a stream that never answer", async () => {
    const seed = seedWithApproval();
    const approval = { type: "tool-call-approval", payload: { toolCallId: "call_0_0" } };
    const started = { fullStream: chunkStream([{ type: "start" }, approval], false), cleanup() {} };
    const context = contextWith({ stream: async () => started as never, resume: never }, "r", 1_000);
    const driving = driveRun(context, "r", createRandom(seed));
    // After the planned decision delay (at most 400 ms), the caller waits on both.
    await new Promise((resolve) => setTimeout(resolve, 700));
    const [inFlight] = [...context.inFlight];
    expect(inFlight?.waits).toEqual(["the caller's stream", "resume(call_0_0)"]);
    const result = await driving;
    expect(result.callerTypes).toEqual(["start", "tool-call-approval"]);
    expect(result.callerEnded).toBe(false);
    // Its subscriptions as they were when the stream was cut at the deadline.
    expect(result.callerSubscriptions).toBe("[]");
    expect(result.endedAt).toBeUndefined();
    expect(result.resumes[0]).toContain("resume(call_0_0) did not settle");
    expect(result.waits).toEqual([]);
    expect(context.inFlight.size).toBe(0);
  });

  it("ends a run whose replay never answers with no replay, instead of waiting for it", async () => {
    const finished = { fullStream: chunkStream([{ type: "start" }, { type: "finish" }], true), cleanup() {} };
    const context = contextWith({ stream: async () => finished as never, observe: never }, "r", 300);
    const startedAt = Date.now();
    const result = await driveRun(context, "r", createRandom(1));
    // The replay may be read up to five seconds after the end, as the history is kept ten.
    expect(Date.now() - startedAt).toBeLessThan(7_000);
    expect(result.callerEnded).toBe(true);
    expect(result.endedAt).toBeDefined();
    expect(result.log).toEqual([]);
    expect(result.replay).toBeUndefined();
  }, 10_000);
});
