import { type HttpTestServer, silentLogger, startHttpServer } from "@mastra/inngest-testing/helpers";
import { Inngest } from "inngest";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type DevServer, type ExecutionMode, startDevServer } from "./start-dev-server.ts";
import { type ServedApp, serveTestApp } from "./test/test-app.ts";

/**
 * `step.fetch()`: the engine makes the request (the `Gateway` op) and memoizes the response, so a
 * replay of the function does not request again.
 * @see issue 22
 */
describe.each<ExecutionMode>(["checkpoint", "classic"])("step.fetch() in %s mode", (mode) => {
  let engine: DevServer;
  let app: ServedApp;
  let target: HttpTestServer;
  const received: { method: string; header: string | undefined; body: string }[] = [];

  beforeAll(async () => {
    target = await startHttpServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on("data", (chunk: Buffer) => chunks.push(chunk));
      request.on("end", () => {
        received.push({
          method: request.method ?? "",
          header: request.headers["x-test"] as string | undefined,
          body: Buffer.concat(chunks).toString("utf8"),
        });
        response.writeHead(201, { "content-type": "text/plain", "x-answer": "yes" }).end("pong");
      });
    });
    engine = await startDevServer({ mode });
    const inngest = new Inngest({ id: `fetch-${mode}`, isDev: true, baseUrl: engine.url, logger: silentLogger });
    const fetcher = inngest.createFunction({ id: "fetcher", triggers: [{ event: "fetch/go" }] }, async ({ step }) => {
      const response = await step.fetch(`${target.url}/ping`, {
        method: "POST",
        headers: { "x-test": "1" },
        body: "ping",
      });
      const text = await response.text();
      const after = await step.run("after", () => `${response.status}:${text}`);
      return { status: response.status, text, answer: response.headers.get("x-answer"), after };
    });
    app = await serveTestApp("node", inngest, [fetcher]);
    await engine.syncApp(app.url);
  });

  afterAll(async () => {
    await app?.close();
    await engine?.close();
    await target?.close();
  });

  it("makes the request once and gives the function the response", async () => {
    received.length = 0;
    const [eventId] = await engine.send({ name: "fetch/go" });
    const [run] = engine.runsForEvent(eventId ?? "");
    const done = await engine.waitForRun(run?.id ?? "", { timeoutMs: 10_000 });
    expect(done.status).toBe("Completed");
    expect(done.output).toEqual({ status: 201, text: "pong", answer: "yes", after: "201:pong" });
    expect(received).toEqual([{ method: "POST", header: "1", body: "ping" }]);
  });
});
