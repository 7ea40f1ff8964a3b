import { Agent } from "@mastra/core/agent";
import { globalRunRegistry } from "@mastra/core/agent/durable";
import { type Event, EventEmitterPubSub } from "@mastra/core/events";
import { Mastra } from "@mastra/core/mastra";
import {
  ATTEMPT_SUPERSEDED_EVENT_TYPE,
  createKeyLayout,
  ErrorCode,
  MastraInngestError,
  type RunRecord,
  streamTopic,
  unpackEvents,
} from "@mastra/inngest-core";
import { InMemoryStreamCache } from "@mastra/inngest-stream-cache";
import { RedisStreamCache } from "@mastra/inngest-stream-cache-redis";
import { startRedis } from "@mastra/inngest-testing";
import { findFreePort, silentLogger, until } from "@mastra/inngest-testing/helpers";
import { scriptedModel, textTurn } from "@mastra/inngest-testing/model";
import { Inngest } from "inngest";
import { afterAll, beforeAll, expect, it } from "vitest";
import { createInngestAgent } from "./create-inngest-agent.ts";
import type { InngestAgent } from "./inngest-agent-types.ts";
import { startTestWorld, type TestWorld } from "./test/test-world.ts";

let world: TestWorld;
let durable: InngestAgent;
const brief = () =>
  new Agent({ id: "brief", name: "Brief", instructions: "-", model: scriptedModel([textTurn("Short.")]) });

beforeAll(async () => {
  world = await startTestWorld();
  const inngest = new Inngest({ id: "lifecycle", isDev: true, baseUrl: world.engine.url, logger: silentLogger });
  durable = createInngestAgent({ agent: brief(), inngest });
  new Mastra({ agents: { brief: durable }, logger: false });
  await world.serve(inngest, durable.getInngestFunctions());
});

afterAll(async () => {
  await durable?.pubsub.close();
  await world?.close();
});

it("a stream() whose event cannot be sent leaves nothing behind: no claim, no registry entry", async () => {
  // An engine address where nothing listens: every send fails on the network.
  const nowhere = `http://127.0.0.1:${await findFreePort()}`;
  const unreachable = new Inngest({ id: "lifecycle", isDev: true, baseUrl: nowhere, logger: silentLogger });
  const stranded = createInngestAgent({ agent: brief(), inngest: unreachable, cache: durable.cache });
  new Mastra({ agents: { brief: stranded }, logger: false });
  const registered = globalRunRegistry.size;
  for (let attempt = 0; attempt < 3; attempt++) {
    const failed = await stranded.stream("Hi", { runId: "send-fails" }).catch((error: unknown) => error);
    // The send really failed (and not a claim: the same run id is accepted every time).
    expect(MastraInngestError.isInstance(failed, ErrorCode.RUN_IN_USE)).toBe(false);
    expect(failed).toBeInstanceOf(Error);
  }
  expect(globalRunRegistry.size).toBe(registered);
  // The run id is free: the reachable agent starts a run with it.
  const { output } = await durable.stream("Hi", { runId: "send-fails" });
  expect(await output.text).toBe("Short.");
  await stranded.pubsub.close();
}, 60_000);

it("a late abort() of a finished run appends nothing, and the run replays as it finished", async () => {
  const { output, runId } = await durable.stream("Hi");
  expect(await output.text).toBe("Short.");
  const found = world.engine.runs().find((candidate) => (candidate.event.data as { runId?: string }).runId === runId);
  expect((await world.engine.waitForRun(found?.id ?? "")).status).toBe("Completed");
  const history = await durable.pubsub.getHistory(streamTopic(runId));
  const observed = await durable.observe(runId, { offset: 0 });
  await observed.output.text;
  await observed.abort();
  await durable.abort(runId);
  expect((await durable.pubsub.getHistory(streamTopic(runId))).length).toBe(history.length);
  const replay = await durable.observe(runId, { offset: 0 });
  expect(await replay.output.finishReason).toBe("stop");
  expect(await replay.output.text).toBe("Short.");
});

it("observe() of a run whose history is gone ends at once with OFFSET_EXPIRED, on a shared cache too", async () => {
  const redis = await startRedis();
  const cache = new RedisStreamCache({ url: redis.url });
  const inngest = new Inngest({ id: "lifecycle-shared", isDev: true, baseUrl: world.engine.url, logger: silentLogger });
  // An agent id of its own: one event name per agent, and every served app with it would run the run.
  const shared = createInngestAgent({ agent: brief(), inngest, cache, id: "brief-shared" });
  new Mastra({ agents: { brief: shared }, logger: false });
  try {
    await world.serve(inngest, shared.getInngestFunctions());
    const { output, runId } = await shared.stream("Hi");
    expect(await output.text).toBe("Short.");
    const found = world.engine.runs().find((candidate) => (candidate.event.data as { runId?: string }).runId === runId);
    expect((await world.engine.waitForRun(found?.id ?? "")).status).toBe("Completed");
    // As when the history's TTL ran out before the record's.
    await shared.pubsub.clearTopic(streamTopic(runId));
    const started = Date.now();
    const error = await shared.observe(runId).catch((caught: unknown) => caught);
    expect(MastraInngestError.isInstance(error, ErrorCode.OFFSET_EXPIRED), String(error)).toBe(true);
    expect((error as Error).message).toContain("no longer kept");
    expect(Date.now() - started).toBeLessThan(2_000);
  } finally {
    await shared.pubsub.close();
    await cache.close();
    await redis.kill();
  }
}, 30_000);

