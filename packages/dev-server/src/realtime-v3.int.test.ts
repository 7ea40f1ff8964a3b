// The v3 SDK lives in its own test file: v3 and v4 keep their async context in the same global
// (Symbol.for("inngest:als")) in different shapes, so they cannot share a process.

import { channel, subscribe, topic } from "@inngest/realtime";
import { realtimeMiddleware } from "@inngest/realtime/middleware";
import { type HttpTestServer, serveFunctions, silentLogger } from "@mastra/inngest-testing/helpers";
import { Inngest } from "inngest-v3";
import { serve } from "inngest-v3/node";
import { afterAll, beforeAll, expect, it } from "vitest";
import { type DevServer, startDevServer } from "./start-dev-server.ts";

const runChannel = channel((id: string) => `run:${id}`).addTopic(topic("progress").type<{ index: number }>());

let engine: DevServer;
let app: HttpTestServer;
const createClient = (baseUrl: string) =>
  new Inngest({ id: "realtime-v3", isDev: true, baseUrl, logger: silentLogger, middleware: [realtimeMiddleware()] });
let inngest: ReturnType<typeof createClient>;

beforeAll(async () => {
  engine = await startDevServer({ timeScale: 0.0001 });
  inngest = createClient(engine.url);
  const fn = inngest.createFunction({ id: "progress" }, { event: "rt/start" }, async ({ event, step, publish }) => {
    const id = (event.data as { id: string }).id;
    for (let index = 0; index < 5; index++) {
      await step.run(`work-${index}`, () => index);
      await publish(runChannel(id).progress({ index }));
    }
    return "published";
  });
  app = await serveFunctions(engine, serve({ client: inngest, functions: [fn] }));
});

afterAll(async () => {
  await app?.close();
  await engine?.close();
});

it("runs a v3 function and delivers its publishes to an @inngest/realtime subscriber, in order", async () => {
  const received: number[] = [];
  const stream = await subscribe({ app: inngest, channel: runChannel("job-3"), topics: ["progress"] }, (message) => {
    received.push((message.data as { index: number }).index);
  });
  const [eventId] = await engine.send({ name: "rt/start", data: { id: "job-3" } });
  const [run] = engine.runsForEvent(eventId ?? "");
  const done = await engine.waitForRun(run?.id ?? "");
  expect(done.status).toBe("Completed");
  expect(done.output).toBe("published");
  const deadline = Date.now() + 10_000;
  while (received.length < 5 && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  await stream.cancel().catch(() => {});
  // The middleware wraps each publish outside a step in a step, so each arrives once.
  expect(received).toEqual([0, 1, 2, 3, 4]);
});
