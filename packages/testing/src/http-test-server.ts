import { createServer, type RequestListener, type Server } from "node:http";

/** A Node HTTP server a test started on a free port of 127.0.0.1. */
export interface HttpTestServer {
  /** `http://127.0.0.1:<port>`, without a path. */
  readonly origin: string;
  /** The origin and the `path` it was started with, e.g. `http://127.0.0.1:43121/api/inngest`. */
  readonly url: string;
  /** The TCP port. */
  readonly port: number;
  /** The server itself, to add listeners such as `upgrade`. */
  readonly server: Server;
  /** Ends every open connection, keep-alive ones included, and stops listening. */
  close(): Promise<void>;
}

/** Options of {@link startHttpServer} and {@link adoptHttpServer}. */
export interface HttpTestServerOptions {
  /**
   * The path `url` points at: where the handler under test is mounted.
   * @default "/api/inngest"
   */
  path?: string;
}

/** Options of {@link adoptHttpServer}. */
export interface AdoptHttpServerOptions extends HttpTestServerOptions {
  /**
   * Stops the server once its connections are closed, for a framework that owns its server
   * (`() => app.close()` with Fastify).
   * @default closes the Node server
   */
  stop?: () => Promise<void>;
}

/**
 * Starts a Node HTTP server with `listener` on a free port of 127.0.0.1 (port 0, so it cannot
 * clash) and resolves once it listens. A framework app that is a request listener mounts as it is:
 * an Express app, `koa.callback()`, or `getRequestListener(app.fetch)` of `@hono/node-server` for
 * any fetch handler (Hono, a Next.js route).
 *
 * @example
 * const app = express();
 * app.use("/api/inngest", serve({ mastra, inngest }));
 * const server = await startHttpServer(app);
 * await fetch(server.url);
 * await server.close();
 */
export async function startHttpServer(
  listener: RequestListener,
  options: HttpTestServerOptions = {},
): Promise<HttpTestServer> {
  const server = createServer(listener);
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      server.off("error", reject);
      resolve();
    });
  });
  return adoptHttpServer(server, options);
}

/**
 * Wraps a Node HTTP server that already listens, for a framework that starts its own (Fastify's
 * `app.listen()`), in the shape {@link startHttpServer} returns.
 *
 * @example
 * const app = fastify();
 * await app.listen({ port: 0, host: "127.0.0.1" });
 * const server = adoptHttpServer(app.server, { stop: () => app.close() });
 */
export function adoptHttpServer(server: Server, options: AdoptHttpServerOptions = {}): HttpTestServer {
  const address = server.address();
  if (address === null || typeof address === "string") {
    throw new Error("[@mastra/inngest-testing] adoptHttpServer needs a server listening on a TCP port");
  }
  const { port } = address;
  const origin = `http://127.0.0.1:${port}`;
  const stop = options.stop ?? (() => new Promise<void>((resolve) => server.close(() => resolve())));
  return {
    origin,
    url: `${origin}${options.path ?? "/api/inngest"}`,
    port,
    server,
    close: async () => {
      // A keep-alive connection would hold close() open until it times out.
      server.closeAllConnections();
      await stop();
    },
  };
}
