import { type DevServer, startDevServer } from "@mastra/inngest-dev-server";
import { type HttpTestServer, startHttpServer } from "@mastra/inngest-testing/helpers";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";

// The Inngest client reads its environment when it is created: the test points it at the engine it
// starts, and leaves out an API key so that the agent uses the scripted model.
const overridden = [
  "INNGEST_DEV",
  "INNGEST_BASE_URL",
  "INNGEST_API_BASE_URL",
  "INNGEST_EVENT_API_BASE_URL",
  "OPENAI_API_KEY",
];
let engine: DevServer;
let server: HttpTestServer | undefined;
let baseUrl: string;
let example: typeof import("./mastra.ts");

beforeAll(async () => {
  engine = await startDevServer();
  for (const name of overridden) {
    vi.stubEnv(name, undefined);
  }
  vi.stubEnv("INNGEST_DEV", engine.url);
  example = await import("./mastra.ts");
  const { app } = await import("./app.ts");
  server = await startHttpServer(app);
  baseUrl = server.origin;
  await engine.syncApp(`${baseUrl}/api/inngest`);
});

afterAll(async () => {
  await server?.close();
  await example?.durableAgent.pubsub.close();
  await engine?.close();
  vi.unstubAllEnvs();
});

describe("the Express example", () => {
  it("registers the agent's function when the engine syncs /api/inngest", () => {
    const [synced] = engine.apps();
    expect(synced?.url).toBe(`${baseUrl}/api/inngest`);
    expect(synced?.functionIds).toContain("express-example-agent-assistant");
  });

  it("answers POST /chat with the agent's text, from a run the engine completed", async () => {
    const response = await fetch(`${baseUrl}/chat`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ message: "Hi! What are you?" }),
    });
    expect(response.status).toBe(200);
    const { runId, text } = (await response.json()) as { runId: string; text: string };
    expect(text).toBe(example.scriptedAnswer);

    const engineRun = engine.runs().find((run) => (run.event.data as { runId?: string }).runId === runId);
    expect(engineRun, `the engine has no run for ${runId}`).toBeDefined();
    const run = await engine.waitForRun(engineRun?.id ?? "", { timeoutMs: 10_000 });
    expect(run.status).toBe("Completed");
    expect(run.steps.filter((step) => !step.discarded).map((step) => step.name)).toEqual(["llm:0", "map:0", "finish"]);
  });

  it("answers 400 to a chat request without a message", async () => {
    const response = await fetch(`${baseUrl}/chat`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: "{}",
    });
    expect(response.status).toBe(400);
  });
});
