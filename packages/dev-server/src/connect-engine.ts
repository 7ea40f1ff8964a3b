import { type DevServer, type EventInput, type StartDevServerOptions, startDevServer } from "./start-dev-server.ts";

/** A run as Inngest's REST API describes it (`GET /v1/runs/:id`). */
export interface RestRun {
  run_id: string;
  function_id?: string;
  status: string;
  output?: unknown;
  event_id?: string;
  run_started_at?: string;
  ended_at?: string | null;
}

/** An engine to run tests against: this package's dev server, or one named by the environment. */
export interface EngineConnection {
  /** The engine's URL: give it to apps as `INNGEST_DEV` or `baseUrl`. */
  readonly url: string;
  /** Whether the engine came from the environment (then `devServer` is absent). */
  readonly external: boolean;
  /** The local dev server, for inspection and fault injection, when one was started. */
  readonly devServer: DevServer | undefined;
  /** Syncs an app by its serve URL. */
  syncApp(serveUrl: string): Promise<void>;
  /** Sends events through the event API; resolves to their ids. */
  send(events: EventInput | EventInput[]): Promise<string[]>;
  /** The runs an event started, through the REST API. */
  runsForEvent(eventId: string): Promise<RestRun[]>;
  /** Polls the REST API until the run has ended. */
  waitForRun(runId: string, options?: { timeoutMs?: number }): Promise<RestRun>;
  /** Stops the local dev server; an external engine is left running. */
  close(): Promise<void>;
}

/** Options of {@link connectEngine}. */
export interface ConnectEngineOptions extends StartDevServerOptions {
  /**
   * Where to look for an engine URL (`INNGEST_BASE_URL`).
   * @default process.env
   */
  environment?: Record<string, string | undefined>;
}

const endedStatuses = new Set(["Completed", "Failed", "Cancelled"]);

/**
 * Connects tests to an engine: the one at `INNGEST_BASE_URL` when it is set (for example the
 * official Inngest dev server, wherever it can be installed), otherwise a new local dev server.
 * Everything goes through the HTTP APIs both engines share, so the same test runs on either.
 *
 * @example
 * const engine = await connectEngine({ timeScale: 0.001 });
 * const inngest = new Inngest({ id: "app", isDev: true, baseUrl: engine.url });
 */
export async function connectEngine(options: ConnectEngineOptions = {}): Promise<EngineConnection> {
  const { environment = process.env, ...serverOptions } = options;
  const externalUrl = environment.INNGEST_BASE_URL;
  const devServer = externalUrl === undefined || externalUrl === "" ? await startDevServer(serverOptions) : undefined;
  const url = (devServer?.url ?? externalUrl ?? "").replace(/\/+$/, "");

  const getJson = async (path: string): Promise<{ status: number; body: { data?: unknown } }> => {
    const response = await fetch(`${url}${path}`);
    return { status: response.status, body: (await response.json().catch(() => ({}))) as { data?: unknown } };
  };

  return {
    url,
    external: devServer === undefined,
    devServer,
    async syncApp(serveUrl) {
      if (devServer !== undefined) {
        await devServer.syncApp(serveUrl);
        return;
      }
      const response = await fetch(serveUrl, { method: "PUT" });
      if (!response.ok) {
        throw new Error(
          `[@mastra/inngest-dev-server] syncing ${serveUrl} failed with ${response.status}: ${await response.text()}`,
        );
      }
    },
    async send(events) {
      const response = await fetch(`${url}/e/NO_EVENT_KEY_SET`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(Array.isArray(events) ? events : [events]),
      });
      const body = (await response.json()) as { ids?: string[]; error?: string };
      if (!response.ok) {
        throw new Error(
          `[@mastra/inngest-dev-server] sending events failed with ${response.status}: ${body.error ?? ""}`,
        );
      }
      return body.ids ?? [];
    },
    async runsForEvent(eventId) {
      const { body } = await getJson(`/v1/events/${encodeURIComponent(eventId)}/runs`);
      return Array.isArray(body.data) ? (body.data as RestRun[]) : [];
    },
    async waitForRun(runId, waitOptions = {}) {
      const deadline = Date.now() + (waitOptions.timeoutMs ?? 30_000);
      let last: RestRun | undefined;
      while (Date.now() < deadline) {
        const { status, body } = await getJson(`/v1/runs/${encodeURIComponent(runId)}`);
        if (status === 200 && body.data !== undefined) {
          last = body.data as RestRun;
          if (endedStatuses.has(last.status)) {
            return last;
          }
        }
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      throw new Error(
        `[@mastra/inngest-dev-server] run ${runId} did not end in time (last status: ${last?.status ?? "unknown"})`,
      );
    },
    async close() {
      await devServer?.close();
    },
  };
}
