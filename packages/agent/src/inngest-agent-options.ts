import type { Agent, AgentMemoryOption } from "@mastra/core/agent";
import type {
  AgentStepFinishEventData,
  AgentSuspendedEventData,
  DurableAgentStreamOptions,
} from "@mastra/core/agent/durable";
import type { MastraServerCache } from "@mastra/core/cache";
import type { PubSub } from "@mastra/core/events";
import type { Mastra } from "@mastra/core/mastra";
import type { RequestContext } from "@mastra/core/request-context";
import type { ChunkType, MastraOnFinishCallback } from "@mastra/core/stream";
import type { Inngest, InngestFunction } from "inngest";

/** Any Mastra agent, whatever its id, tools and output type. */
// biome-ignore lint/suspicious/noExplicitAny: an agent with any id, tools and output type is accepted
export type AnyAgent = Agent<any, any, any>;

/** The structured output type of an agent: `undefined` for a text agent. */
// biome-ignore lint/suspicious/noExplicitAny: only the output type is read
export type AgentOutput<TAgent extends AnyAgent> = TAgent extends Agent<any, any, infer TOutput> ? TOutput : undefined;

/**
 * Inngest options of the loop function. The loop owns `id`, `triggers`, `cancelOn` and
 * `onFailure`; `batchEvents` would hand the loop several runs at once, which it does not run.
 */
export type InngestAgentFunctionOptions = Omit<
  InngestFunction.Options,
  "id" | "triggers" | "cancelOn" | "onFailure" | "batchEvents"
>;

/** How long a run's keys are kept, in milliseconds. */
export interface RunRetention {
  /** The history of a run in progress, after its last event. */
  activeMs?: number;
  /** The history of a run that ended (finished, failed, aborted), after its end. */
  endedMs?: number;
}

/** Options of `createInngestAgent`. */
export interface CreateInngestAgentOptions<TAgent extends AnyAgent = AnyAgent> {
  /** The Mastra agent whose loop runs on Inngest. */
  agent: TAgent;
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
   * `throttle`, `priority`, `timeouts` (a cancelled run ends as aborted); validated when the agent
   * is created. `rateLimit` is applied by the caller (`RATE_LIMITED` at once, never a skipped run).
   * `debounce`, `singleton`, `idempotency` and `batchEvents` are refused: they drop or merge runs
   * whose caller waits. See docs/flow-control.md.
   * @default { retries: 3 }
   */
  functionOptions?: InngestAgentFunctionOptions;
  /**
   * Runs on the same memory thread execute one at a time (an Inngest concurrency constraint keyed
   * on the thread, limit 1): a second `stream()` on the thread starts when the first ends or waits
   * for a decision. See docs/flow-control.md.
   * @default true
   */
  serializeThreads?: boolean;
  /**
   * How long a run's keys in the cache (its stream history, record, claim and decisions) are
   * kept. The record, claim and decisions always outlive the history, and nothing of a run that
   * waits for a decision expires before its wait can end. See docs/retention.md.
   * @default activeMs: the cache's default TTL (`RedisStreamCache` `ttlSeconds`, `InMemoryStreamCache` `ttlMs`), else one day; endedMs: one hour, at most activeMs
   */
  retention?: RunRetention;
  /**
   * How long a run waits for `resume()` decisions (tool approval, `suspend()`), in milliseconds;
   * then it ends with `RESUME_EXPIRED`. Inngest's plan limit on waits is the ceiling.
   * @default 86_400_000 (one day)
   */
  waitTimeoutMs?: number;
  /**
   * Refuse to start a run without an owner (`memory.resource`, or Mastra's resource key in the
   * request context): every run is then readable by its owner and run tokens only.
   * @default false
   */
  requireOwner?: boolean;
  /**
   * The secret run tokens are signed with (HMAC-SHA256), at least 32 bytes; needed for
   * `createRunToken()` and to accept tokens.
   * @default process.env.MASTRA_INNGEST_RUN_TOKEN_SECRET
   */
  runTokenSecret?: string;
}

/**
 * Who is asking about a run. An owned run (started with a memory resource, or by an authenticated
 * user of Mastra's server) answers its owner, or the bearer of a run token, only.
 */
export interface InngestAgentRunAccessOptions {
  /** The caller's resource (the user). */
  resourceId?: string;
  /** A request context: Mastra's resource key in it (set by Mastra's server from the authenticated user) wins over `resourceId`. */
  requestContext?: RequestContext;
  /** A run token from `createRunToken()`, in place of the owner's identity. */
  token?: string;
}

type CoreStreamOptions<OUTPUT> = DurableAgentStreamOptions<OUTPUT>;

/**
 * The callbacks of a durable stream, with core's argument types. Core awaits what a callback
 * returns and ignores its value, so any return type is accepted (`chunk => chunks.push(chunk)`).
 */
