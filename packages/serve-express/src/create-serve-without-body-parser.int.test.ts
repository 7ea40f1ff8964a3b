import { request as httpRequest } from "node:http";
import { Agent } from "@mastra/core/agent";
import { Mastra } from "@mastra/core/mastra";
import { createInngestAgent } from "@mastra/inngest-agent";
import { type DevServer, startDevServer } from "@mastra/inngest-dev-server";
import { createServe } from "@mastra/inngest-serve";
import { type HttpTestServer, serveFunctions, silentLogger, startHttpServer } from "@mastra/inngest-testing/helpers";
import { scriptedModel, textTurn } from "@mastra/inngest-testing/model";
import express from "express";
import { Inngest } from "inngest";
import { serve } from "inngest/express";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

/**
 * The reference page mounts `createServe(serve)` with `inngest/express` and no `express.json()`;
 * the SDK's Express handler reads `req.body`, so without a parser every run used to stay `Running`.
 */
describe("createServe(serve) from inngest/express, without express.json()", () => {
  const path = "/inngest/api";
  let engine: DevServer;
  let server: HttpTestServer;
  let durableAgent: ReturnType<typeof createInngestAgent>;

  beforeAll(async () => {
    engine = await startDevServer({ timeScale: 0.001 });
    const inngest = new Inngest({ id: "express-unparsed", isDev: true, baseUrl: engine.url, logger: silentLogger });
    durableAgent = createInngestAgent({
      agent: new Agent({
        id: "unparsed-agent",
        name: "unparsed-agent",
        instructions: "Greet the user.",
        model: scriptedModel([textTurn("Hello without a body parser.")]) as never,
      }),
      inngest,
    });
    const twoSteps = inngest.createFunction(
      { id: "two-steps", triggers: [{ event: "test/two-steps" }] },
      async ({ event, step }) => {
        const first = await step.run("first", () => `${String(event.data.name)}, first`);
        return await step.run("second", () => `${first}, second`);
      },
    );
    const mastra = new Mastra({ agents: { unparsedAgent: durableAgent as never }, logger: false });
    const serveExpress = createServe(serve);
    const app = express();
    app.use(path, serveExpress({ mastra, inngest, functions: [twoSteps] }));
    server = await serveFunctions(engine, app, { path });
  });

  afterAll(async () => {
    await server?.close();
    await engine?.close();
  });

  it("runs a function with steps to Completed", async () => {
    const [eventId] = await engine.send({ name: "test/two-steps", data: { name: "Ada" } });
    const [started] = engine.runsForEvent(eventId as string);
    const run = await engine.waitForRun((started as { id: string }).id, { timeoutMs: 20_000 });
    expect(run.status).toBe("Completed");
    expect(run.output).toBe("Ada, first, second");
  });

  it("streams a durable agent to its end", async () => {
    const { output, cleanup } = await durableAgent.stream("Hello!");
    try {
      expect(await output.text).toBe("Hello without a body parser.");
    } finally {
      cleanup();
    }
  });

  it("answers a body that is not JSON with 400 and says why", async () => {
    const invalid = await post(server.url, "{not json", { "content-type": "application/json" });
    expect(invalid.status).toBe(400);
    expect(JSON.parse(invalid.text).error).toContain("the request body must be JSON");
  });
});

describe("the body limit of createServe(serve) from inngest/express", () => {
  let server: HttpTestServer;

  beforeAll(async () => {
    const inngest = new Inngest({ id: "express-limit", isDev: true, logger: silentLogger });
    const ping = inngest.createFunction({ id: "ping", triggers: [{ event: "test/ping" }] }, async () => "pong");
    const app = express();
    app.use(
      "/small/api",
      createServe(serve)({ mastra: new Mastra({ logger: false }), inngest, functions: [ping], maxBodyBytes: 1024 }),
    );
    app.use("/api/inngest", createServe(serve)({ mastra: new Mastra({ logger: false }), inngest, functions: [ping] }));
    server = await startHttpServer(app);
  });

  afterAll(async () => {
    await server?.close();
  });

  it("refuses a declared length over the default 32 MiB with 413 before reading the body", async () => {
    const response = await postDeclaringLength(server.url, 32 * 1024 * 1024 + 1);
    expect(response.status).toBe(413);
    expect(JSON.parse(response.text).error).toContain("maxBodyBytes (33554432)");
  });

  it("refuses a maxBodyBytes that is not a positive integer", () => {
    const inngest = new Inngest({ id: "express-limit-option", isDev: true, logger: silentLogger });
    let error: unknown;
    try {
      createServe(serve)({ mastra: new Mastra({ logger: false }), inngest, maxBodyBytes: -1 });
    } catch (thrown) {
      error = thrown;
    }
    expect((error as { code?: string }).code).toBe("INVALID_OPTION");
    expect((error as Error).message).toBe(
      "[@mastra/inngest-serve] maxBodyBytes must be a positive integer, got number -1",
    );
  });

  it("refuses a chunked body past maxBodyBytes with 413", async () => {
    const response = await postChunked(`${server.origin}/small/api`, ["x".repeat(600), "x".repeat(600)]);
    expect(response.status).toBe(413);
    expect(JSON.parse(response.text).error).toContain("maxBodyBytes (1024)");
  });
});

interface PlainResponse {
  status: number;
  text: string;
}

async function post(url: string, body: string, headers: Record<string, string>): Promise<PlainResponse> {
  const response = await fetch(url, { method: "POST", headers, body });
  return { status: response.status, text: await response.text() };
}

/** Sends headers that announce `length` bytes and only a few of them, then waits for the answer. */
async function postDeclaringLength(url: string, length: number): Promise<PlainResponse> {
  return await new Promise<PlainResponse>((resolve, reject) => {
    const outgoing = httpRequest(url, {
      method: "POST",
      headers: { "content-type": "application/json", "content-length": String(length) },
    });
    outgoing.on("response", (response) => {
      let text = "";
      response.setEncoding("utf8");
      response.on("data", (chunk: string) => {
        text += chunk;
      });
      response.on("end", () => {
        // The rest of the announced body is never sent, so the request ends here.
        outgoing.destroy();
        resolve({ status: response.statusCode ?? 0, text });
      });
    });
    outgoing.on("error", reject);
    outgoing.write("{");
  });
}

/** Sends `chunks` with chunked transfer encoding (no content-length) and waits for the answer. */
async function postChunked(url: string, chunks: string[]): Promise<PlainResponse> {
  return await new Promise<PlainResponse>((resolve, reject) => {
    const outgoing = httpRequest(url, { method: "POST", headers: { "content-type": "application/json" } });
    outgoing.on("response", (response) => {
      let text = "";
      response.setEncoding("utf8");
      response.on("data", (chunk: string) => {
        text += chunk;
      });
      response.on("end", () => resolve({ status: response.statusCode ?? 0, text }));
    });
    outgoing.on("error", reject);
    for (const chunk of chunks) {
      outgoing.write(chunk);
    }
    outgoing.end();
  });
}
