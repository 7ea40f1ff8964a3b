import { createInngestAgent } from "@mastra/inngest-agent";
import { signBody, startDevServer } from "@mastra/inngest-dev-server";
import { adoptHttpServer } from "@mastra/inngest-testing/helpers";
import { describeServeConformance } from "@mastra/inngest-testing/serve";
import { fastify } from "fastify";
import { Inngest } from "inngest";
import { serve } from "./serve.ts";

describeServeConformance({
  name: "fastify",
  framework: "fastify",
  createClient: (options) => new Inngest(options),
  createAgent: createInngestAgent,
  serve,
  async mount(handler) {
    const app = fastify();
    app.route({ method: ["GET", "POST", "PUT"], url: "/api/inngest", handler });
    await app.listen({ port: 0, host: "127.0.0.1" });
    return adoptHttpServer(app.server, { stop: () => app.close() });
  },
  startEngine: (options) => startDevServer({ ...options, timeScale: 0.001 }),
  signBody,
});