export interface InngestAgentCallbacks<OUTPUT = undefined> {
  /** Called with every chunk, in order. */
  onChunk?: (chunk: ChunkType<OUTPUT>) => unknown;
  /** Called when a step (one LLM call and its tool calls) finishes. */
  onStepFinish?: (result: AgentStepFinishEventData) => unknown;
  /** Called once when the run finishes, with its text, steps, usage and finish reason. */
  onFinish?: (...args: Parameters<MastraOnFinishCallback<OUTPUT>>) => unknown;
  /** Called when the run fails. */
  onError?: (...args: Parameters<NonNullable<CoreStreamOptions<OUTPUT>["onError"]>>) => unknown;
  /** Called when the run waits for a decision (tool approval or `suspend()`). */
  onSuspended?: (data: AgentSuspendedEventData) => unknown;
  /** Called when the run is aborted, with the text of the step it stopped in. */
  onAbort?: (...args: Parameters<NonNullable<CoreStreamOptions<OUTPUT>["onAbort"]>>) => unknown;
}

/** The names of {@link InngestAgentCallbacks}. */
export type InngestAgentCallbackName = keyof InngestAgentCallbacks;

/**
 * The memory of a run: Mastra's `{ thread, resource }`, or the reference's `{ threadId, resourceId }`.
 */
export type InngestAgentMemoryOption =
  | AgentMemoryOption
  | (Omit<AgentMemoryOption, "thread" | "resource"> & {
      /** The memory thread's id. */
      threadId: string;
      /** The memory resource's id (the user, for example). */
      resourceId?: string;
    });

/**
 * Options of `stream()` and `prepare()`: core's durable stream options (themselves
 * `AgentExecutionOptions` of the plain agent), with the reference's memory form beside Mastra's.
 */
export type InngestAgentStreamOptions<OUTPUT = undefined> = Omit<
  CoreStreamOptions<OUTPUT>,
  "_skipBgTaskWait" | "memory" | InngestAgentCallbackName
> &
  InngestAgentCallbacks<OUTPUT> &
  InngestAgentIndexedChunksOption & {
    /**
     * The run's id; generated when absent. A run id already used (within retention) is refused
     * with `RUN_IN_USE`. Must match `^[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}$`.
     */
    runId?: string;
    /** The memory thread and resource of the run. */
    memory?: InngestAgentMemoryOption;
    /**
     * Called at once when the run waits for earlier runs of its memory thread (see
     * `serializeThreads`), with the runs ahead; `stream()` resolves once the run is prepared and sent.
     */
    onQueued?: (queued: { runId: string; threadId: string; ahead: string[] }) => unknown;
  };

/** For clients that reconnect after the last chunk they rendered, such as a browser page. */
export interface InngestAgentIndexedChunksOption {
  /**
   * Each chunk carries `metadata.eventIndex`, the index in the run's history of the event it came
   * from: a client that rendered it continues with `observe(runId, { offset: eventIndex + 1 })`.
   * The stream cache's notices come as chunks too: `data-attempt-superseded` (a retried step's
   * earlier chunks are void: drop what that step delivered; its new attempt's chunks follow),
   * `data-offset-expired` (events before `firstAvailableOffset` are no longer kept) and
   * `data-events-lost` (a Redis failover lost the events at these indices).
   * @default false
   */
  indexedChunks?: boolean;
}

/** Options of `observe()`. */
export interface InngestAgentObserveOptions<OUTPUT = undefined>
  extends InngestAgentCallbacks<OUTPUT>,
    InngestAgentRunAccessOptions,
    InngestAgentIndexedChunksOption {
  /** Where to start: an index, or `'latest'` for the tail; from the beginning when absent. */
  offset?: number | "latest";
}

/** Options of `resume()`. */
export interface InngestAgentResumeOptions<OUTPUT = undefined>
  extends InngestAgentCallbacks<OUTPUT>,
    InngestAgentRunAccessOptions,
    InngestAgentIndexedChunksOption {
  /** Which waiting tool call the decision is for; required when several wait. */
  toolCallId?: string;
  /** The memory thread of the run, as the reference passes it. */
  threadId?: string;
}

/** What a run token may do. Deleting a run is the owner's alone, so no scope grants it. */
export type RunTokenScope = "observe" | "resume" | "abort";

/** Options of `createRunToken()`. */
export interface RunTokenOptions {
  /** What the token allows: `observe`, `resume`, `abort`. */
  scopes: readonly RunTokenScope[];
  /** How long the token holds, in seconds (at most 30 days). */
  expiresIn: number;
  /** The resource the token is issued for: when given, it must be the run's owner (or the run has none). */
  resourceId?: string;
}

/** What Mastra's server passes to an agent's `resumeStream()`, `approveToolCall()` and `declineToolCall()`. */
export interface ServerResumeOptions {
  runId: string;
  toolCallId?: string;
  requestContext?: RequestContext;
  memory?: { resource?: string; thread?: unknown };
  /** The reason of a decline. */
  reason?: string;
}
