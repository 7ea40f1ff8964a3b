import type { DevServer } from "@mastra/inngest-dev-server";

/** Starts a run by sending its event and returns the run's id. Test support only. */
export async function startRun(engine: DevServer, name: string, data: Record<string, unknown>): Promise<string> {
  const [eventId] = await engine.send({ name, data });
  const runId = engine.runsForEvent(eventId ?? "")[0]?.id;
  if (runId === undefined) {
    throw new Error(`no run started for ${name}`);
  }
  return runId;
}
