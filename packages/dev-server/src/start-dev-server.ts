import { createServer } from "node:http";
import type { Socket } from "node:net";
import { Engine, type StoredEvent } from "./internal/engine.ts";
import type { EngineCounters } from "./internal/engine-counters.ts";
import type { FailRealtimePublishesOptions, FaultInjector, InjectedFault } from "./internal/faults.ts";
import { handleRequest } from "./internal/http-routes.ts";
import { RealtimeHub, type RealtimeStats } from "./internal/realtime-hub.ts";
import { type RunView, toRunView } from "./internal/run-view.ts";
import { isAuthorizedBearer } from "./internal/signing.ts";

/** How the engine calls apps. */
export type ExecutionMode = "checkpoint" | "classic";

/** Options of {@link startDevServer}. */
export interface StartDevServerOptions {
  /**
   * The port to listen on; 0 picks a free one.
   * @default 0
   */
  port?: number;
  /**
   * The interface to listen on.
   * @default "127.0.0.1"
   */
  host?: string;
  /**
   * Signs every call to apps with this key (cloud mode, as Inngest does) and requires it, hashed,
   * as the bearer token of SDK API calls (sync, realtime). Without it the server is in dev mode:
   * nothing is signed and any bearer passes, and apps must run with `isDev: true` or `INNGEST_DEV`.
   */
  signingKey?: string;
  /** A second key accepted from SDKs during a key rotation. */
  signingKeyFallback?: string;
  /**
   * Multiplies every engine delay: sleeps, waitForEvent and cancelOn timeouts, retry backoff,
   * `Retry-After`. `0.001` runs a one-hour sleep in 3.6 seconds.
   * @default 1
   */
  timeScale?: number;
  /**
   * `checkpoint` sends the function id on calls, so the v4 SDK runs steps eagerly in-process and
   * posts checkpoints, as in production; `classic` omits it: one call per step with the memoized
   * state, as the v3 SDK and `checkpointing: false` work.
   * @default "checkpoint"
   */
  mode?: ExecutionMode;
  /**
   * How many runs and events to keep for inspection; the oldest finished ones are dropped beyond it.
   * @default 10000
   */
  retention?: number;
  /**
   * A fixed wait before every retry, in real milliseconds, in place of Inngest's backoff table (as
   * the official dev server's `--retry-interval`); a `Retry-After` from the app still wins.
   * @default the backoff table (15 s, 30 s, 1 min, ...), scaled by `timeScale`
   */
  retryIntervalMs?: number;
}

/** Engine-wide counters, with the realtime counters and the memoized bytes. */
export interface DevServerCounters extends EngineCounters {
  /** Bytes of step state memoized over all runs. */
  memoizedBytes: number;
  /** Realtime publishes, bytes and deliveries, in total and per channel. */
  realtime: RealtimeStats;
}

/** A synced app, for inspection. */
export interface AppView {
  /** The app id. */
  name: string;
  /** Its serve URL. */
  url: string;
  /** The composite ids of its functions. */
  functionIds: string[];
}

/** Options of {@link DevServer.waitForRun}. */
export interface WaitForRunOptions {
  /**
   * How long to wait, in real milliseconds, before rejecting with the run's state.
   * @default 30000
   */
  timeoutMs?: number;
}

/** Fault injection of a {@link DevServer}, for tests. */
export interface DevServerFaults extends Pick<FaultInjector, "crashAfterStep" | "duplicateCalls" | "delayCalls"> {
  /**
   * Closes every Realtime WebSocket now, with code 1012 (service restart) as a restarting server
   * would, and returns how many were open. New subscriptions are accepted as before.
   */
  closeRealtimeConnections(): number;
  /**
   * Makes the next `times` Realtime publishes over HTTP (to `channel` and `topic` when given)
   * answer 500 and deliver nothing, so the SDK's `publish()` throws.
   */
  failRealtimePublishes(options?: FailRealtimePublishesOptions): InjectedFault;
  /** Disarms every fault. */
  clear(): void;
}

