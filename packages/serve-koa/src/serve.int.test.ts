import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { bodyParser } from "@koa/bodyparser";
import { createInngestAgent } from "@mastra/inngest-agent";
import { signBody, startDevServer } from "@mastra/inngest-dev-server";
import { describeServeConformance } from "@mastra/inngest-testing/serve";
import { Inngest } from "inngest";
import Koa from "koa";
import { serve } from "./serve.ts";

describeServeConformance({
  name: "koa",
  framework: "koa",
  createClient: (options) => new Inngest(options),
  createAgent: createInngestAgent,
  serve,
  async mount(handler) {
    const app = new Koa();
    app.use(bodyParser({ jsonLimit: "10mb" }));
    app.use((ctx, next) => (ctx.path === "/api/inngest" ? handler(ctx) : next()));
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
