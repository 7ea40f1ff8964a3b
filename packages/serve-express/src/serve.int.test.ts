import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { createInngestAgent } from "@mastra/inngest-agent";
import { signBody, startDevServer } from "@mastra/inngest-dev-server";
import { describeServeConformance } from "@mastra/inngest-testing/serve";
import express from "express";
import { Inngest } from "inngest";
import { serve } from "./serve.ts";

describeServeConformance({
  name: "express",
  framework: "express",
  createClient: (options) => new Inngest(options),
  createAgent: createInngestAgent,
  serve,
  async mount(handler) {
    const app = express();
    app.use(express.json({ limit: "10mb" }));
    app.use("/api/inngest", handler);
    const server = await new Promise<Server>((resolve) => {
      const started = app.listen(0, "127.0.0.1", () => resolve(started));
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
