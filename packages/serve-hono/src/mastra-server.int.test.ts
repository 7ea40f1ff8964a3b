import { getRequestListener } from "@hono/node-server";
import { Mastra } from "@mastra/core";
import { Agent } from "@mastra/core/agent";
import { MastraServer } from "@mastra/hono";
import { createInngestAgent } from "@mastra/inngest-agent";
import { type DevServer, startDevServer } from "@mastra/inngest-dev-server";
import { type HttpTestServer, silentLogger, startHttpServer } from "@mastra/inngest-testing/helpers";
import { scriptedModel, textTurn } from "@mastra/inngest-testing/model";
import { Hono } from "hono";
import { Inngest } from "inngest";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { serve as inngestServe } from "./serve.ts";

describe("the API reference's usage example, served by Mastra's own Hono server", () => {
  let engine: DevServer;
  let server: HttpTestServer;
  let durableAgent: ReturnType<typeof createInngestAgent>;

  beforeAll(async () => {
    engine = await startDevServer({ timeScale: 0.001 });
    // The reference's example, with a scripted model and the local engine in place of OpenAI and Inngest.
    const inngest = new Inngest({ id: "my-app", isDev: true, baseUrl: engine.url, logger: silentLogger });
    const agent = new Agent({
      id: "my-agent",
      name: "My Agent",
      instructions: "You are a helpful assistant",
      model: scriptedModel([textTurn("Hello from Mastra's own server.")]) as never,
    });
    durableAgent = createInngestAgent({ agent, inngest });
    const mastra = new Mastra({
      agents: { myAgent: durableAgent },
      server: {
        apiRoutes: [
          {
            path: "/inngest/api",
            method: "ALL",
            createHandler: async ({ mastra }) => inngestServe({ mastra, inngest }),
          },
        ],
      },
      logger: false,
    });

    const app = new Hono();
    await new MastraServer({ app, mastra }).init();
    server = await startHttpServer(getRequestListener(app.fetch, { hostname: "127.0.0.1" }), { path: "/inngest/api" });
  });

  afterAll(async () => {
    await durableAgent?.pubsub.close();
    await server?.close();
    await engine?.close();
  });

  it("syncs the agent's function at the route and completes a run through the dev server", async () => {
    const app = await engine.syncApp(server.url);
    for (const fn of durableAgent.getInngestFunctions()) {
      expect(app.functionIds).toContain(fn.id("my-app"));
    }

    const { output, runId, cleanup } = await durableAgent.stream("Hello!");
    const text = await output.text;
    cleanup();
    expect(text).toBe("Hello from Mastra's own server.");
    const run = engine.runs().find((candidate) => (candidate.event.data as { runId?: string }).runId === runId);
    expect((await engine.waitForRun(run?.id ?? "")).status).toBe("Completed");
  });
});
