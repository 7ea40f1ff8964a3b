import { type DevServer, startDevServer } from "@mastra/inngest-dev-server";
import { type HttpTestServer, serveFunctions } from "@mastra/inngest-testing/helpers";
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
  const servers: HttpTestServer[] = [];
  return {
    engine,
    async serve(client, functions) {
      servers.push(await serveFunctions(engine, serve({ client, functions })));
    },
    async close() {
      for (const server of servers) {
        await server.close();
      }
      await engine.close();
    },
  };
}
