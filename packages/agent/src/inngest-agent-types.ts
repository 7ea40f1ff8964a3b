import type { Agent } from "@mastra/core/agent";
import type { MessageListInput } from "@mastra/core/agent/message-list";
import type { MastraServerCache } from "@mastra/core/cache";
import type { Mastra } from "@mastra/core/mastra";
import type { InferStandardSchemaOutput, StandardSchemaWithJSON } from "@mastra/core/schema";
import type { ChunkType, FullOutput, MastraModelOutput } from "@mastra/core/stream";
import type { CachingPubSub } from "@mastra/inngest-stream-cache";
import type { Inngest, InngestFunction } from "inngest";
import type {
  AgentOutput,
  AnyAgent,
  InngestAgentObserveOptions,
  InngestAgentResumeOptions,
  InngestAgentRunAccessOptions,
  InngestAgentStreamOptions,
  RunTokenOptions,
  ServerResumeOptions,
} from "./inngest-agent-options.ts";

/** What `stream()`, `observe()` and `resume()` return. */
export interface InngestAgentStreamResult<OUTPUT = undefined> {
  /** The model output, as the plain agent's `stream()` gives it (`text`, `usage`, `finishReason`, ...). */
  output: MastraModelOutput<OUTPUT>;
  /** The stream of chunks. */
  readonly fullStream: ReadableStream<ChunkType<OUTPUT>>;
  /** The run's id. */
  runId: string;
  /** The memory thread, when the run has one. */
  threadId?: string;
  /** The memory resource, when the run has one. */
  resourceId?: string;
  /**
   * Ends this stream early; the run goes on and its history stays (`deleteRun()` deletes it). A
   * stream ends by itself at the run's end and where the run waits for a decision.
   */
  cleanup: () => void;
  /** Aborts the run wherever its steps execute. */
  abort: () => Promise<void>;
}

/** What `prepare()` returns: the run input, without starting the run. */
export interface PrepareResult {
  /** The run's id. */
  runId: string;
  /** The id of the assistant message the run answers in. */
  messageId: string;
  /**
   * Send it as the data of the agent's run event to start the run:
   * `inngest.send({ name: durableAgent.runEventName, data: workflowInput })`.
   */
  workflowInput: Record<string, unknown>;
  /** The memory thread, when the run has one. */
  threadId?: string;
  /** The memory resource, when the run has one. */
  resourceId?: string;
}

/** What `recoverActiveRuns()` returns: Inngest re-drives its runs itself, so nothing is recovered here. */
export interface InngestAgentRecoveryResult {
  /** The runs restarted: always none. */
  recovered: Array<{ runId: string }>;
  /** How many restarted. */
  succeeded: number;
  /** How many failed to restart. */
  failed: number;
}

