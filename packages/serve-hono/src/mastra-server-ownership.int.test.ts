import { getRequestListener } from "@hono/node-server";
import { Mastra } from "@mastra/core";
import { Agent } from "@mastra/core/agent";
import { SimpleAuth } from "@mastra/core/server";
import { createTool } from "@mastra/core/tools";
import { MastraServer } from "@mastra/hono";
import { createInngestAgent, type InngestAgent } from "@mastra/inngest-agent";
import { type DevServer, startDevServer } from "@mastra/inngest-dev-server";
import { type HttpTestServer, silentLogger, startHttpServer } from "@mastra/inngest-testing/helpers";
import { scriptedModel } from "@mastra/inngest-testing/model";
import { Hono } from "hono";
import { Inngest } from "inngest";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { serve as inngestServe } from "./serve.ts";

// The owner rule through Mastra's own server and auth, as real HTTP requests: the authenticated
// user owns the runs it starts, another user is refused, an anonymous request never gets in.
const transfer = createTool({
  id: "transfer",
  description: "Moves money",
  inputSchema: z.object({ amount: z.number() }),
  requireApproval: true,
  execute: async ({ amount }) => ({ moved: amount }),
});

describe("Mastra's server with auth, in front of a durable agent", () => {
  let engine: DevServer;
  let server: HttpTestServer;
  let durableAgent: InngestAgent;

  beforeAll(async () => {
    engine = await startDevServer({ timeScale: 0.001 });
    const inngest = new Inngest({ id: "owned-app", isDev: true, baseUrl: engine.url, logger: silentLogger });
    const agent = new Agent({
      id: "bank",
      name: "Bank",
      instructions: "-",
      model: scriptedModel([{ toolCalls: [{ toolName: "transfer", args: { amount: 5 } }] }, { text: "Done." }]),
      tools: { transfer },
    });
    durableAgent = createInngestAgent({ agent, inngest });
    const mastra = new Mastra({
      agents: { bank: durableAgent },
      server: {
        auth: new SimpleAuth<{ id: string }>({
          tokens: { "user-a": { id: "user-a" }, "user-b": { id: "user-b" } },
          mapUserToResourceId: (user) => user.id,
        }),
        apiRoutes: [
          {
            path: "/inngest/api",
            method: "ALL",
            // Inngest signs its calls; Mastra's auth is for users.
            requiresAuth: false,
            createHandler: async ({ mastra }) => inngestServe({ mastra, inngest }),
          },
        ],
      },
      logger: false,
    });
    const app = new Hono();
    await new MastraServer({ app, mastra }).init();
    server = await startHttpServer(getRequestListener(app.fetch, { hostname: "127.0.0.1" }), { path: "/inngest/api" });
    await engine.syncApp(server.url);
  });

  afterAll(async () => {
    await durableAgent?.pubsub.close();
    await server?.close();
    await engine?.close();
  });

  const post = (route: string, body: unknown, user?: string) =>
    fetch(`${server.origin}/api/agents/bank/${route}`, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        ...(user === undefined ? {} : { authorization: `Bearer ${user}` }),
      },
      body: JSON.stringify(body),
    });

  /** Starts a run as `user` through the server's stream route; resolves to its run id and tool call id. */
  async function startAs(user: string): Promise<{ runId: string; toolCallId: string }> {
    const response = await post("stream", { messages: "Send 5" }, user);
    expect(response.status).toBe(200);
    const body = await response.text();
    const runId = /"runId":"([0-9a-f-]{36})"/.exec(body)?.[1];
    const toolCallId = /"type":"tool-call-approval"[\s\S]*?"toolCallId":"([^"]+)"/.exec(body)?.[1];
    expect(runId, body.slice(0, 500)).toBeDefined();
    expect(toolCallId, body.slice(0, 500)).toBeDefined();
    return { runId: runId as string, toolCallId: toolCallId as string };
  }

  it("refuses anonymous requests to the agent routes", async () => {
    expect((await post("stream", { messages: "Send 5" })).status).toBe(401);
    expect((await post("observe", { runId: "any-run", offset: 0 })).status).toBe(401);
  });

  it("a run started by an authenticated user is that user's: the owner rule holds outside the server too", async () => {
    const { runId } = await startAs("user-a");
    const anonymous = await durableAgent.observe(runId).catch((caught: unknown) => caught);
    expect((anonymous as { code?: string }).code).toBe("RUN_FORBIDDEN");
    const owner = await durableAgent.observe(runId, { resourceId: "user-a", offset: 0 });
    expect(await owner.output.finishReason).toBe("suspended");
  });

  it("resume-stream: another user gets 403, the owner continues the run", async () => {
    const { runId, toolCallId } = await startAs("user-a");
    const body = { runId, toolCallId, resumeData: { approved: true } };
    expect((await post("resume-stream", body, "user-b")).status).toBe(403);
    const resumed = await post("resume-stream", body, "user-a");
    expect(resumed.status).toBe(200);
    expect(await resumed.text()).toContain("Done.");
  });

  it("observe: the server's route reads no owned run's history for anyone, as it passes no identity", async () => {
    const { runId } = await startAs("user-a");
    for (const user of ["user-a", "user-b"]) {
      const response = await post("observe", { runId, offset: 0 }, user);
      const text = response.status === 200 ? await response.text() : "";
      expect(text).not.toContain("tool-call-approval");
      expect(text).not.toContain('"transfer"');
    }
  });

  it("approve-tool-call and decline-tool-call: another user gets 403, the owner decides the waiting call", async () => {
    const approved = await startAs("user-a");
    expect((await post("approve-tool-call", approved, "user-b")).status).toBe(403);
    const approval = await post("approve-tool-call", approved, "user-a");
    expect(approval.status).toBe(200);
    expect(await approval.text()).toContain("Done.");

    const declined = await startAs("user-a");
    expect((await post("decline-tool-call", declined, "user-b")).status).toBe(403);
    const decline = await post("decline-tool-call", { ...declined, reason: "not today" }, "user-a");
    expect(decline.status).toBe(200);
    expect(await decline.text()).toContain("tool-output-denied");
  });
});
