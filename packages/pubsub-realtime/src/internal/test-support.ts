import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { DevServer } from "@mastra/inngest-dev-server";
import type { Inngest, InngestFunction } from "inngest";
import { serve } from "inngest/node";

/** A logger that keeps what it is given, for assertions; test support only. */
export interface RecordingLogger {
  warn(message: string, ...details: unknown[]): void;
  error(message: string, ...details: unknown[]): void;
  readonly warnings: string[];
  readonly errors: string[];
}

/** Creates a {@link RecordingLogger}. */
export function recordingLogger(): RecordingLogger {
  const warnings: string[] = [];
  const errors: string[] = [];
  return {
    warnings,
    errors,
    warn: (message) => warnings.push(message),
    error: (message) => errors.push(message),
  };
}

/** The SDK's logger, silenced. */
export const silentSdkLogger: { info(): void; warn(): void; error(): void; debug(): void } = {
  info() {},
  warn() {},
  error() {},
  debug() {},
};

/** Serves Inngest functions with the SDK's Node handler on a free port and syncs them to the engine. */
export async function serveFunctions(
  engine: DevServer,
  client: Inngest.Any,
  functions: InngestFunction.Any[],
): Promise<{ close(): Promise<void> }> {
  const handler = serve({ client, functions });
  const server: Server = createServer((request, response) => void handler(request, response));
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
  await engine.syncApp(`http://127.0.0.1:${(server.address() as AddressInfo).port}/api/inngest`);
  return {
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** Starts a run by sending its event and returns the run's id. */
export async function startRun(engine: DevServer, name: string, data: Record<string, unknown>): Promise<string> {
  const [eventId] = await engine.send({ name, data });
  const runId = engine.runsForEvent(eventId ?? "")[0]?.id;
  if (runId === undefined) {
    throw new Error(`no run started for ${name}`);
  }
  return runId;
}

/** Polls `condition` every 5 ms until it holds, or throws after `timeoutMs`. */
export async function until(condition: () => boolean, timeoutMs = 10_000, what = "condition"): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) {
      throw new Error(`${what} not met within ${timeoutMs} ms`);
    }
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}
