import { getRequestListener } from "@hono/node-server";
import { createInngestAgent } from "@mastra/inngest-agent";
import { signBody, startDevServer } from "@mastra/inngest-dev-server";
import { startHttpServer } from "@mastra/inngest-testing/helpers";
import { describeServeConformance } from "@mastra/inngest-testing/serve";
import { Inngest } from "inngest";
import type { NextRequest } from "next/server";
import { serve } from "./serve.ts";

// Next.js itself is not booted: the route's exported GET, POST and PUT are called with the web
// Request of each HTTP request, as the App Router calls them.
describeServeConformance({
  name: "next (App Router)",
  framework: "nextjs",
  createClient: (options) => new Inngest(options),
  createAgent: createInngestAgent,
  serve,
  async mount(handler) {
    const { GET, POST, PUT } = handler;
    const routes: Record<string, typeof GET> = { GET, POST, PUT };
    const fetch = (request: Request): Promise<Response> => {
      const route = routes[request.method];
      if (route === undefined || new URL(request.url).pathname !== "/api/inngest") {
        return Promise.resolve(new Response(null, { status: 404 }));
      }
      return route(request as NextRequest, undefined);
    };
    return await startHttpServer(getRequestListener(fetch, { hostname: "127.0.0.1" }));
  },
  startEngine: (options) => startDevServer({ ...options, timeScale: 0.001 }),
  signBody,
});