/** A transport that is down for the error events of runs (every other event goes through). */
class ErrorsLostPubSub extends EventEmitterPubSub {
  lost = 0;

  override async publish(topic: string, event: Omit<Event, "id" | "createdAt">): Promise<void> {
    const events = topic.startsWith("agent.stream.") ? unpackEvents(event.data ?? event) : [];
    if (events.some((inner) => inner.type === "error")) {
      this.lost++;
      throw new Error("the transport is down");
    }
    await super.publish(topic, event);
  }
}

it("a run that fails reaches its failed record while its error event cannot be published", async () => {
  // One process, two instances: the caller streams with a per-call closure, the worker (another
  // instance, serving the loop) cannot use it and fails the run, while the transport loses errors.
  const transport = new ErrorsLostPubSub();
  const cache = new InMemoryStreamCache();
  const inngest = new Inngest({ id: "lifecycle-outage", isDev: true, baseUrl: world.engine.url, logger: silentLogger });
  const caller = createInngestAgent({ agent: brief(), inngest, pubsub: transport, cache, id: "brief-outage" });
  const worker = createInngestAgent({ agent: brief(), inngest, pubsub: transport, cache, id: "brief-outage" });
  new Mastra({ agents: { brief: caller }, logger: false });
  new Mastra({ agents: { brief: worker }, logger: false });
  await world.serve(inngest, worker.getInngestFunctions());
  const { runId } = await caller.stream("Hi", { stopWhen: () => true });
  const record = await until(async () => {
    const stored = (await cache.get(createKeyLayout().run(runId).record)) as RunRecord | undefined;
    return stored?.status === "failed" ? stored : undefined;
  });
  expect(record.error?.message).toContain("stopWhen");
  // The outage really struck the failure report.
  expect(transport.lost).toBeGreaterThan(0);
  await caller.pubsub.close();
  await worker.pubsub.close();
}, 30_000);

it("a run id given back by deleteRun() starts a new run", async () => {
  const first = await durable.stream("Hi", { runId: "reused-after-delete" });
  expect(await first.output.text).toBe("Short.");
  const found = world.engine
    .runs()
    .find((candidate) => (candidate.event.data as { runId?: string }).runId === first.runId);
  expect((await world.engine.waitForRun(found?.id ?? "")).status).toBe("Completed");
  await durable.deleteRun("reused-after-delete");
  const second = await durable.stream("Hi", { runId: "reused-after-delete" });
  expect(await second.output.text).toBe("Short.");
});

it("a finish step that ran twice (its first result lost) leaves one terminal event, the one live streams ended on", async () => {
  const slow = createInngestAgent({
    agent: new Agent({
      id: "slow-brief",
      name: "Slow brief",
      instructions: "-",
      model: scriptedModel([textTurn("Slow and short.")], { delayMs: 100 }),
    }),
    inngest: durable.inngest,
    cache: durable.cache,
  });
  new Mastra({ agents: { slow }, logger: false });
  await world.serve(durable.inngest, slow.getInngestFunctions());
  const { output, fullStream, runId } = await slow.stream("Hi");
  const engineRun = await until(() =>
    world.engine.runs().find((candidate) => (candidate.event.data as { runId?: string }).runId === runId),
  );
  const crash = world.engine.faults.crashAfterStep({ runId: engineRun.id, step: "finish" });
  const types: string[] = [];
  for await (const chunk of fullStream) {
    types.push(chunk.type);
  }
  expect(await output.text).toBe("Slow and short.");
  expect((await world.engine.waitForRun(engineRun.id)).status).toBe("Completed");
  // The fault struck: the finish step ran again.
  expect(crash.triggered).toBe(1);
  // Every stored event, superseded attempts included: one finish, last, and no attempt of it superseded.
  const stored = (await slow.cache.listFromTo(createKeyLayout().run(runId).stream.events, 0)) as Array<{
    type: string;
  }>;
  expect(stored.filter((event) => event.type === "finish")).toHaveLength(1);
  expect(stored.filter((event) => event.type === ATTEMPT_SUPERSEDED_EVENT_TYPE)).toEqual([]);
  expect(stored.at(-1)?.type).toBe("finish");
  expect(types.at(-1)).toBe("finish");
  crash.remove();
  await slow.pubsub.close();
}, 30_000);
