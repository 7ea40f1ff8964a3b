import { createServer } from "node:net";

/**
 * Asks the kernel for a free TCP port on `host`. The port is released before it is returned, so
 * another process may take it in between; callers that start a server on it retry on a clash.
 * For a server this process starts, `startHttpServer` listens on port 0 instead, which
 * cannot clash; a free port is for a process started later, such as a worker that must come back
 * on the same port after a restart.
 *
 * @example
 * const port = await findFreePort();
 * spawn(process.execPath, ["worker.ts", String(port)]);
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
