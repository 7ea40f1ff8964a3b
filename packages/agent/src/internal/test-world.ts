import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { type DevServer, startDevServer } from "@mastra/inngest-dev-server";
import type { Inngest, InngestFunction } from "inngest";
import { serve } from "inngest/node";

/** An engine and an app serving functions on a real port, for this package's tests. */
export interface TestWorld {
  engine: DevServer;
  /** Serves `functions` with `inngest/node` on a free port and syncs them. */
  serve(client: Inngest.Any, functions: InngestFunction.Any[]): Promise<void>;
  close(): Promise<void>;
}

/** Starts the dev server (checkpointing unless told otherwise) for agent tests. Test support only. */
export async function startTestWorld(
  mode: "checkpoint" | "classic" = "checkpoint",
  timeScale = 0.001,
): Promise<TestWorld> {
  const engine = await startDevServer({ mode, timeScale });
  const servers: Server[] = [];
  return {
    engine,
    async serve(client, functions) {
      const handler = serve({ client, functions });
      const server = createServer((request, response) => void handler(request, response));
      await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
      servers.push(server);
      await engine.syncApp(`http://127.0.0.1:${(server.address() as AddressInfo).port}/api/inngest`);
    },
    async close() {
      for (const server of servers) {
        server.closeAllConnections();
        await new Promise<void>((resolve) => server.close(() => resolve()));
      }
      await engine.close();
    },
  };
}
