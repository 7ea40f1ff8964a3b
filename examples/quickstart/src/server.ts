import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { serve as listen } from "@hono/node-server";
import type { Mastra } from "@mastra/core/mastra";
import { serve } from "@mastra/inngest/hono";
import { Hono } from "hono";
import type { Inngest } from "inngest";

/** A running Hono app. */
export interface App {
  /** The URL of the Inngest endpoint, to sync with the engine. */
  serveUrl: string;
  /** Closes the server and its open connections. */
  close(): Promise<void>;
}

/** Starts a Hono app on a free port that serves the Inngest functions of `mastra`'s durable agents. */
export async function startApp(mastra: Mastra, inngest: Inngest.Any): Promise<App> {
  const app = new Hono();
  app.get("/", (c) => c.text("The quickstart's app: Inngest calls /api/inngest."));
  const handler = serve({ mastra, inngest });
  app.on(["GET", "POST", "PUT"], "/api/inngest", (c) => handler(c));
  const server = await new Promise<Server>((resolve) => {
    const started = listen({ fetch: app.fetch, port: 0, hostname: "127.0.0.1" }, () => resolve(started as Server));
  });
  return {
    serveUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}/api/inngest`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
