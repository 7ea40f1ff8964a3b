import { createInngestAgent } from "@mastra/inngest-agent";
import { signBody, startDevServer } from "@mastra/inngest-dev-server";
import { startHttpServer } from "@mastra/inngest-testing/helpers";
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
    return await startHttpServer(app);
  },
  startEngine: (options) => startDevServer({ ...options, timeScale: 0.001 }),
  signBody,
});
