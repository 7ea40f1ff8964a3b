import { RequestContext } from "@mastra/core/request-context";
import { ErrorCode, MastraInngestError } from "@mastra/inngest-core";
import { InMemoryStreamCache } from "@mastra/inngest-stream-cache";
import { describe, expect, it, vi } from "vitest";
import type { CreateInngestAgentOptions } from "../inngest-agent-options.ts";
import type { AgentRuntime } from "./agent-runtime.ts";
import {
  admitCall,
  type CallerRateLimit,
  durationMs,
  type RateLimitedDetails,
  rateLimitBucket,
  rateLimitKeyValue,
  rateLimitWindow,
} from "./caller-rate-limit.ts";
import { callerRateLimitOf, loopFunctionOptions, threadConcurrencyKey } from "./loop-flow-control.ts";

const base = { agent: {}, inngest: {} } as unknown as CreateInngestAgentOptions;
const thread = { limit: 1, key: threadConcurrencyKey, scope: "env" };

describe("functionOptions.rateLimit, validated at creation", () => {
  it("is applied by the caller and never given to the loop function", () => {
    const options = loopFunctionOptions({
      ...base,
      functionOptions: { retries: 1, rateLimit: { limit: 2, period: "1m30s", key: "event.data.state.resourceId" } },
    });
    expect(options).toEqual({ retries: 1, concurrency: [thread] });
    expect(callerRateLimitOf(options)).toEqual({
      limit: 2,
      period: "1m30s",
      periodMs: 90_000,
      key: "event.data.state.resourceId",
    });
  });

  it("is left out with serializeThreads: false too, and absent when not configured", () => {
    const options = loopFunctionOptions({
      ...base,
      serializeThreads: false,
      functionOptions: { concurrency: 3, rateLimit: { limit: 1, period: "1s" } },
    });
    expect(options).toEqual({ concurrency: 3 });
    expect(callerRateLimitOf(options)).toEqual({ limit: 1, period: "1s", periodMs: 1000 });
    expect(callerRateLimitOf(loopFunctionOptions(base))).toBeUndefined();
  });

  it.each([
    [{ limit: 0, period: "1m" }, "functionOptions.rateLimit.limit must be an integer from 1, got 0"],
    [{ limit: 1, period: "soon" }, 'functionOptions.rateLimit.period must be a time string such as "30s"'],
    [
      { limit: 1, period: "500ms" },
      'functionOptions.rateLimit.period must be a time string from "1s" to "24h", got "500ms"',
    ],
    [{ limit: 1, period: "2d" }, 'functionOptions.rateLimit.period must be a time string from "1s" to "24h", got "2d"'],
    [
      { limit: 1, period: "1m", key: "event.data.userId" },
      'functionOptions.rateLimit.key must be absent (one limit for the agent) or one of "event.data.state.resourceId", "event.data.state.threadId"',
    ],
    [{ limit: 1, period: "1m", key: 7 }, "functionOptions.rateLimit.key must be absent"],
  ])("refuses %j, naming the field and the allowed forms", (rateLimit, message) => {
    let caught: unknown;
    try {
      loopFunctionOptions({ ...base, functionOptions: { rateLimit } } as CreateInngestAgentOptions);
    } catch (error) {
      caught = error;
    }
    expect(MastraInngestError.isInstance(caught, ErrorCode.INVALID_OPTION)).toBe(true);
    expect((caught as Error).message).toContain(message);
  });
});

