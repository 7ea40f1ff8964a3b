import type { Agent } from "@mastra/core/agent";
import type { MastraServerCache } from "@mastra/core/cache";
import type { PubSub } from "@mastra/core/events";
import type { Mastra } from "@mastra/core/mastra";
import type { RequestContext } from "@mastra/core/request-context";
import type { MastraModelOutput } from "@mastra/core/stream";
import type { CachingPubSub } from "@mastra/inngest-stream-cache";
import type { Inngest, InngestFunction } from "inngest";

/** Options of `createInngestAgent`. */
export interface CreateInngestAgentOptions {
  /** The Mastra agent whose loop runs on Inngest. */
  // biome-ignore lint/suspicious/noExplicitAny: an agent with any tools and output type is accepted
  agent: Agent<string, any, any>;
  /** The Inngest client that serves and triggers the loop function. */
  inngest: Inngest.Any;
  /**
   * The durable agent's id: its key in Mastra, its function id and event names. Must match
   * `^[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}$`.
   * @default agent.id
   */
  id?: string;
  /**
   * The durable agent's display name.
   * @default agent.name
   */
  name?: string;
  /**
   * The live transport of stream events; wrapped by the stream cache.
   * @default an InngestPubSub on `inngest` (Inngest Realtime)
   */
  pubsub?: PubSub;
  /**
   * The history of stream events and the run records. Share one across processes (Redis) for
   * `observe()` and `resume()` from any process.
   * @default the Mastra instance's cache, else an in-memory cache
   */
  cache?: MastraServerCache;
  /** The Mastra instance; set automatically when the agent is registered with one. */
  mastra?: Mastra;
  /**
   * Inngest options of the loop function: `retries` (default 3), `concurrency` (with `key`),
   * `throttle`, `rateLimit`, `priority`, `idempotency`, `timeouts`, `debounce`, `singleton`.
   */
  functionOptions?: Record<string, unknown>;
  /**
   * How long a run waits for `resume()` decisions (tool approval, `suspend()`), in milliseconds;
   * then it ends with `RESUME_EXPIRED`. Inngest's plan limit on waits is the ceiling.
   * @default 86_400_000 (one day)
   */
  waitTimeoutMs?: number;
}

/** The memory of a run: Mastra's `{ thread, resource }` or the reference's `{ threadId, resourceId }`. */
export type InngestAgentMemoryOption =
  | { thread: string | { id: string }; resource: string; options?: Record<string, unknown> }
  | { threadId: string; resourceId: string; options?: Record<string, unknown> };

/** Options of `stream()`: the plain agent's stream options, plus the run id and abort signal. */
export interface InngestAgentStreamOptions {
  /** The run's id; generated when absent. A run id already used (within retention) is refused with `RUN_IN_USE`. */
  runId?: string;
  instructions?: unknown;
  context?: unknown[];
  memory?: InngestAgentMemoryOption;
  requestContext?: RequestContext;
  maxSteps?: number;
  toolsets?: Record<string, unknown>;
  clientTools?: Record<string, unknown>;
  toolChoice?: unknown;
  modelSettings?: Record<string, unknown>;
  requireToolApproval?: boolean;
  autoResumeSuspendedTools?: boolean;
  toolCallConcurrency?: number;
  includeRawChunks?: boolean;
  maxProcessorRetries?: number;
  /** Keeps `fullStream` open across background-task continuations until the agent is idle (core's semantics); `maxIdleMs` defaults to 5 minutes. */
  untilIdle?: boolean | { maxIdleMs?: number };
  /** Aborts the run wherever its steps execute. */
  abortSignal?: AbortSignal;
  onChunk?: (chunk: unknown) => void | Promise<void>;
  onStepFinish?: (result: unknown) => void | Promise<void>;
  onFinish?: (result: unknown) => void | Promise<void>;
  onError?: (error: unknown) => void | Promise<void>;
  onSuspended?: (data: unknown) => void | Promise<void>;
  [option: string]: unknown;
}

/** What `stream()` and `observe()` return. */
export interface InngestAgentStreamResult {
  /** The model output, as the plain agent's `stream()` gives it (`text`, `usage`, `finishReason`, ...). */
  output: MastraModelOutput<unknown>;
  /** The stream of chunks. */
  fullStream: ReadableStream<unknown>;
  /** The run's id. */
  runId: string;
  /** The memory thread, when the run has one. */
  threadId?: string;
  /** The memory resource, when the run has one. */
  resourceId?: string;
  /** Unsubscribes and releases what this process holds for the run (`observe()`'s also clears its cached events). */
  cleanup: () => void;
  /** Aborts the run wherever its steps execute. */
  abort: () => Promise<void>;
}

/** Options of `observe()`. */
export interface InngestAgentObserveOptions {
  /** Where to start: an index, or `'latest'` for the tail; from the beginning when absent. */
  offset?: number | "latest";
  onChunk?: (chunk: unknown) => void | Promise<void>;
  onStepFinish?: (result: unknown) => void | Promise<void>;
  onFinish?: (result: unknown) => void | Promise<void>;
  onError?: (error: unknown) => void | Promise<void>;
  onSuspended?: (data: unknown) => void | Promise<void>;
}

/** Options of `resume()`. */
export interface InngestAgentResumeOptions extends InngestAgentObserveOptions {
  /** Which waiting tool call the decision is for; required when several wait. */
  toolCallId?: string;
  threadId?: string;
  resourceId?: string;
}

/** What `prepare()` returns: the run input, without starting the run. */
export interface PrepareResult {
  runId: string;
  messageId: string;
  /** Send it as the data of the agent's run event (`mastra-inngest/agent.<id>.run`) to start the run. */
  workflowInput: Record<string, unknown>;
  threadId?: string;
  resourceId?: string;
}

/** A Mastra agent whose loop runs as durable Inngest steps. Other members forward to `agent`. */
export interface InngestAgent {
  readonly id: string;
  readonly name: string;
  // biome-ignore lint/suspicious/noExplicitAny: an agent with any tools and output type is accepted
  readonly agent: Agent<string, any, any>;
  readonly inngest: Inngest.Any;
  /** The resolved cache. */
  readonly cache: MastraServerCache;
  /** The stream cache over the transport. */
  readonly pubsub: CachingPubSub;
  stream(messages: unknown, options?: InngestAgentStreamOptions): Promise<InngestAgentStreamResult>;
  observe(runId: string, options?: InngestAgentObserveOptions): Promise<InngestAgentStreamResult>;
  prepare(messages: unknown, options?: InngestAgentStreamOptions): Promise<PrepareResult>;
  /** Continues a suspended run (tool approval or `suspend()`). */
  resume(runId: string, resumeData: unknown, options?: InngestAgentResumeOptions): Promise<InngestAgentStreamResult>;
  /** The Inngest functions to serve for this agent. */
  getInngestFunctions(): InngestFunction.Any[];
  /** The event that starts a run; its data is `prepare()`'s `workflowInput`. */
  readonly runEventName: string;
  [member: string]: unknown;
}
