import { serveStatic } from "@hono/node-server/serve-static";
import type { Mastra } from "@mastra/core/mastra";
import type { InngestAgent } from "@mastra/inngest";
import { serve } from "@mastra/inngest/hono";
import { Hono } from "hono";
import type { Inngest } from "inngest";
import { addChatRoutes } from "./chat-routes.ts";
import { addSessionRoutes } from "./session.ts";

/** What the chat app serves. */
export interface ChatAppOptions {
  durable: InngestAgent;
  mastra: Mastra;
  inngest: Inngest.Any;
  /** The built page (see `buildPage()`): `index.html` and its assets. */
  pageDirectory: string;
}

/**
 * The chat app: the page, the sign-in and chat routes, and the agent's Inngest functions at
 * `/api/inngest`, where the engine calls the run's steps.
 *
 * @example
 * const app = createChatApp({ durable, mastra, inngest, pageDirectory: await buildPage(directory) });
 */
export function createChatApp(options: ChatAppOptions): Hono {
  const app = new Hono();
  const handler = serve({ mastra: options.mastra, inngest: options.inngest });
  app.on(["GET", "POST", "PUT"], "/api/inngest", (c) => handler(c));
  addSessionRoutes(app);
  addChatRoutes(app, options.durable);
  app.use("/*", serveStatic({ root: options.pageDirectory }));
  return app;
}
