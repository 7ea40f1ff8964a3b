import { getRequestListener } from "@hono/node-server";
import { createInngestAgent } from "@mastra/inngest-agent";
import { signBody, startDevServer } from "@mastra/inngest-dev-server";
import { startHttpServer } from "@mastra/inngest-testing/helpers";
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
    return await startHttpServer(getRequestListener(app.fetch, { hostname: "127.0.0.1" }));
  },
  startEngine: (options) => startDevServer({ ...options, timeScale: 0.001 }),
  signBody,
});
