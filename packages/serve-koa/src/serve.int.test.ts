import { bodyParser } from "@koa/bodyparser";
import { createInngestAgent } from "@mastra/inngest-agent";
import { signBody, startDevServer } from "@mastra/inngest-dev-server";
import { startHttpServer } from "@mastra/inngest-testing/helpers";
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
    return await startHttpServer(app.callback());
  },
  startEngine: (options) => startDevServer({ ...options, timeScale: 0.001 }),
  signBody,
});
