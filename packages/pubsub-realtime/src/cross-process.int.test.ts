import { type ChildProcess, spawn } from "node:child_process";
import { randomUUID } from "node:crypto";
import { once } from "node:events";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { streamTopic } from "@mastra/inngest-core";
import { type DevServer, startDevServer } from "@mastra/inngest-dev-server";
import { serveFunctions, silentLogger } from "@mastra/inngest-testing/helpers";
import { Inngest } from "inngest";
import { serve } from "inngest/node";
import { afterAll, beforeAll, expect, it } from "vitest";
import { InngestPubSub } from "./inngest-pubsub.ts";
import { startRun } from "./test/start-run.ts";

const eventCount = 1000;
const eventsPerStep = 50;

let engine: DevServer;
let app: { close(): Promise<void> };
let child: ChildProcess | undefined;

beforeAll(async () => {
  engine = await startDevServer({ timeScale: 0.0001 });
  const inngest = new Inngest({ id: "cross-process", isDev: true, baseUrl: engine.url, logger: silentLogger });
  const pubsub = new InngestPubSub(inngest);
  const publisher = inngest.createFunction(
    { id: "publish-many", triggers: [{ event: "test/publish-many" }] },
    async ({ event, step }) => {
      const { runId } = event.data as { runId: string };
      const topic = streamTopic(runId);
      for (let first = 0; first < eventCount; first += eventsPerStep) {
        await step.run(`chunks:${first}`, async () => {
          for (let sequence = first; sequence < first + eventsPerStep; sequence++) {
            await pubsub.publish(topic, { type: "chunk", runId, data: { sequence } });
          }
        });
      }
      await step.run("finish", () => pubsub.publish(topic, { type: "finish", runId, data: {} }));
      return "published";
    },
  );
  app = await serveFunctions(engine, serve({ client: inngest, functions: [publisher] }));
});

afterAll(async () => {
  child?.kill();
  await app?.close();
  await engine?.close();
});

it(`a function on the dev server publishes ${eventCount} events; a subscriber in another process receives them in order`, async () => {
  const runId = `cross-process-${randomUUID()}`;
  const script = fileURLToPath(new URL("./test/subscriber-process.ts", import.meta.url));
  child = spawn(process.execPath, ["--conditions=@mastra/inngest-source", "--no-warnings", script], {
    env: { ...process.env, ENGINE_URL: engine.url, RUN_TOPIC: streamTopic(runId) },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stderr = "";
  child.stderr?.on("data", (chunk) => {
    stderr += String(chunk);
  });
  const lines = createInterface({ input: child.stdout as NodeJS.ReadableStream })[Symbol.asyncIterator]();
  const exited = once(child, "exit");

  const ready = await lines.next();
  expect(ready.value, stderr).toBe("ready");
  const inngestRunId = await startRun(engine, "test/publish-many", { runId });
  const run = await engine.waitForRun(inngestRunId, { timeoutMs: 40_000 });
  expect(run.status).toBe("Completed");

  const result = await lines.next();
  expect(result.done, stderr).toBe(false);
  const received = JSON.parse(String(result.value)) as { sequences: number[] };
  expect(received.sequences).toEqual(Array.from({ length: eventCount }, (_, sequence) => sequence));
  const [code] = await exited;
  expect(code).toBe(0);
  expect(engine.counters().realtime.channels.get(`agent:${runId}`)?.publishes).toBe(eventCount + 1);
}, 60_000);
