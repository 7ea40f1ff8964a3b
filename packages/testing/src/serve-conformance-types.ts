import type { Agent } from "@mastra/core/agent";
import type { Mastra } from "@mastra/core/mastra";

/** An Inngest function as the suite sees it (an SDK `InngestFunction` is one). */
export interface ServeConformanceFunction {
  readonly [Symbol.toStringTag]: "Inngest.Function";
  /** The function id; with the app id as `prefix`, the composite id Inngest registers. */
  id(prefix?: string): string;
}

/** The step tools a function handler receives, as far as the suite uses them. */
export interface ServeConformanceStepTools {
  run(id: string, callback: () => unknown): Promise<unknown>;
}

/** The options the suite gives `createClient`: pass them to `new Inngest(options)`. */
export interface ServeConformanceClientOptions {
  /** The app id. */
  id: string;
  /** `true` against the dev-mode engine, `false` (signatures verified) against the cloud-mode one. */
  isDev: boolean;
  /** Set in cloud mode. */
  signingKey?: string;
  /** Set in cloud mode: a second key the app accepts, as during a key rotation. */
  signingKeyFallback?: string;
  /** Set in cloud mode, where the SDK needs one to send events. */
  eventKey?: string;
  /** The engine's URL. */
  baseUrl: string;
  /** A logger that prints nothing. */
  logger: {
    info(...args: unknown[]): void;
    warn(...args: unknown[]): void;
    error(...args: unknown[]): void;
    debug(...args: unknown[]): void;
  };
}

/** An Inngest client, as far as the suite uses it (an SDK `Inngest` is one). */
export interface ServeConformanceClient {
  readonly [Symbol.toStringTag]: "Inngest.App";
  createFunction(
    options: { id: string; triggers: { event: string }[] },
    handler: (context: { step: ServeConformanceStepTools }) => Promise<unknown>,
  ): ServeConformanceFunction;
}

/** A durable agent, as far as the suite uses it (an `InngestAgent` is one). */
export interface ServeConformanceAgent {
  readonly id: string;
  stream(messages: string): Promise<{ output: { text: PromiseLike<string> }; cleanup(): void }>;
  getInngestFunctions(): readonly ServeConformanceFunction[];
  readonly pubsub?: { close(): Promise<void> };
}

/** An engine the suite started (the dev server is one). */
export interface ServeConformanceEngine {
  /** Its URL, for the event API, the REST API and the app's `baseUrl`. */
  readonly url: string;
  close(): Promise<void>;
}

/** A framework server that `mount` started. */
export interface ServeConformanceServer {
  /** The full URL of the Inngest endpoint, e.g. `http://127.0.0.1:43121/api/inngest`. */
  url: string;
  /** Stops the server and closes its connections. */
  close(): Promise<void>;
}

/** Everything {@link describeServeConformance} runs, given by the caller. */
export interface ServeConformanceSetup<TClient extends ServeConformanceClient, THandler> {
  /** Shown in the suite's title, e.g. `"express"`. */
  name: string;
  /**
   * The framework name the SDK reports (`x-inngest-framework`, `framework` in the signed
   * introspection), e.g. `"express"` or `"nextjs"`; checked when given.
   */
  framework?: string;
  /** Creates an Inngest client: `(options) => new Inngest(options)`. */
  createClient(options: ServeConformanceClientOptions): TClient;
  /** Wraps an agent for durable execution: `createInngestAgent`. */
  createAgent(options: { agent: Agent; inngest: TClient }): ServeConformanceAgent;
  /** The serve function under test, e.g. `serve` of `@mastra/inngest-serve-express`. */
  serve(options: { mastra: Mastra; inngest: TClient; functions: ServeConformanceFunction[] }): THandler;
  /**
   * Starts a real server of the framework on a free port of 127.0.0.1, with `handler` mounted as
   * the framework's documentation says, and resolves to the endpoint's URL and a close function.
   */
  mount(handler: THandler): Promise<ServeConformanceServer>;
  /**
   * Starts an engine: `startDevServer` of `@mastra/inngest-dev-server` with a small `timeScale`.
   * Called twice: without a signing key (dev mode), and with one (cloud mode: the engine signs
   * its calls and checks the SDK's bearer).
   */
  startEngine(options: { signingKey?: string }): Promise<ServeConformanceEngine>;
  /** Signs a request body as the engine does: `signBody` of `@mastra/inngest-dev-server`. */
  signBody(body: string, signingKey: string, nowMs?: number): string;
}
