import { getRequestListener } from "@hono/node-server";
import { MastraClient } from "@mastra/client-js";
import { Mastra } from "@mastra/core";
import { SimpleAuth } from "@mastra/core/server";
import { MastraServer } from "@mastra/hono";
import { callerIdentityMiddleware, type InngestAgent } from "@mastra/inngest-agent";
import { type DevServer, startDevServer } from "@mastra/inngest-dev-server";
import { type HttpTestServer, silentLogger, startHttpServer } from "@mastra/inngest-testing/helpers";
import { Hono } from "hono";
import { Inngest } from "inngest";
import { serve as inngestServe } from "../serve.ts";
import { type BankAgents, createBankAgents } from "./bank-agents.ts";

// Durable agents (see bank-agents.ts) served by Mastra's own Hono server on a real HTTP server,
// against the dev server, with or without Mastra auth (users "user-a" and "user-b", by bearer
// token). Test support only.

/** The served agents and how to call their routes. */
export interface ServedBank {
  /** The bank agent: its one tool needs approval. */
  durableAgent: InngestAgent;
  /** Every served agent, by id. */
  agents: BankAgents;
  /** POSTs `body` to `/api/agents/bank/<route>`, as `user` (a bearer token) or anonymously. */
  post(route: string, body: unknown, user?: string): Promise<Response>;
  /** Starts a run through the server's stream route; its run id and waiting tool call. */
  startAs(user?: string): Promise<{ runId: string; toolCallId: string }>;
  /** A `MastraClient` of the server, signed in as `user` (a bearer token) or anonymous; no retries. */
  client(user?: string, options?: { abortSignal?: AbortSignal }): MastraClient;
  close(): Promise<void>;
}

/** How to serve the agents. */
export interface ServeBankOptions {
  /** Mastra auth with the users "user-a" and "user-b". */
  auth: boolean;
  /** Registers `callerIdentityMiddleware()` in `server.middleware`. @default false */
  callerIdentity?: boolean;
}

/** Starts the dev server and Mastra's server in front of the durable agents. */
export async function serveBank(options: ServeBankOptions): Promise<ServedBank> {
  const engine: DevServer = await startDevServer({ timeScale: 0.001 });
  const inngest = new Inngest({ id: "owned-app", isDev: true, baseUrl: engine.url, logger: silentLogger });
  const agents = createBankAgents(inngest);
  const mastra = new Mastra({
    agents: { ...agents },
    server: {
      ...(options.auth
        ? {
            auth: new SimpleAuth<{ id: string }>({
              tokens: { "user-a": { id: "user-a" }, "user-b": { id: "user-b" } },
              mapUserToResourceId: (user) => user.id,
            }),
          }
        : {}),
      ...(options.callerIdentity === true ? { middleware: [callerIdentityMiddleware()] } : {}),
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
  const bearer = (user?: string): Record<string, string> =>
    user === undefined ? {} : { authorization: `Bearer ${user}` };
  const post = (route: string, body: unknown, user?: string) =>
    fetch(`${server.origin}/api/agents/bank/${route}`, {
      method: "POST",
      headers: { "content-type": "application/json", ...bearer(user) },
      body: JSON.stringify(body),
    });
  return {
    durableAgent: agents.bank,
    agents,
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
    client(user, clientOptions = {}) {
      // No retries: a refusal must show as the first answer, not hide behind a retried request.
      return new MastraClient({ baseUrl: server.origin, retries: 0, headers: bearer(user), ...clientOptions });
    },
    async close() {
      await Promise.all(Object.values(agents).map((agent) => agent.pubsub.close()));
      await server.close();
      await engine.close();
    },
  };
}
