import { afterAll, beforeAll } from "vitest";
import { type ApprovalWorld, startApprovalWorld } from "./approval-world.ts";

/**
 * Starts the approval world before the tests of the enclosing `describe` and closes it after
 * them; the members read the world once it started.
 */
export function useApprovalWorld(appId: string): ApprovalWorld {
  let started: ApprovalWorld | undefined;
  beforeAll(async () => {
    started = await startApprovalWorld(appId);
  });
  afterAll(async () => {
    await started?.close();
  });
  const current = (): ApprovalWorld => {
    if (started === undefined) {
      throw new Error("the approval world is used before it started");
    }
    return started;
  };
  return {
    get world() {
      return current().world;
    },
    get agents() {
      return current().agents;
    },
    get lossyCache() {
      return current().lossyCache;
    },
    engineRun: (runId) => current().engineRun(runId),
    close: () => current().close(),
  };
}
