import type { MastraClient } from "@mastra/client-js";
import { afterAll, beforeAll } from "vitest";
import { type ServedBank, serveBank } from "./served-bank.ts";

/** The served agents of one test file and a client per caller. */
export interface ClientWorld {
  /** Mastra's server with auth and `callerIdentityMiddleware()`, in front of the agents. */
  served: ServedBank;
  /** Signed in as user-a, who starts the runs. */
  owner: MastraClient;
  /** Signed in as user-b. */
  other: MastraClient;
  /** Signed in as no one. */
  anonymous: MastraClient;
}

/**
 * Serves the agents for the tests of one file (started before them, closed after them): one
 * served app per file keeps the files quick. Read the fields inside the tests.
 */
export function useClientWorld(): ClientWorld {
  const world = {} as ClientWorld;
  beforeAll(async () => {
    world.served = await serveBank({ auth: true, callerIdentity: true });
    world.owner = world.served.client("user-a");
    world.other = world.served.client("user-b");
    world.anonymous = world.served.client();
  });
  afterAll(async () => {
    await world.served?.close();
  });
  return world;
}