/** A running dev server. */
export interface DevServer {
  /** `http://<host>:<port>`: give it to apps as `INNGEST_DEV` or `baseUrl`. */
  readonly url: string;
  /** The port it listens on. */
  readonly port: number;
  /** The execution mode. */
  readonly mode: ExecutionMode;
  /**
   * Fault injection for tests: crash after a step, duplicate calls, delay calls, close the Realtime
   * WebSockets, fail Realtime publishes.
   */
  readonly faults: DevServerFaults;
  /** Syncs an app by its serve URL (the PUT Inngest sends), and resolves once it registered. */
  syncApp(serveUrl: string): Promise<AppView>;
  /** The apps synced so far. */
  apps(): AppView[];
  /** Sends events as `inngest.send()` would; resolves to their ids. */
  send(events: EventInput | EventInput[]): Promise<string[]>;
  /** A run's current state. */
  run(runId: string): RunView | undefined;
  /** Every run kept, oldest first. */
  runs(): RunView[];
  /** The runs an event started. */
  runsForEvent(eventId: string): RunView[];
  /** Resolves once the run has ended (completed, failed or cancelled). */
  waitForRun(runId: string, options?: WaitForRunOptions): Promise<RunView>;
  /** Cancels a run; resolves to false when it had already ended. */
  cancelRun(runId: string): boolean;
  /** The events received, oldest first. */
  events(): StoredEvent[];
  /** A snapshot of the counters. */
  counters(): DevServerCounters;
  /** Stops listening, closes realtime sockets and cancels every timer. */
  close(): Promise<void>;
}

/** An event to send. */
export interface EventInput {
  /** The event name. */
  name: string;
  /** The payload. */
  data?: Record<string, unknown>;
  /** An idempotency key: a second event with the same id starts nothing. */
  id?: string;
}

/**
 * Starts a local engine that the real Inngest SDK talks to as it talks to Inngest: sync, the event
 * API, step execution (checkpointing and classic), retries, sleeps, waits, invoke, cancellation
 * and Realtime. For development, examples and CI; never for production.
 *
 * @example
 * const engine = await startDevServer({ timeScale: 0.001 });
 * const inngest = new Inngest({ id: "my-app", isDev: true, baseUrl: engine.url });
 * await engine.syncApp("http://127.0.0.1:3000/api/inngest");
 * const [eventId] = await engine.send({ name: "app/start", data: {} });
 * const [run] = engine.runsForEvent(eventId);
 * await engine.waitForRun(run.id);
 */
