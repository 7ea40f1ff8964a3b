import type { ChildProcess } from "node:child_process";
import { Mastra } from "@mastra/core/mastra";
import { createKeyLayout } from "@mastra/inngest-core";
import { type RedisCluster, startRedisCluster } from "@mastra/inngest-testing";
import { findFreePort, silentLogger } from "@mastra/inngest-testing/helpers";
import { Inngest } from "inngest";
import { Cluster } from "ioredis";
import { afterAll, beforeAll, expect, it, onTestFinished } from "vitest";
import { clusterAnswer, durableClusterAgent } from "./fixtures/cluster-agents.ts";
import { startFixtureProcess } from "./test/test-worker.ts";
import { startTestWorld, type TestWorld } from "./test/test-world.ts";

// A durable agent whose steps run in a worker process, with live events on sharded Pub/Sub and
// history on RedisStreamCache, both on a Redis Cluster of 3 masters with 1 replica each.

let cluster: RedisCluster;
let world: TestWorld;
let worker: ChildProcess | undefined;
let caller: ReturnType<typeof durableClusterAgent>;
let slowCaller: ReturnType<typeof durableClusterAgent>;

beforeAll(async () => {
  cluster = await startRedisCluster({ masters: 3, replicasPerMaster: 1 });
  world = await startTestWorld();
  const port = await findFreePort();
  worker = await startFixtureProcess("cluster-worker.ts", [
    world.engine.url,
    String(port),
    JSON.stringify(cluster.nodes),
  ]);
  await world.engine.syncApp(`http://127.0.0.1:${port}/api/inngest`);
  const inngest = new Inngest({ id: "cluster", isDev: true, baseUrl: world.engine.url, logger: silentLogger });
  caller = durableClusterAgent(inngest, [...cluster.nodes]);
  slowCaller = durableClusterAgent(inngest, [...cluster.nodes], { id: "cluster-slow", delayMs: 20 });
  new Mastra({
    agents: { cluster: caller.durable as never, "cluster-slow": slowCaller.durable as never },
    logger: false,
  });
}, 60_000);

afterAll(async () => {
  worker?.kill("SIGKILL");
  await caller?.close();
  await slowCaller?.close();
  await world?.close();
  await cluster?.stop();
});

it("streams a run whose steps run in a worker process, observed again from offset 0, with every key of the run in its slot", async () => {
  const { output, runId } = await caller.durable.stream("Stock of A-1?", { maxSteps: 5 });
  expect(await output.text).toBe(clusterAnswer);
  const run = world.engine.runs().find((candidate) => (candidate.event.data as { runId?: string }).runId === runId);
  expect((await world.engine.waitForRun(run?.id ?? "")).status).toBe("Completed");

  // Another process's view: a new agent instance reads the whole run back from the cluster.
  const inngest = new Inngest({ id: "cluster", isDev: true, baseUrl: world.engine.url, logger: silentLogger });
  const observer = durableClusterAgent(inngest, [...cluster.nodes]);
  onTestFinished(() => observer.close());
  new Mastra({ agents: { cluster: observer.durable as never }, logger: false });
  const observed = await observer.durable.observe(runId, { offset: 0 });
  expect(await observed.output.text).toBe(clusterAnswer);

  // The run's keys were written by the worker: all on the master of the run's slot.
  const client = new Cluster([...cluster.nodes]);
  onTestFinished(() => client.disconnect());
  await client.ping();
  const owner = await cluster.masterOf(`agent.stream.${runId}`);
  const keysPerMaster = await Promise.all(
    client.nodes("master").map(async (node) => [node.options.port, await node.keys(`*{${runId}}*`)] as const),
  );
  const layout = createKeyLayout().run(runId);
  for (const [port, keys] of keysPerMaster) {
    if (port === owner.port) {
      expect(keys).toEqual(expect.arrayContaining([layout.stream.events, layout.stream.index, layout.record]));
    } else {
      expect(keys).toEqual([]);
    }
  }
}, 60_000);

it("a run whose slot's master is killed while it streams completes, its whole answer streamed and observed from offset 0", async () => {
  const { output, runId } = await slowCaller.durable.stream("Stock of A-1?", { maxSteps: 5 });
  const reader = (output.fullStream as ReadableStream<{ type: string; payload?: { text?: string } }>).getReader();
  let text = "";
  let failover: Promise<{ killed: { port: number }; promoted: { port: number } }> | undefined;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) {
      break;
    }
    if (value.type === "text-delta") {
      text += value.payload?.text ?? "";
      // Mid-answer: about a tenth of the words are out.
      if (failover === undefined && text.split(" ").length > 12) {
        failover = cluster.killMasterOf(`agent.stream.${runId}`);
      }
    }
  }
  const killed = await failover;
  expect(killed?.promoted.port).not.toBe(killed?.killed.port);
  expect(text).toBe(clusterAnswer);
  const run = world.engine.runs().find((candidate) => (candidate.event.data as { runId?: string }).runId === runId);
  expect((await world.engine.waitForRun(run?.id ?? "")).status).toBe("Completed");
  const observed = await slowCaller.durable.observe(runId, { offset: 0 });
  expect(await observed.output.text).toBe(clusterAnswer);
}, 60_000);
