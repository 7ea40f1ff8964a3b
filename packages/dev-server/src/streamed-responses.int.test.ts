import { type HttpTestServer, silentLogger, startHttpServer } from "@mastra/inngest-testing/helpers";
import { Inngest, NonRetriableError } from "inngest";
import { serve } from "inngest/node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type DevServer, type ExecutionMode, startDevServer } from "./start-dev-server.ts";

/**
 * A serve handler with `streaming: true` answers every call with 201 and a stream: whitespace
 * heartbeats, then the response it would have sent as JSON. The engine reads that response.
 * @see issue 22
 */
describe.each<ExecutionMode>(["checkpoint", "classic"])("streamed responses in %s mode", (mode) => {
  let engine: DevServer;
  let app: HttpTestServer;
  const statuses: number[] = [];

  beforeAll(async () => {
    engine = await startDevServer({ mode, timeScale: 0.001 });
    const inngest = new Inngest({ id: `streamed-${mode}`, isDev: true, baseUrl: engine.url, logger: silentLogger });
    const steps = inngest.createFunction({ id: "steps", triggers: [{ event: "streamed/steps" }] }, async ({ step }) => {
      const first = await step.run("first", () => "a");
      await step.sleep("nap", "1m");
      return await step.run("second", () => `${first}b`);
    });
    const failing = inngest.createFunction(
      { id: "failing", retries: 0, triggers: [{ event: "streamed/failing" }] },
      async ({ step }) =>
        await step.run("boom", () => {
          throw new NonRetriableError("streamed failure");
        }),
    );
    const handler = serve({ client: inngest, functions: [steps, failing], streaming: true });
    app = await startHttpServer((request, response) => {
      if (request.method === "POST") {
        response.on("finish", () => statuses.push(response.statusCode));
      }
      void handler(request, response);
    });
    await engine.syncApp(app.url);
  });

  afterAll(async () => {
    await app?.close();
    await engine?.close();
  });

  async function finish(name: string) {
    const [eventId] = await engine.send({ name });
    const [run] = engine.runsForEvent(eventId ?? "");
    return await engine.waitForRun(run?.id ?? "", { timeoutMs: 10_000 });
  }

  it("runs steps, sleeps and completes through streamed answers", async () => {
    statuses.length = 0;
    const done = await finish("streamed/steps");
    expect(done.status).toBe("Completed");
    expect(done.output).toBe("ab");
    expect(statuses.length).toBeGreaterThan(0);
    expect(statuses.every((status) => status === 201)).toBe(true);
  });

  it("fails the run with the step's error from a streamed answer", async () => {
    const done = await finish("streamed/failing");
    expect(done.status).toBe("Failed");
    expect(JSON.stringify(done.error)).toContain("streamed failure");
  });
});