export async function startDevServer(options: StartDevServerOptions = {}): Promise<DevServer> {
  const mode = options.mode ?? "checkpoint";
  if (mode !== "checkpoint" && mode !== "classic") {
    throw new Error(`[@mastra/inngest-dev-server] mode must be "checkpoint" or "classic", got ${JSON.stringify(mode)}`);
  }
  const timeScale = options.timeScale ?? 1;
  if (!Number.isFinite(timeScale) || timeScale < 0) {
    throw new Error(`[@mastra/inngest-dev-server] timeScale must be a non-negative number, got ${timeScale}`);
  }
  const retryIntervalMs = options.retryIntervalMs;
  if (retryIntervalMs !== undefined && (!Number.isFinite(retryIntervalMs) || retryIntervalMs < 0)) {
    throw new Error(
      `[@mastra/inngest-dev-server] retryIntervalMs must be a non-negative number of milliseconds, got ${retryIntervalMs}`,
    );
  }
  const signingKeys = [options.signingKey, options.signingKeyFallback].filter(
    (key): key is string => key !== undefined,
  );
  const engine = new Engine({
    mode,
    signingKey: options.signingKey,
    timeScale,
    retention: options.retention ?? 10_000,
    retryIntervalMs,
  });
  const hub = new RealtimeHub(
    signingKeys.length === 0 ? {} : { isAuthorized: (authorization) => isAuthorizedBearer(authorization, signingKeys) },
  );
  const context = { engine, hub, signingKeys };
  const sockets = new Set<Socket>();
  const server = createServer((request, response) => {
    void handleRequest(context, request, response);
  });
  server.on("connection", (socket) => {
    sockets.add(socket);
    socket.once("close", () => sockets.delete(socket));
  });
  server.on("upgrade", (request, socket, head) => {
    const path = new URL(request.url ?? "/", "http://engine.local").pathname;
    if (path === "/v1/realtime/connect") {
      hub.handleUpgrade(request, socket, head);
    } else {
      socket.destroy();
    }
  });
  const host = options.host ?? "127.0.0.1";
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen({ port: options.port ?? 0, host }, () => resolve());
  });
  const address = server.address();
  const port = typeof address === "object" && address !== null ? address.port : 0;
  const url = `http://${host.includes(":") ? `[${host}]` : host}:${port}`;

  const apps = (): AppView[] =>
    engine.registry.apps().map((app) => ({ name: app.name, url: app.url, functionIds: [...app.functions.keys()] }));

  return {
    url,
    port,
    mode,
    faults: {
      crashAfterStep: (faultOptions) => engine.faults.crashAfterStep(faultOptions),
      duplicateCalls: (faultOptions) => engine.faults.duplicateCalls(faultOptions),
      delayCalls: (faultOptions) => engine.faults.delayCalls(faultOptions),
      closeRealtimeConnections: () => hub.disconnectAll(),
      failRealtimePublishes: (faultOptions) => hub.faults.failPublishes(faultOptions),
      clear: () => {
        engine.faults.clear();
        hub.faults.clear();
      },
    },
    async syncApp(serveUrl) {
      let response: Response;
      try {
        response = await fetch(serveUrl, {
          method: "PUT",
          headers: { "x-inngest-server-kind": signingKeys.length === 0 ? "dev" : "cloud" },
        });
      } catch (error) {
        throw new Error(`[@mastra/inngest-dev-server] could not reach ${serveUrl} to sync it`, { cause: error });
      }
      const text = await response.text();
      if (!response.ok) {
        throw new Error(
          `[@mastra/inngest-dev-server] syncing ${serveUrl} failed with ${response.status}: ${text.slice(0, 500)}`,
        );
      }
      const app = apps().find((candidate) => candidate.url === serveUrl) ?? apps().at(-1);
      if (app === undefined) {
        throw new Error(
          `[@mastra/inngest-dev-server] ${serveUrl} answered the sync but never registered: ${text.slice(0, 500)}`,
        );
      }
      return app;
    },
    apps,
    async send(events) {
      return engine.receive(Array.isArray(events) ? events : [events]);
    },
    run(runId) {
      const run = engine.run(runId);
      return run === undefined ? undefined : toRunView(run);
    },
    runs: () => engine.runs().map(toRunView),
    runsForEvent: (eventId) => engine.runsForEvent(eventId).map(toRunView),
    async waitForRun(runId, waitOptions = {}) {
      const run = engine.run(runId);
      if (run === undefined) {
        throw new Error(`[@mastra/inngest-dev-server] no run with id ${runId}`);
      }
      const timeoutMs = waitOptions.timeoutMs ?? 30_000;
      let timer: ReturnType<typeof setTimeout> | undefined;
      const timeout = new Promise<never>((_resolve, reject) => {
        timer = setTimeout(() => {
          const view = toRunView(run);
          const steps = view.steps.map((step) => `${step.name}#${step.attempt}:${step.outcome}`).join(", ");
          reject(
            new Error(
              `[@mastra/inngest-dev-server] run ${runId} is still ${view.status} after ${timeoutMs} ms (steps: ${steps || "none"})`,
            ),
          );
        }, timeoutMs);
      });
      try {
        await Promise.race([run.finished, timeout]);
      } finally {
        clearTimeout(timer);
      }
      return toRunView(run);
    },
    cancelRun: (runId) => engine.cancel(runId),
    events: () => engine.events(),
    counters: () => ({ ...engine.counters, memoizedBytes: engine.memoizedBytes(), realtime: hub.stats }),
    async close() {
      engine.close();
      await hub.close();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const socket of sockets) {
          socket.destroy();
        }
      });
    },
  };
}
