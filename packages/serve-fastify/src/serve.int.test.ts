import type { AddressInfo } from "node:net";
import { createInngestAgent } from "@mastra/inngest-agent";
import { signBody, startDevServer } from "@mastra/inngest-dev-server";
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
    return {
      url: `http://127.0.0.1:${(app.server.address() as AddressInfo).port}/api/inngest`,
      close: async () => {
        app.server.closeAllConnections();
        await app.close();
      },
    };
  },
  startEngine: (options) => startDevServer({ ...options, timeScale: 0.001 }),
  signBody,
});
