import { Agent } from "@mastra/core/agent";
import { EventEmitterPubSub } from "@mastra/core/events";
import { Mastra } from "@mastra/core/mastra";
import { ErrorCode, MastraInngestError, streamTopic } from "@mastra/inngest-core";
import { CachingPubSub } from "@mastra/inngest-stream-cache";
import { RedisStreamCache } from "@mastra/inngest-stream-cache-redis";
import { type RedisServer, startRedis } from "@mastra/inngest-testing";
import { silentLogger, until } from "@mastra/inngest-testing/helpers";
import { scriptedModel } from "@mastra/inngest-testing/model";
import { Inngest } from "inngest";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createInngestAgent } from "./create-inngest-agent.ts";
import type { InngestAgent, InngestAgentStreamResult } from "./inngest-agent-types.ts";
import { bank } from "./test/bank-agent.ts";
import { readRunRecord, untilRunStatus } from "./test/run-record-reads.ts";
import { startTestWorld, type TestWorld } from "./test/test-world.ts";

// Inngest cancels a run past `timeouts.start` or `timeouts.finish`, or from its dashboard or REST
// API, and calls no handler of the cancelled function: without the agent's handler of
// `inngest/function.cancelled`, such a run's stream got no end event and its caller waited forever.

let world: TestWorld;
let redis: RedisServer;
let cache: RedisStreamCache;
/** Reads histories as an operator would, past the agent's owner checks. */
let histories: CachingPubSub;
const agents: InngestAgent[] = [];

/** A durable agent of this test's app, served by the engine (real time: timeouts are seconds). */
async function serveAgent(agent: Agent, functionOptions: Record<string, unknown>): Promise<InngestAgent> {
  const inngest = new Inngest({ id: "cancelled-runs", isDev: true, baseUrl: world.engine.url, logger: silentLogger });
  const durable = createInngestAgent({ agent, inngest, cache, functionOptions: functionOptions as never });
  new Mastra({ agents: { [agent.id]: durable }, logger: false });
  await world.serve(inngest, durable.getInngestFunctions());
  agents.push(durable);
  return durable;
}

/** An agent whose model writes six words slowly: it is mid-answer for about three seconds. */
const slow = (id: string): Agent =>
  new Agent({
    id,
    name: id,
    instructions: "-",
    model: scriptedModel([{ text: "one two three four five six" }], { delayMs: 300 }),
  });

/** The chunk types of a stream, read to its end. */
async function chunkTypes(result: InngestAgentStreamResult<unknown>): Promise<string[]> {
  const types: string[] = [];
  for await (const chunk of result.fullStream as AsyncIterable<{ type: string }>) {
    types.push(chunk.type);
  }
  return types;
}

/** A slow agent's run that its caller aborted once the engine ran it, and its stream's chunk types. */
async function abortedSlowRun(id: string) {
  const agent = await serveAgent(slow(id), {});
  const result = await agent.stream("Count", { memory: { thread: `${id}-1`, resource: "ada" } });
  const reading = chunkTypes(result);
  await until(() => world.engine.runs().some((run) => run.functionId === `cancelled-runs-agent-${id}`));
  await result.abort();
  return { agent, result, types: await reading };
}

/** How many runs of the agent's cancellation handler completed. */
function handledCancellations(id: string): number {
  return world.engine
    .runs()
    .filter((run) => run.functionId === `cancelled-runs-agent-${id}-cancelled` && run.status === "Completed").length;
}

beforeAll(async () => {
  redis = await startRedis();
  world = await startTestWorld("checkpoint", 1);
  cache = new RedisStreamCache({ url: redis.url });
  histories = new CachingPubSub(new EventEmitterPubSub(), cache, { logger: silentLogger });
});

afterAll(async () => {
  await histories?.close();
  for (const agent of agents) {
    await agent.pubsub.close();
  }
  await cache?.close();
  await world?.close();
  await redis?.stop();
});