describe("the window and bucket of a call", () => {
  it("reads time strings as Inngest does", () => {
    expect(durationMs("3s")).toBe(3000);
    expect(durationMs("1h30m")).toBe(5_400_000);
    expect(durationMs("1w")).toBe(604_800_000);
    expect(durationMs("250ms")).toBe(250);
  });

  it("counts per hashed key value, never with the raw value in the key", () => {
    const key = "event.data.state.resourceId";
    const raw = "user }{ :1\n*";
    const bucket = rateLimitBucket(key, raw);
    expect(bucket).toMatch(/^resourceId:[0-9a-f]{32}$/);
    expect(rateLimitBucket(key, raw)).toBe(bucket);
    expect(rateLimitBucket(key, "user-2")).not.toBe(bucket);
    expect(rateLimitBucket("event.data.state.threadId", raw)).toBe(bucket.replace("resourceId", "threadId"));
  });

  it("puts calls without the key field in one shared bucket, and an unkeyed limit in the agent's", () => {
    expect(rateLimitBucket("event.data.state.resourceId", undefined)).toBe("resourceId:missing");
    expect(rateLimitBucket("event.data.state.resourceId", "")).toBe("resourceId:missing");
    expect(rateLimitBucket(undefined, "anything")).toBe("agent");
  });

  it("aligns windows on the period, so every process counts into the same one", () => {
    const first = rateLimitWindow("agent-1", { periodMs: 3000 }, "agent", 6000);
    expect(first).toEqual({ key: "mastra:inngest:{rate-limit:agent-1:agent}:3000:2", endsAt: 9000 });
    expect(rateLimitWindow("agent-1", { periodMs: 3000 }, "agent", 8999)).toEqual(first);
    expect(rateLimitWindow("agent-1", { periodMs: 3000 }, "agent", 9000).key).toMatch(/:3000:3$/);
  });

  it("takes the resource as core does (the request context's reserved key first) and the thread in either form", () => {
    const key = "event.data.state.resourceId";
    expect(rateLimitKeyValue(key, { memory: { thread: "t", resource: "r" } })).toBe("r");
    expect(rateLimitKeyValue(key, { memory: { threadId: "t", resourceId: "r2" } } as never)).toBe("r2");
    const requestContext = new RequestContext([["mastra__resourceId", "from-auth"]]);
    expect(rateLimitKeyValue(key, { memory: { thread: "t", resource: "r" }, requestContext })).toBe("from-auth");
    expect(rateLimitKeyValue(key, {})).toBeUndefined();
    expect(rateLimitKeyValue("event.data.state.threadId", { memory: { thread: { id: "t-9" }, resource: "r" } })).toBe(
      "t-9",
    );
    expect(rateLimitKeyValue(undefined, { memory: { thread: "t", resource: "r" } })).toBeUndefined();
  });
});

describe("admitCall", () => {
  const rateLimit: CallerRateLimit = { limit: 2, period: "3s", periodMs: 3000, key: "event.data.state.resourceId" };
  const runtimeWith = (cache: InMemoryStreamCache) =>
    ({ id: "agent-1", cache: () => cache }) as unknown as AgentRuntime;
  const ann = { memory: { thread: "t", resource: "ann" } };

  it("admits `limit` calls per window and bucket, refuses the next with RATE_LIMITED, and admits again in the next window", async () => {
    const cache = new InMemoryStreamCache();
    const runtime = runtimeWith(cache);
    let now = 30_500;
    const clock = () => now;
    await admitCall(runtime, rateLimit, ann, clock);
    await admitCall(runtime, rateLimit, ann, clock);
    const refused = await admitCall(runtime, rateLimit, ann, clock).catch((error: unknown) => error);
    expect(MastraInngestError.isInstance(refused, ErrorCode.RATE_LIMITED)).toBe(true);
    const error = refused as MastraInngestError;
    expect(error.status).toBe(429);
    expect(error.message).toBe(
      "[@mastra/inngest-agent] agent agent-1 is rate limited for this resourceId: 2 run(s) per 3s (functionOptions.rateLimit) already started; try again in 2500 ms",
    );
    expect(error.message).not.toContain("ann");
    expect(error.cause).toEqual({
      agentId: "agent-1",
      keyField: "resourceId",
      limit: 2,
      period: "3s",
      retryAfterMs: 2500,
    } satisfies RateLimitedDetails);
    await admitCall(runtime, rateLimit, { memory: { thread: "t", resource: "bob" } }, clock);
    now = 33_000;
    await admitCall(runtime, rateLimit, ann, clock);
  });

  it("counts calls without a resource in one shared bucket, and says so", async () => {
    const runtime = runtimeWith(new InMemoryStreamCache());
    const clock = () => 1000;
    await admitCall(runtime, rateLimit, {}, clock);
    await admitCall(runtime, rateLimit, { memory: { thread: "t" } } as never, clock);
    await expect(admitCall(runtime, rateLimit, {}, clock)).rejects.toThrow(
      "agent agent-1 is rate limited for calls without a resourceId",
    );
  });

  it("gives the window's counter a time to live of one period", async () => {
    const cache = new InMemoryStreamCache();
    const expire = vi.spyOn(cache, "expire");
    await admitCall(runtimeWith(cache), { limit: 1, period: "1m", periodMs: 60_000 }, {}, () => 0);
    expect(expire).toHaveBeenCalledWith(["mastra:inngest:{rate-limit:agent-1:agent}:60000:0"], 60_000);
  });
});
