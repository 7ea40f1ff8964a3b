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
import { z } from "zod";
import { serve as inngestServe } from "../serve.ts";

// A durable bank agent (its one tool needs approval) served by Mastra's own Hono server, with or
// without Mastra auth (users "user-a" and "user-b", by bearer token). Test support only.

const transfer = createTool({
  id: "transfer",
  description: "Moves money",
  inputSchema: z.object({ amount: z.number() }),
  requireApproval: true,
  execute: async ({ amount }) => ({ moved: amount }),
});

/** The served agent and how to call its routes. */
export interface ServedBank {
  durableAgent: InngestAgent;
  /** POSTs `body` to `/api/agents/bank/<route>`, as `user` (a bearer token) or anonymously. */
  post(route: string, body: unknown, user?: string): Promise<Response>;
  /** Starts a run through the server's stream route; its run id and waiting tool call. */
  startAs(user?: string): Promise<{ runId: string; toolCallId: string }>;
  close(): Promise<void>;
}

/** Starts the dev server and Mastra's server in front of the durable bank agent. */
export async function serveBank(options: { auth: boolean }): Promise<ServedBank> {
  const engine: DevServer = await startDevServer({ timeScale: 0.001 });
  const inngest = new Inngest({ id: "owned-app", isDev: true, baseUrl: engine.url, logger: silentLogger });
  const agent = new Agent({
    id: "bank",
    name: "Bank",
    instructions: "-",
    model: scriptedModel([{ toolCalls: [{ toolName: "transfer", args: { amount: 5 } }] }, { text: "Done." }]),
    tools: { transfer },
  });
  const durableAgent = createInngestAgent({ agent, inngest });
  const mastra = new Mastra({
    agents: { bank: durableAgent },
    server: {
      ...(options.auth
        ? {
            auth: new SimpleAuth<{ id: string }>({
              tokens: { "user-a": { id: "user-a" }, "user-b": { id: "user-b" } },
              mapUserToResourceId: (user) => user.id,
            }),
          }
        : {}),
      apiRoutes: [
        {
          path: "/inngest/api",
          method: "ALL",
          // Inngest signs its calls; Mastra's auth is for users.
          requiresAuth: false,
          createHandler: async ({ mastra: served }) => inngestServe({ mastra: served, inngest }),
        },
      ],
    },
    logger: false,
  });
  const app = new Hono();
  await new MastraServer({ app, mastra }).init();
  const server: HttpTestServer = await startHttpServer(getRequestListener(app.fetch, { hostname: "127.0.0.1" }), {
    path: "/inngest/api",
  });
  await engine.syncApp(server.url);
  const post = (route: string, body: unknown, user?: string) =>
    fetch(`${server.origin}/api/agents/bank/${route}`, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        ...(user === undefined ? {} : { authorization: `Bearer ${user}` }),
      },
      body: JSON.stringify(body),
    });
  return {
    durableAgent,
    post,
    async startAs(user) {
      const response = await post("stream", { messages: "Send 5" }, user);
      const body = await response.text();
      const runId = /"runId":"([0-9a-f-]{36})"/.exec(body)?.[1];
      const toolCallId = /"type":"tool-call-approval"[\s\S]*?"toolCallId":"([^"]+)"/.exec(body)?.[1];
      if (response.status !== 200 || runId === undefined || toolCallId === undefined) {
        throw new Error(`the stream route answered ${response.status}: ${body.slice(0, 500)}`);
      }
      return { runId, toolCallId };
    },
    async close() {
      await durableAgent.pubsub.close();
      await server.close();
      await engine.close();
    },
  };
}
