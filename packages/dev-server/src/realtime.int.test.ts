import { silentLogger, until } from "@mastra/inngest-testing/helpers";
import { Inngest } from "inngest";
import { channel, staticSchema } from "inngest/realtime";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type DevServer, type ExecutionMode, startDevServer } from "./start-dev-server.ts";
import { type ServedApp, serveTestApp } from "./test/test-app.ts";

const runChannel = channel({
  name: (id: string) => `run:${id}`,
  topics: { progress: { schema: staticSchema<{ index: number }>() } },
});

describe.each<ExecutionMode>(["checkpoint", "classic"])("Realtime with the v4 SDK in %s mode", (mode) => {
  let engine: DevServer;
  let app: ServedApp;
  let inngest: Inngest.Any;

  beforeAll(async () => {
    engine = await startDevServer({ mode, timeScale: 0.0001 });
    inngest = new Inngest({ id: "realtime", isDev: true, baseUrl: engine.url, logger: silentLogger });
    const fn = inngest.createFunction(
      { id: "progress", triggers: [{ event: "rt/start" }] },
      async ({ event, step }) => {
        const id = (event.data as { id: string }).id;
        for (let index = 0; index < 10; index++) {
          await step.realtime.publish(`progress-${index}`, runChannel(id).progress, { index });
        }
        // Outside a step: published on every call that passes here, which is how Inngest behaves.
        await inngest.realtime.publish(runChannel(id).progress, { index: 10 });
        return "published";
      },
    );
    app = await serveTestApp("node", inngest, [fn]);
    await engine.syncApp(app.url);
  });

  afterAll(async () => {
    await app?.close();
    await engine?.close();
  });

  it("delivers what a function publishes to a subscribe() made before the run, in order", async () => {
    const received: unknown[] = [];
    const subscription = await inngest.realtime.subscribe({
      channel: runChannel("job-1"),
      topics: ["progress"],
      onMessage: (message) => {
        received.push(message.data);
      },
    });
    const [eventId] = await engine.send({ name: "rt/start", data: { id: "job-1" } });
    const [run] = engine.runsForEvent(eventId ?? "");
    expect((await engine.waitForRun(run?.id ?? "")).output).toBe("published");
    await until(() => received.some((data) => (data as { index: number }).index === 10));
    subscription.close();
    const stepped = received.filter((data) => (data as { index: number }).index < 10);
    expect(stepped).toEqual(Array.from({ length: 10 }, (_, index) => ({ index })));
    const channelStats = engine.counters().realtime.channels.get("run:job-1");
    expect(channelStats?.publishes).toBeGreaterThanOrEqual(11);
    expect(channelStats?.bytes).toBeGreaterThan(0);
  });
});
