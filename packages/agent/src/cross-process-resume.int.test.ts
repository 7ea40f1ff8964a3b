import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { Mastra } from "@mastra/core/mastra";
import { RedisStreamCache } from "@mastra/inngest-stream-cache-redis";
import { type RedisServer, startRedis } from "@mastra/inngest-testing";
import { silentLogger } from "@mastra/inngest-testing/helpers";
import { Inngest } from "inngest";
import { afterAll, beforeAll, expect, it } from "vitest";
import { createInngestAgent } from "./create-inngest-agent.ts";
import { approvalAgent } from "./fixtures/approval-agents.ts";
import { startTestWorld, type TestWorld } from "./test/test-world.ts";

const callerScript = fileURLToPath(new URL("./fixtures/approval-caller.ts", import.meta.url));

let world: TestWorld;
let redis: RedisServer;
let cache: RedisStreamCache;
let worker: ReturnType<typeof createInngestAgent>;
let executions = 0;

beforeAll(async () => {
  redis = await startRedis();
  world = await startTestWorld();
  cache = new RedisStreamCache({ url: redis.url });
  const inngest = new Inngest({ id: "approval", isDev: true, baseUrl: world.engine.url, logger: silentLogger });
  worker = createInngestAgent({ agent: approvalAgent(() => executions++), inngest, cache });
  new Mastra({ agents: { approval: worker as never }, logger: false });
  await world.serve(inngest, worker.getInngestFunctions());
});

afterAll(async () => {
  await worker?.pubsub.close();
  await cache?.close();
  await world?.close();
  await redis?.kill();
});

async function runCaller(...args: string[]): Promise<string> {
  const child = spawn(process.execPath, ["--conditions=@mastra/inngest-source", callerScript, ...args], {
    stdio: ["ignore", "pipe", "inherit"],
  });
  let output = "";
  child.stdout?.on("data", (data: Buffer) => {
    output += data.toString("utf8");
  });
  const code = await new Promise<number | null>((resolve) => child.once("exit", resolve));
  expect(code).toBe(0);
  return output.trim();
}

it("resumes from a new process, with a new agent instance, after the starting process exited", async () => {
  const runId = await runCaller("start", world.engine.url, redis.url);
  expect(runId).toMatch(/^[0-9a-f-]{36}$/);
  expect(executions).toBe(0);
  const text = await runCaller("resume", world.engine.url, redis.url, runId);
  expect(text).toBe("Transferred.");
  expect(executions).toBe(1);
  const run = world.engine.runs().find((candidate) => (candidate.event.data as { runId?: string }).runId === runId);
  expect((await world.engine.waitForRun(run?.id ?? "")).status).toBe("Completed");
}, 60_000);
