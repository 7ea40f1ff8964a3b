import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { serve as serveHono } from "@hono/node-server";
import express from "express";
import { Hono } from "hono";
import type { Inngest, InngestFunction } from "inngest";
import { serve as expressServe } from "inngest/express";
import { serve as honoServe } from "inngest/hono";
import { serve as nodeServe } from "inngest/node";

/** The frameworks the engine is tested with. */
export type TestFramework = "node" | "hono" | "express";

/** An app served on a real port, for tests. */
export interface ServedApp {
  /** The serve URL, `http://127.0.0.1:<port>/api/inngest`. */
  url: string;
  close(): Promise<void>;
}

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
    const server = await new Promise<Server>((resolve) => {
      const started = serveHono({ fetch: app.fetch, port: 0, hostname: "127.0.0.1" }, () => resolve(started as Server));
    });
    return describe(server);
  }
  if (framework === "express") {
    const app = express();
    app.use(express.json({ limit: "32mb" }));
    app.use("/api/inngest", expressServe({ client, functions }));
    const server = createServer(app);
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
    return describe(server);
  }
  const handler = nodeServe({ client, functions });
  const server = createServer((request, response) => {
    if (request.url?.startsWith("/api/inngest")) {
      void handler(request, response);
      return;
    }
    response.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
  return describe(server);
}

function describe(server: Server): ServedApp {
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/api/inngest`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