/** The members a durable agent adds to, or puts in place of, those of the agent it wraps. */
export interface InngestAgentMembers<TAgent extends AnyAgent = AnyAgent> {
  /** The durable agent's id: its key in Mastra, its function id and event names. */
  readonly id: string;
  /** The durable agent's display name. */
  readonly name: string;
  /** The wrapped agent. */
  readonly agent: TAgent;
  /** The Inngest client that serves and triggers the loop function. */
  readonly inngest: Inngest.Any;
  /** The resolved cache. */
  readonly cache: MastraServerCache;
  /**
   * The stream cache over the transport. Reading an owned run's stream topic through it is refused
   * (`RUN_FORBIDDEN`): it carries no caller identity; `observe()` does.
   */
  readonly pubsub: CachingPubSub;
  /**
   * The event that starts a run, `mastra-inngest/agent.<id>.run`; its data is `prepare()`'s
   * `workflowInput`.
   */
  readonly runEventName: string;
  /** Starts a durable run with structured output, its type read from the schema as the plain agent does. */
  // biome-ignore lint/suspicious/noExplicitAny: any standard schema, as the plain agent's stream() takes
  stream<SCHEMA extends StandardSchemaWithJSON<any, any>>(
    messages: MessageListInput,
    options: InngestAgentStreamOptions<InferStandardSchemaOutput<SCHEMA>> & { structuredOutput: { schema: SCHEMA } },
  ): Promise<InngestAgentStreamResult<InferStandardSchemaOutput<SCHEMA>>>;
  /** Starts a durable run and streams it, as the plain agent's `stream()` does. */
  stream<OUTPUT = AgentOutput<TAgent>>(
    messages: MessageListInput,
    options?: InngestAgentStreamOptions<OUTPUT>,
  ): Promise<InngestAgentStreamResult<OUTPUT>>;
  /**
   * `stream(messages, { untilIdle: { maxIdleMs } })`: the idle loop over durable runs, as Mastra's
   * server's `stream-until-idle` route calls it on the agents it serves.
   */
  streamUntilIdle<OUTPUT = AgentOutput<TAgent>>(
    messages: MessageListInput,
    options?: Omit<InngestAgentStreamOptions<OUTPUT>, "untilIdle"> & { maxIdleMs?: number },
  ): Promise<InngestAgentStreamResult<OUTPUT>>;
  /** Streams a run that is already going (or ended), from `offset`, with replay. */
  observe<OUTPUT = AgentOutput<TAgent>>(
    runId: string,
    options?: InngestAgentObserveOptions<OUTPUT>,
  ): Promise<InngestAgentStreamResult<OUTPUT>>;
  /**
   * The run input, without starting the run: it claims the run id (a reused one is `RUN_IN_USE`)
   * and sends nothing. Send `workflowInput` as the data of {@link runEventName} to start the run;
   * with a shared cache, `observe(runId)` streams it from then on.
   *
   * @example
   * const { runId, workflowInput } = await durableAgent.prepare("Summarize the document", {
   *   memory: { thread: "thread-1", resource: "user-1" },
   * });
   * await inngest.send({ name: durableAgent.runEventName, data: workflowInput });
   * const { output } = await durableAgent.observe(runId);
   * console.log(await output.text);
   */
  prepare<OUTPUT = AgentOutput<TAgent>>(
    messages: MessageListInput,
    options?: InngestAgentStreamOptions<OUTPUT>,
  ): Promise<PrepareResult>;
  /** Continues a suspended run (tool approval or `suspend()`) and streams the rest of it. */
  resume<OUTPUT = AgentOutput<TAgent>>(
    runId: string,
    resumeData: unknown,
    options?: InngestAgentResumeOptions<OUTPUT>,
  ): Promise<InngestAgentStreamResult<OUTPUT>>;
  /** Aborts a run wherever its steps execute: its owner, or a token with the `abort` scope. */
  abort(runId: string, options?: InngestAgentRunAccessOptions): Promise<void>;
  /** Deletes a run's history, record and claim: its owner only (or anyone, for a run without owner). */
  deleteRun(runId: string, options?: InngestAgentRunAccessOptions): Promise<void>;
  /**
   * A signed token that lets its bearer do `scopes` (`observe`, `resume`, `abort`) to this one run
   * until it expires (`expiresIn` seconds); needs `runTokenSecret`.
   */
  createRunToken(runId: string, options: RunTokenOptions): Promise<string>;
  /**
   * Mastra's server's `resume-stream` route: `resume(options.runId, resumeData)` with the caller's
   * identity from `options.requestContext`.
   */
  resumeStream(resumeData: unknown, options: ServerResumeOptions): Promise<InngestAgentStreamResult<unknown>>;
  /** Approves a waiting tool call of a run, as `resume(options.runId, { approved: true })`. */
  approveToolCall(options: ServerResumeOptions): Promise<InngestAgentStreamResult<unknown>>;
  /** Declines a waiting tool call of a run, as `resume(options.runId, { approved: false, reason })`. */
  declineToolCall(options: ServerResumeOptions): Promise<InngestAgentStreamResult<unknown>>;
  /** `approveToolCall()`, answered with the whole output once the run ends or waits again. */
  approveToolCallGenerate(options: ServerResumeOptions): Promise<FullOutput<unknown>>;
  /** `declineToolCall()`, answered with the whole output once the run ends or waits again. */
  declineToolCallGenerate(options: ServerResumeOptions): Promise<FullOutput<unknown>>;
  /** The Inngest functions to serve for this agent. */
  getInngestFunctions(): InngestFunction.Any[];
  /** Durable agents on Inngest register no Mastra workflows. */
  getDurableWorkflows(): [];
  /** Sets the Mastra instance (once); Mastra calls it when the agent is registered. */
  __setMastra(mastra: Mastra): void;
  /**
   * What Mastra's `recover` route calls for an orphaned run. Inngest re-drives a run whose process
   * went away by itself, so nothing is re-driven here: this streams the run from its start (its
   * history, then live), with the owner rule of `observe()`. Mastra's route passes no identity, so
   * through it an owned run is refused; the owner observes it instead.
   */
  recover(
    runId: string,
    options?: InngestAgentRunAccessOptions & { abortSignal?: AbortSignal },
  ): Promise<InngestAgentStreamResult<AgentOutput<TAgent>>>;
  /** Inngest recovers its runs itself: nothing to do. */
  recoverActiveRuns(): Promise<InngestAgentRecoveryResult>;
}

/**
 * A Mastra agent whose loop runs as durable Inngest steps: the wrapped agent's members with their
 * own types (`generate`, `listTools`, `getMemory`, `getInstructions`, ...), and the durable
 * members of {@link InngestAgentMembers} in place of the agent's `stream`, `id` and `name`.
 */
export type InngestAgent<TAgent extends AnyAgent = Agent> = Omit<ForwardedAgent<TAgent>, keyof InngestAgentMembers> &
  InngestAgentMembers<TAgent>;

/**
 * The agent whose members are forwarded: `TAgent`, or the plain `Agent` when `TAgent` is `any`-typed
 * (`ReturnType<typeof createInngestAgent>`), whose `any` callbacks would make every concrete
 * durable agent incompatible with it.
 */
type ForwardedAgent<TAgent extends AnyAgent> = 0 extends 1 & AgentOutput<TAgent> ? Agent : TAgent;
