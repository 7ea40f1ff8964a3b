import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { serve as listen } from "@hono/node-server";
import { createInngestAgent } from "@mastra/inngest-agent";
import { signBody, startDevServer } from "@mastra/inngest-dev-server";
import { describeServeConformance } from "@mastra/inngest-testing/serve";
import { Hono } from "hono";
import { Inngest } from "inngest";
import { serve } from "./serve.ts";

describeServeConformance({
  name: "hono",
  framework: "hono",
  createClient: (options) => new Inngest(options),
  createAgent: createInngestAgent,
  serve,
  async mount(handler) {
    const app = new Hono();
    app.on(["GET", "POST", "PUT"], "/api/inngest", (c) => handler(c));
    const server = await new Promise<Server>((resolve) => {
      const started = listen({ fetch: app.fetch, port: 0, hostname: "127.0.0.1" }, () => resolve(started as Server));
    });
    return {
      url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/api/inngest`,
      close: () =>
        new Promise<void>((resolve) => {
          server.closeAllConnections();
          server.close(() => resolve());
        }),
    };
  },
  startEngine: (options) => startDevServer({ ...options, timeScale: 0.001 }),
  signBody,
});
