import { getRequestListener } from "@hono/node-server";
import { type HttpTestServer, startHttpServer } from "@mastra/inngest-testing/helpers";
import express from "express";
import { Hono } from "hono";
import type { Inngest, InngestFunction } from "inngest";
import { serve as expressServe } from "inngest/express";
import { serve as honoServe } from "inngest/hono";
import { serve as nodeServe } from "inngest/node";

/** The frameworks the engine is tested with. */
export type TestFramework = "node" | "hono" | "express";

/** An app served on a real port, for tests; `url` is `http://127.0.0.1:<port>/api/inngest`. */
export type ServedApp = HttpTestServer;

/**
 * Serves Inngest functions with the SDK's own serve handler for `framework`, on a free port.
 * Test support only: not part of the package's public surface.
 */
export async function serveTestApp(
  framework: TestFramework,
  client: Inngest.Any,
  functions: InngestFunction.Any[],
): Promise<ServedApp> {
  if (framework === "hono") {
    const app = new Hono();
    const handler = honoServe({ client, functions });
    app.on(["GET", "PUT", "POST"], "/api/inngest", (context) => handler(context));
    return await startHttpServer(getRequestListener(app.fetch, { hostname: "127.0.0.1" }));
  }
  if (framework === "express") {
    const app = express();
    app.use(express.json({ limit: "32mb" }));
    app.use("/api/inngest", expressServe({ client, functions }));
    return await startHttpServer(app);
  }
  const handler = nodeServe({ client, functions });
  return await startHttpServer((request, response) => {
    if (request.url?.startsWith("/api/inngest")) {
      void handler(request, response);
      return;
    }
    response.writeHead(404).end();
  });
}
