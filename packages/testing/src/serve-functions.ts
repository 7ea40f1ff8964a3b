import type { RequestListener } from "node:http";
import { type HttpTestServer, type HttpTestServerOptions, startHttpServer } from "./http-test-server.ts";

/**
 * An engine that syncs an app from its serve URL, such as the dev server of
 * `@mastra/inngest-dev-server`. Against another engine, sync as Inngest does: a PUT to the serve URL.
 */
export interface AppSyncer {
  /** Syncs the app served at `serveUrl`; rejects when it does not register. */
  syncApp(serveUrl: string): Promise<unknown>;
}

/**
 * Serves Inngest functions on a free port of 127.0.0.1 and syncs them with `engine`. `handler` is
 * the SDK's Node handler, `serve({ client, functions })` of `inngest/node` (v3 or v4). The server
 * is closed again when the sync fails.
 *
 * @example
 * import { startDevServer } from "@mastra/inngest-dev-server";
 * import { serveFunctions } from "@mastra/inngest-testing/helpers";
 * import { serve } from "inngest/node";
 *
 * const engine = await startDevServer();
 * const app = await serveFunctions(engine, serve({ client: inngest, functions: [fn] }));
 * await engine.send({ name: "app/start", data: {} });
 * await app.close();
 */
export async function serveFunctions(
  engine: AppSyncer,
  handler: RequestListener,
  options: HttpTestServerOptions = {},
): Promise<HttpTestServer> {
  const server = await startHttpServer(handler, options);
  try {
    await engine.syncApp(server.url);
  } catch (error) {
    await server.close();
    throw error;
  }
  return server;
}