describe("a run Inngest cancels ends as aborted", () => {
  it("cancelled from the REST API or dashboard while the model writes: the stream ends with abort at once", async () => {
    const agent = await serveAgent(slow("slow-cancel"), {});
    const result = await agent.stream("Count", { memory: { thread: "cancel-1", resource: "ada" } });
    const types: string[] = [];
    const reading = (async () => {
      for await (const chunk of result.fullStream as AsyncIterable<{ type: string }>) {
        types.push(chunk.type);
      }
    })();
    await until(() => types.includes("text-delta"));
    const run = world.engine.runs().find((candidate) => candidate.functionId === "cancelled-runs-agent-slow-cancel");
    const cancelledAt = Date.now();
    expect(world.engine.cancelRun(run?.id ?? "")).toBe(true);
    await reading;
    expect(types.slice(-2)).toEqual(["abort", "finish"]);
    // The step in progress was asked to stop: the model did not write its six words first.
    expect(Date.now() - cancelledAt).toBeLessThan(2_000);
    expect(types.filter((type) => type === "text-delta").length).toBeLessThan(6);
    await untilRunStatus(cache, result.runId, "aborted", 10_000);
    const history = await histories.getHistory(streamTopic(result.runId));
    expect(history.filter((event) => event.type === "abort")).toHaveLength(1);
  }, 20_000);

  it("past timeouts.finish while it waits for a decision: the record says aborted and resume() is refused", async () => {
    const agent = await serveAgent(bank(), { timeouts: { finish: "1s" } });
    const started = await agent.stream("Send 5", { memory: { thread: "finish-2", resource: "ada" } });
    expect(await started.output.finishReason).toBe("suspended");
    await untilRunStatus(cache, started.runId, "aborted", 10_000);
    const history = await histories.getHistory(streamTopic(started.runId));
    expect(history.at(-1)?.type).toBe("abort");
    // observe() of the run ends at once with the abort.
    const observed = await chunkTypes(
      await agent.observe(started.runId, { offset: (history.at(-2)?.index ?? 0) + 1, resourceId: "ada" }),
    );
    expect(observed).toEqual(["abort", "finish"]);
    const refused = await agent
      .resume(started.runId, { approved: true }, { resourceId: "ada" })
      .catch((error: unknown) => error);
    expect(MastraInngestError.isInstance(refused, ErrorCode.RUN_NOT_SUSPENDED)).toBe(true);
  }, 20_000);

  it("past timeouts.start in the queue: the waiting caller's stream ends with abort, the run ahead completes", async () => {
    const agent = await serveAgent(slow("slow-start"), { concurrency: 1, timeouts: { start: "1s" } });
    const first = await agent.stream("Count", { memory: { thread: "start-1", resource: "ada" } });
    const firstTypes = chunkTypes(first);
    await until(() => world.engine.runs().some((run) => run.functionId === "cancelled-runs-agent-slow-start"));
    const second = await agent.stream("Count", { memory: { thread: "start-2", resource: "ada" } });
    expect(await chunkTypes(second)).toEqual(["abort", "finish"]);
    expect((await untilRunStatus(cache, second.runId, "aborted", 10_000)).status).toBe("aborted");
    expect((await firstTypes).at(-1)).toBe("finish");
    await untilRunStatus(cache, first.runId, "finished", 15_000);
  }, 30_000);

  it("abort() and the cancellation handler end a run once: one abort event in its history", async () => {
    const { result, types } = await abortedSlowRun("slow-abort");
    expect(types.slice(-2)).toEqual(["abort", "finish"]);
    await until(() => handledCancellations("slow-abort") === 1);
    const history = await histories.getHistory(streamTopic(result.runId));
    expect(history.filter((event) => event.type === "abort")).toHaveLength(1);
    expect((await untilRunStatus(cache, result.runId, "aborted")).status).toBe("aborted");
  }, 20_000);

  it("a run deleted after its abort stays deleted when its cancellation is handled again", async () => {
    const { agent, result } = await abortedSlowRun("slow-delete");
    await until(() => handledCancellations("slow-delete") === 1);
    await agent.deleteRun(result.runId, { resourceId: "ada" });
    // Inngest's event again, as a late or repeated delivery would bring it.
    const cancelled = world.engine
      .events()
      .find(
        (event) =>
          event.name === "inngest/function.cancelled" &&
          (event.data as { event?: { data?: { runId?: string } } }).event?.data?.runId === result.runId,
      );
    expect(cancelled).toBeDefined();
    await fetch(`${world.engine.url}/e/test`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ name: cancelled?.name, data: cancelled?.data }),
    });
    await until(() => handledCancellations("slow-delete") === 2);
    expect(await readRunRecord(cache, result.runId)).toBeUndefined();
    const observed = await agent.observe(result.runId, { resourceId: "ada" }).catch((error: unknown) => error);
    expect(MastraInngestError.isInstance(observed, ErrorCode.RUN_NOT_FOUND)).toBe(true);
  }, 20_000);
});
