import { type HttpTestServer, silentLogger, startHttpServer } from "@mastra/inngest-testing/helpers";
import { Inngest } from "inngest";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type DevServer, type ExecutionMode, startDevServer } from "./start-dev-server.ts";
import { type ServedApp, serveTestApp } from "./test/test-app.ts";

/**
 * `step.fetch()` and `step.ai.infer()`: the engine makes the request (the `Gateway` and `AIGateway`
 * ops) and memoizes the answer, so a replay of the function does not request again.
 * @see issue 22
 */
describe.each<ExecutionMode>(["checkpoint", "classic"])("step.fetch() and step.ai.infer() in %s mode", (mode) => {
  let engine: DevServer;
  let app: ServedApp;
  let target: HttpTestServer;
  const received: {
    method: string;
    url: string;
    header: string | undefined;
    auth: string | undefined;
    body: string;
  }[] = [];

  beforeAll(async () => {
    target = await startHttpServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on("data", (chunk: Buffer) => chunks.push(chunk));
      request.on("end", () => {
        received.push({
          method: request.method ?? "",
          url: request.url ?? "",
          header: request.headers["x-test"] as string | undefined,
          auth: request.headers.authorization,
          body: Buffer.concat(chunks).toString("utf8"),
        });
        if (request.url?.endsWith("/chat/completions")) {
          const answer = { choices: [{ message: { role: "assistant", content: "Hello from the model" } }] };
          response.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(answer));
          return;
        }
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
    const inferrer = inngest.createFunction(
      { id: "inferrer", triggers: [{ event: "fetch/infer" }] },
      async ({ step }) => {
        const answer = await step.ai.infer("ask", {
          model: step.ai.models.openai({ model: "gpt-test", apiKey: "sk-test", baseUrl: `${target.url}/v1/` }),
          body: { messages: [{ role: "user", content: "Hi" }] },
        });
        return answer.choices[0]?.message.content;
      },
    );
    app = await serveTestApp("node", inngest, [fetcher, inferrer]);
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
    expect(received).toEqual([
      { method: "POST", url: expect.stringMatching(/\/ping$/), header: "1", auth: undefined, body: "ping" },
    ]);
  });

  it("calls the model for step.ai.infer() with the key as the format wants, once", async () => {
    received.length = 0;
    const [eventId] = await engine.send({ name: "fetch/infer" });
    const [run] = engine.runsForEvent(eventId ?? "");
    const done = await engine.waitForRun(run?.id ?? "", { timeoutMs: 10_000 });
    expect(done.status).toBe("Completed");
    expect(done.output).toBe("Hello from the model");
    expect(received).toHaveLength(1);
    expect(received[0]).toMatchObject({
      method: "POST",
      url: expect.stringMatching(/\/v1\/chat\/completions$/),
      auth: "Bearer sk-test",
    });
    expect(JSON.parse(received[0]?.body ?? "{}")).toMatchObject({
      model: "gpt-test",
      messages: [{ role: "user", content: "Hi" }],
    });
  });
});
