import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { serve as listen } from "@hono/node-server";
import { createChatApp } from "./app.ts";
import { createDurableSupport, type DurableSupportOptions } from "./durable-support.ts";

/** Options of {@link startChatServer}. */
export interface ChatServerOptions extends DurableSupportOptions {
  /** The built page (see `buildPage()`). */
  pageDirectory: string;
  /** @default 0 (a free port) */
  port?: number;
  /** @default "127.0.0.1" */
  host?: string;
}

/** A running chat server. */
export interface ChatServer {
  /** The page's URL. */
  url: string;
  /** The Inngest endpoint, to sync with the engine. */
  serveUrl: string;
  /** A label for the agent's model. */
  model: string;
  /** Closes the server, its open connections and the agent's connections. */
  close(): Promise<void>;
}

/**
 * Starts the chat app on a port: the page, the chat routes and the agent's Inngest functions.
 *
 * @example
 * const server = await startChatServer({ engineUrl: engine.url, pageDirectory });
 * await engine.syncApp(server.serveUrl);
 */
export async function startChatServer(options: ChatServerOptions): Promise<ChatServer> {
  const support = createDurableSupport(options);
  const app = createChatApp({ ...support, pageDirectory: options.pageDirectory });
  const host = options.host ?? "127.0.0.1";
  const server = await new Promise<Server>((resolve, reject) => {
    const started = listen({ fetch: app.fetch, port: options.port ?? 0, hostname: host }, () =>
      resolve(started as Server),
    );
    (started as Server).once("error", reject);
  });
  const url = `http://${host}:${(server.address() as AddressInfo).port}`;
  return {
    url,
    serveUrl: `${url}/api/inngest`,
    model: support.model,
    async close() {
      await new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      });
      await support.close();
    },
  };
}
