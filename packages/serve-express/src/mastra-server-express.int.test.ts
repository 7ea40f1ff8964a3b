import { MastraClient, MastraClientError } from "@mastra/client-js";
import { Mastra } from "@mastra/core";
import { Agent } from "@mastra/core/agent";
import { SimpleAuth } from "@mastra/core/server";
import { createTool } from "@mastra/core/tools";
import { MastraServer } from "@mastra/express";
import { callerIdentityMiddleware, createInngestAgent } from "@mastra/inngest-agent";
import { type DevServer, startDevServer } from "@mastra/inngest-dev-server";
import { type HttpTestServer, silentLogger, startHttpServer } from "@mastra/inngest-testing/helpers";
import { scriptedModel } from "@mastra/inngest-testing/model";
import express, { type RequestHandler } from "express";
import { Inngest } from "inngest";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { serve } from "./serve.ts";

// A local copy of the bank agent and of the client-reading helpers of serve-hono's Mastra server
// tests (packages/serve-hono/src/test/): packages do not import each other's test files.

/** A chunk as `processDataStream` hands it over; `observe` wraps the run's chunk in `data`. */
interface ClientChunk {
  type: string;
  runId?: string;
  index?: number;
  payload?: Record<string, unknown>;
  data?: { type?: string; payload?: Record<string, unknown> };
}

async function readChunks(response: {
  processDataStream(options: { onChunk: (chunk: unknown) => Promise<void> }): Promise<void>;
}): Promise<ClientChunk[]> {
  const chunks: ClientChunk[] = [];
  await response.processDataStream({ onChunk: async (chunk) => void chunks.push(chunk as ClientChunk) });
  return chunks;
}

async function refusalOf(call: Promise<unknown>): Promise<number> {
  const outcome = await call.then(
    () => undefined,
    (error: unknown) => error,
  );
  if (outcome instanceof MastraClientError) {
    return outcome.status;
  }
  throw outcome ?? new Error("the server accepted a call it should have refused");
}

const typeOf = (chunk: ClientChunk): string | undefined => (chunk.type === "chunk" ? chunk.data?.type : chunk.type);

/**
 * `server.middleware` takes Hono handlers, which Mastra's Express adapter does not run (it logs a
 * warning): the Express form calls the same handler from the adapter's `registerUserMiddleware()`
 * hook, after its context middleware has set `res.locals.requestContext`.
 */
class ExpressMastraServer extends MastraServer {
  override registerUserMiddleware(): void {
    const callerIdentity = callerIdentityMiddleware();
    const handler: RequestHandler = (_request, response, next) => {
      const context = { get: (key: string) => response.locals[key] } as Parameters<typeof callerIdentity>[0];
      void callerIdentity(context, async () => next());
    };
    this.app.use(handler);
  }
}

// The durable bank agent served by Mastra's own Express server (@mastra/express) with Mastra auth,
// against the dev server, called with `MastraClient`: the owner rule holds as with Hono.
describe("MastraClient and Mastra's Express server with auth, in front of a durable agent", () => {
  let engine: DevServer;
  let server: HttpTestServer;
  let closeAgent: () => Promise<void>;
  const client = (user?: string) =>
    new MastraClient({
      baseUrl: server.origin,
      retries: 0,
      headers: user === undefined ? {} : { authorization: `Bearer ${user}` },
    });

  beforeAll(async () => {
    engine = await startDevServer({ timeScale: 0.001 });
    const inngest = new Inngest({ id: "express-mastra-app", isDev: true, baseUrl: engine.url, logger: silentLogger });
    const transfer = createTool({
      id: "transfer",
      description: "Moves money",
      inputSchema: z.object({ amount: z.number() }),
      requireApproval: true,
      execute: async ({ amount }) => ({ moved: amount }),
    });
    const bank = createInngestAgent({
      agent: new Agent({
        id: "bank",
        name: "Bank",
        instructions: "You move money when asked.",
        model: scriptedModel([{ toolCalls: [{ toolName: "transfer", args: { amount: 5 } }] }, { text: "Done." }]),
        tools: { transfer },
      }),
      inngest,
    });
    closeAgent = () => bank.pubsub.close();
    const mastra = new Mastra({
      agents: { bank },
      server: {
        auth: new SimpleAuth<{ id: string }>({
          tokens: { "user-a": { id: "user-a" }, "user-b": { id: "user-b" } },
          mapUserToResourceId: (user) => user.id,
        }),
      },
      logger: false,
    });
    const app = express();
    app.use(express.json());
    // Mounted before Mastra's server: Inngest signs its calls; Mastra's auth is for users.
    app.use("/inngest/api", serve({ mastra, inngest }));
    await new ExpressMastraServer({ app, mastra }).init();
    server = await startHttpServer(app, { path: "/inngest/api" });
    await engine.syncApp(server.url);
  });

  afterAll(async () => {
    await closeAgent?.();
    await server?.close();
    await engine?.close();
  });

  it("stream starts the user's run, observe reads it from an offset, the owner alone approves", async () => {
    const started = await readChunks(await client("user-a").getAgent("bank").stream("Send 5"));
    expect(started[0]?.type).toBe("start");
    const runId = started[0]?.runId as string;
    const approval = started.find((chunk) => chunk.type === "tool-call-approval");
    expect(approval?.payload).toMatchObject({ toolName: "transfer", args: { amount: 5 } });
    const waiting = { runId, toolCallId: approval?.payload?.toolCallId as string };

    expect(await refusalOf(client("user-b").getAgent("bank").approveToolCall(waiting))).toBe(403);
    expect(await refusalOf(client().getAgent("bank").approveToolCall(waiting))).toBe(401);
    const approved = await readChunks(await client("user-a").getAgent("bank").approveToolCall(waiting));
    const text = approved.filter((chunk) => chunk.type === "text-delta").map((chunk) => chunk.payload?.text);
    expect(text.join("")).toBe("Done.");
    expect(approved.at(-1)?.type).toBe("finish");

    // Read once the run has finished: observe stays open while a run waits for a decision.
    const offset = 1;
    const observed = await readChunks(await client("user-a").getAgent("bank").observe({ runId, offset }));
    expect(observed.map(({ index }) => index)).toEqual(observed.map((_, position) => offset + position));
    expect(observed.map(typeOf)).toEqual(expect.arrayContaining(["tool-call-approval", "tool-result", "finish"]));
    expect(await readChunks(await client("user-b").getAgent("bank").observe({ runId, offset: 0 }))).toEqual([]);
  });

  it("refuses anonymous callers with 401", async () => {
    expect(await refusalOf(client().getAgent("bank").stream("Send 5"))).toBe(401);
    expect(await refusalOf(client().getAgent("bank").observe({ runId: "any-run", offset: 0 }))).toBe(401);
  });
});
