import { Mastra } from "@mastra/core/mastra";
import type { RunRecord } from "@mastra/inngest-core";
import { RedisStreamCache } from "@mastra/inngest-stream-cache-redis";
import type { RedisServer } from "@mastra/inngest-testing";
import { silentLogger } from "@mastra/inngest-testing/helpers";
import { Inngest } from "inngest";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createInngestAgent } from "./create-inngest-agent.ts";
import type { InngestAgent, InngestAgentStreamResult } from "./inngest-agent-types.ts";
import { bank } from "./test/bank-agent.ts";
import { type BankOnRedis, startBankOnRedis } from "./test/bank-on-redis.ts";
import { readRunRecord, untilRunStatus } from "./test/run-record-reads.ts";
import type { TestWorld } from "./test/test-world.ts";

// The resume event that arrives after the run's check for decisions and before its wait began:
// Inngest matches only events that arrive once a wait is registered, so the wait misses it. The
// test makes that happen every time: the worker's read of the decision runs the whole `resume()`
// (decision recorded, event sent) before it answers "no decision". The run still goes on, by the
// resuming process's resend of the event or, when that process cannot send again, by the run's
// own check at the end of its first wait slice (2 s; the engine runs on real time here).

/** A cache whose first read of a run's decision list answers what it read before `onDecisionRead` ran. */
class RacingCache extends RedisStreamCache {
  onDecisionRead: (() => Promise<void>) | undefined;
  raced = 0;

  override async listFromTo(key: string, from: number, to?: number): Promise<unknown[]> {
    const hook = key.includes(":decision") ? this.onDecisionRead : undefined;
    if (hook === undefined) {
      return super.listFromTo(key, from, to);
    }
    this.onDecisionRead = undefined;
    const before = await super.listFromTo(key, from, to);
    await hook();
    this.raced++;
    return before;
  }
}

let setup: BankOnRedis<RacingCache>;
let world: TestWorld;
let redis: RedisServer;
let worker: InngestAgent;
let workerCache: RacingCache;

beforeAll(async () => {
  setup = await startBankOnRedis({ appId: "resume-race", timeScale: 1, cache: (url) => new RacingCache({ url }) });
  ({ world, redis, agent: worker, cache: workerCache } = setup);
});

afterAll(async () => {
  await setup?.close();
});

/** A second process's agent that resumes; `sends` says how many of its event sends go through. */
function resumingAgent(sends: number): { agent: InngestAgent; attempts: () => number } {
  let attempts = 0;
  const limitedFetch: typeof fetch = async (input, init) => {
    const url = typeof input === "string" ? input : input instanceof URL ? input.href : input.url;
    if (url.includes("/e/")) {
      attempts++;
      if (attempts > sends) {
        throw new TypeError("fetch failed: the process that resumed is gone");
      }
    }
    return fetch(input, init);
  };
  const inngest = new Inngest({
    id: "resume-race",
    isDev: true,
    baseUrl: world.engine.url,
    logger: silentLogger,
    fetch: limitedFetch,
  });
  const agent = createInngestAgent({ agent: bank(), inngest, cache: new RedisStreamCache({ url: redis.url }) });
  new Mastra({ agents: { bank: agent }, logger: false });
  return { agent, attempts: () => attempts };
}

function resumeEventsOf(runId: string): number {
  return world.engine
    .events()
    .filter((event) => event.name.endsWith(".resume") && (event.data as { runId?: string }).runId === runId).length;
}

async function raceOneRun(resumer: InngestAgent, thread: string) {
  let resumed: InngestAgentStreamResult<unknown> | undefined;
  let recordAtRace: RunRecord | undefined;
  let knowRunId: (runId: string) => void = () => {};
  const runIdKnown = new Promise<string>((resolve) => {
    knowRunId = resolve;
  });
  workerCache.onDecisionRead = async () => {
    const runId = await runIdKnown;
    resumed = await resumer.resume(runId, { approved: true }, { resourceId: "ada" });
    recordAtRace = await readRunRecord(workerCache, runId);
  };
  const started = await worker.stream("Send 5", { memory: { thread, resource: "ada" } });
  const runId = started.runId;
  knowRunId(runId);
  expect(await started.output.finishReason).toBe("suspended");
  // The run's check read no decision although resume() had recorded it and sent its event.
  expect(workerCache.raced).toBeGreaterThan(0);
  expect(resumed).toBeDefined();
  expect(recordAtRace?.status).toBe("suspended");
  const finished = await untilRunStatus(worker.cache, runId, "finished");
  expect(finished.status).toBe("finished");
  expect(await resumed?.output.text).toBe("Done.");
  expect(await resumed?.output.finishReason).toBe("stop");
  return started.runId;
}

describe("a resume event that arrives between the run's check and its wait", () => {
  it("is sent again by the resuming process, and the run applies the decision once", async () => {
    workerCache.raced = 0;
    const { agent } = resumingAgent(Number.POSITIVE_INFINITY);
    const runId = await raceOneRun(agent, "race-resend");
    // The first event went before the wait; the resend 1 s later, while the call still waited,
    // carried the run on.
    expect(resumeEventsOf(runId)).toBeGreaterThanOrEqual(2);
    expect((await readRunRecord(worker.cache, runId))?.pendingResumes).toEqual([]);
    await agent.pubsub.close();
  }, 40_000);

  it("without any resend, is found by the run's next check for decisions", async () => {
    workerCache.raced = 0;
    const { agent, attempts } = resumingAgent(1);
    const runId = await raceOneRun(agent, "race-no-resend");
    // Only the one event that the wait missed reached the engine: the run found the decision itself.
    expect(resumeEventsOf(runId)).toBe(1);
    expect(attempts()).toBeGreaterThanOrEqual(1);
    await agent.pubsub.close();
  }, 40_000);
});
