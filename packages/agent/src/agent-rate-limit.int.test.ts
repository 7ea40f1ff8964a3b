import { Agent } from "@mastra/core/agent";
import { InMemoryStore } from "@mastra/core/storage";
import { ErrorCode, MastraInngestError, streamTopic } from "@mastra/inngest-core";
import type { RedisStreamCache } from "@mastra/inngest-stream-cache-redis";
import { scriptedModel, textTurn } from "@mastra/inngest-testing/model";
import { Memory } from "@mastra/memory";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { InngestAgent } from "./inngest-agent-types.ts";
import { loopFunctionId } from "./internal/agent-events.ts";
import { type RateLimitedDetails, rateLimitWindow } from "./internal/caller-rate-limit.ts";
import { threadLaneKey } from "./internal/thread-lane.ts";
import { type RedisCallers, startRedisCallers } from "./test/redis-callers.ts";
import { readRunRecord } from "./test/run-record-reads.ts";
import type { TestWorld } from "./test/test-world.ts";

const periodMs = 3000;

/** Waits until a fresh window of the limit starts, so the calls of one test fall in one window. */
async function atWindowStart(): Promise<void> {
  const { endsAt } = rateLimitWindow("any", { periodMs }, "any", Date.now());
  await new Promise((resolve) => setTimeout(resolve, endsAt - Date.now() + 20));
}

/**
 * `functionOptions.rateLimit` applied by the callers, counted in the Redis both share and nothing
 * else: two agent instances (as in two processes; their memory stands for the database they would
 * share) call for one user, and the call past the limit is refused at once with nothing of it
 * left, where Inngest would have accepted its event and silently never started the run.
 */
describe("an agent rate limited per user, across callers sharing Redis", () => {
  let setup: RedisCallers;
  let world: TestWorld;
  let callers: InngestAgent[];
  let caches: RedisStreamCache[];
  let memory: Memory;
  const registrations: unknown[] = [];

  beforeAll(async () => {
    memory = new Memory({ storage: new InMemoryStore() as never });
    setup = await startRedisCallers({
      appId: "rate-limit",
      agent: () =>
        new Agent({
          id: "limited",
          name: "Limited",
          instructions: "-",
          model: scriptedModel([textTurn("Done.")]) as never,
          memory,
        }),
      agentOptions: { functionOptions: { rateLimit: { limit: 2, period: "3s", key: "event.data.state.resourceId" } } },
      // What the app syncs: the loop function's configuration as the engine receives it.
      fetch: async (input: string | URL | Request, init?: RequestInit) => {
        if (String(input instanceof Request ? input.url : input).includes("/fn/register")) {
          registrations.push(JSON.parse(String(init?.body)));
        }
        return fetch(input, init);
      },
    });
    ({ world, callers, caches } = setup);
  });

  afterAll(async () => {
    await setup?.close();
  });

  it("syncs the loop function without rateLimit, so Inngest never skips a run", () => {
    const functions = registrations.flatMap((payload) => (payload as { functions: { id: string }[] }).functions);
    const loop = functions.find((each) => each.id.endsWith(loopFunctionId("limited")));
    expect(loop).toHaveProperty("concurrency");
    expect(loop).not.toHaveProperty("rateLimit");
    expect(JSON.stringify(functions)).not.toContain("rateLimit");
  });

  it("refuses the third call of one user in a window with RATE_LIMITED, admits another user, and admits again after the window", async () => {
    const [first, second] = callers as [InngestAgent, InngestAgent];
    const skippedBefore = world.engine.counters().runsSkipped;
    await atWindowStart();
    const admitted = await Promise.all([
      first.stream("One", { memory: { thread: "ann-1", resource: "ann" } }),
      second.stream("Two", { memory: { thread: "ann-2", resource: "ann" } }),
    ]);

    const refusedRunId = "refused-run";
    const refusedThread = "ann-refused";
    const startedAt = Date.now();
    const refusal = await first
      .stream("Three", { runId: refusedRunId, memory: { thread: refusedThread, resource: "ann" } })
      .then(
        () => undefined,
        (error: unknown) => error,
      );
    expect(Date.now() - startedAt).toBeLessThan(1000);
    expect(MastraInngestError.isInstance(refusal, ErrorCode.RATE_LIMITED)).toBe(true);
    const error = refusal as MastraInngestError;
    expect(error.status).toBe(429);
    expect(error.message).toMatch(
      /agent limited is rate limited for this resourceId: 2 run\(s\) per 3s \(functionOptions\.rateLimit\) already started; try again in \d+ ms/,
    );
    const details = error.cause as RateLimitedDetails;
    // Measured from now, after the error was made: at or past the window's end.
    const retryAt = Date.now() + details.retryAfterMs;
    expect(details).toMatchObject({ agentId: "limited", keyField: "resourceId", limit: 2, period: "3s" });
    expect(details.retryAfterMs).toBeGreaterThan(0);
    expect(details.retryAfterMs).toBeLessThanOrEqual(periodMs);

    // Nothing of the refused call is left: no message, record, claim, lane entry, subscription or event.
    const [cache] = caches as [RedisStreamCache];
    expect(await memory.getThreadById({ threadId: refusedThread })).toBeNull();
    expect(await readRunRecord(cache, refusedRunId)).toBeUndefined();
    expect(await cache.get(`mastra:inngest:{${refusedRunId}}:run:claim`)).toBeFalsy();
    expect(await cache.listLength(`mastra:inngest:{${refusedRunId}}:run:claimants`)).toBe(0);
    expect(await cache.listLength(threadLaneKey(refusedThread))).toBe(0);
    expect(first.pubsub.inspect(streamTopic(refusedRunId))).toEqual([]);
    expect(world.engine.events().some((event) => JSON.stringify(event).includes(refusedRunId))).toBe(false);

    // streamUntilIdle() starts its first run as stream() does: refused the same way.
    const idle = await first
      .streamUntilIdle("Three in a loop", { memory: { thread: refusedThread, resource: "ann" } })
      .then(
        () => undefined,
        (error: unknown) => error,
      );
    expect(MastraInngestError.isInstance(idle, ErrorCode.RATE_LIMITED)).toBe(true);

    // prepare() counts as stream() does: a prepared run is one to be sent.
    const preparing = await second.prepare("Three again", { memory: { thread: refusedThread, resource: "ann" } }).then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(MastraInngestError.isInstance(preparing, ErrorCode.RATE_LIMITED)).toBe(true);
    expect(await memory.getThreadById({ threadId: refusedThread })).toBeNull();

    const bob = await second.stream("Four", { memory: { thread: "bob-1", resource: "bob" } });
    expect(await Promise.all([...admitted, bob].map((result) => result.output.text))).toEqual([
      "Done.",
      "Done.",
      "Done.",
    ]);

    await new Promise((resolve) => setTimeout(resolve, Math.max(0, retryAt - Date.now())));
    const later = await second.stream("Five", { memory: { thread: refusedThread, resource: "ann" } });
    expect(await later.output.text).toBe("Done.");
    expect(world.engine.counters().runsSkipped - skippedBefore).toBe(0);
    // Up to a window to align on, the calls, then up to a window to wait out: more than vitest's 5 s.
  }, 20_000);
});
