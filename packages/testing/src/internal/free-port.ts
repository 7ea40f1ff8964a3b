import { createServer } from "node:net";

/**
 * Asks the kernel for a free TCP port on `host`. The port is released before it is returned, so
 * another process may take it in between; callers that start a server on it retry on a clash.
 */
export async function findFreePort(host = "127.0.0.1"): Promise<number> {
  return await new Promise<number>((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once("error", reject);
    server.listen({ port: 0, host }, () => {
      const address = server.address();
      const port = typeof address === "object" && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}
