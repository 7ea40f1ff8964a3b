import { randomUUID } from "node:crypto";
import {
  createDurableAgentStream,
  type DurableAgenticWorkflowInput,
  globalRunRegistry,
  prepareForDurableExecution,
  publishAbortRequest,
} from "@mastra/core/agent/durable";
import type { MastraServerCache } from "@mastra/core/cache";
import type { Mastra } from "@mastra/core/mastra";
import type { MastraModelOutput } from "@mastra/core/stream";
import { assertValidId, ErrorCode, MastraInngestError, streamTopic } from "@mastra/inngest-core";
import { InngestPubSub } from "@mastra/inngest-pubsub-realtime";
import { CachingPubSub, InMemoryStreamCache } from "@mastra/inngest-stream-cache";
import type { InngestFunction } from "inngest";
import type {
  CreateInngestAgentOptions,
  InngestAgent,
  InngestAgentObserveOptions,
  InngestAgentResumeOptions,
  InngestAgentStreamOptions,
  InngestAgentStreamResult,
  PrepareResult,
} from "./inngest-agent-types.ts";
import { cancelEventName, resumeEventName, runEventName } from "./internal/agent-events.ts";
import { callerOnlyOptions } from "./internal/caller-only-options.ts";
import { callerOwnedRuns } from "./internal/caller-runs.ts";
import { createLoopFunction } from "./internal/loop-function.ts";
import { RunRecords } from "./internal/run-records.ts";
import { streamUntilIdle } from "./internal/until-idle.ts";

const packageName = "@mastra/inngest-agent";
/** When `resume()` sends its event again while the decided call still waits, in milliseconds. */
const resumeResendDelaysMs = [1_000, 5_000, 30_000];
const marker: unique symbol = Symbol.for("@mastra/inngest.agent");

/**
 * Wraps a Mastra `Agent` so its agentic loop runs as durable steps on Inngest: `stream()` answers
 * as the plain agent's does while each LLM call, tool call and mapping runs as its own Inngest
 * step, on any worker; `observe()` reconnects with replay. Every member the reference does not
 * list (`generate()`, `listTools()`, `getMemory()`, ...) is the wrapped agent's.
 *
 * @example
 * const durableAgent = createInngestAgent({ agent, inngest });
 * const mastra = new Mastra({ agents: { durableAgent } });
 * const { output } = await durableAgent.stream("Hello!");
 * console.log(await output.text);
 */
export function createInngestAgent(options: CreateInngestAgentOptions): InngestAgent {
  const { agent, inngest } = options;
  if (agent === undefined || agent === null || typeof (agent as { stream?: unknown }).stream !== "function") {
    throw new MastraInngestError(`[${packageName}] agent must be a Mastra Agent`, { code: ErrorCode.INVALID_OPTION });
  }
  if (
    inngest === undefined ||
    inngest === null ||
    typeof (inngest as { createFunction?: unknown }).createFunction !== "function"
  ) {
    throw new MastraInngestError(`[${packageName}] inngest must be an Inngest client`, {
      code: ErrorCode.INVALID_OPTION,
    });
  }
  const id = assertValidId("id", options.id ?? agent.id, packageName);
  const name = options.name ?? agent.name ?? id;
  let mastra: Mastra | undefined = options.mastra;
  let cache: MastraServerCache | undefined;
  let pubsub: CachingPubSub | undefined;
  let functions: InngestFunction.Any[] | undefined;

  const resolveCache = (): MastraServerCache => {
    cache ??=
      options.cache ??
      (mastra as { getServerCache?: () => MastraServerCache } | undefined)?.getServerCache?.() ??
      new InMemoryStreamCache();
    return cache;
  };
  const resolvePubSub = (): CachingPubSub => {
    pubsub ??= new CachingPubSub(options.pubsub ?? new InngestPubSub(inngest as never), resolveCache());
    return pubsub;
  };
  const records = new RunRecords(resolveCache);

  const openStream = async (
    runId: string,
    settings: {
      messageId: string;
      model: { modelId?: string; provider?: string };
      threadId?: string | undefined;
      resourceId?: string | undefined;
      offset?: number | "latest" | undefined;
      callbacks: InngestAgentObserveOptions;
      extras?: Record<string, unknown>;
      onEnd?: () => void;
    },
  ) => {
    const { callbacks } = settings;
    // Once the stream ended (finish, error or abort) nothing more arrives on the topic: the
    // subscription goes, whether or not the caller ever calls cleanup(). On the next turn of the
    // event loop: core closes the stream after the abort callback, and its cleanup() drops the
    // controller it closes. By then `stream` is assigned: events arrive after it returned.
    let stream: { output: MastraModelOutput<unknown>; cleanup: () => void; ready: Promise<void> } | undefined;
    const end = (): void => {
      setImmediate(() => stream?.cleanup());
      settings.onEnd?.();
    };
    stream = createDurableAgentStream({
      pubsub: resolvePubSub(),
      runId,
      messageId: settings.messageId,
      model: { ...settings.model, version: "v3" },
      ...(settings.threadId === undefined ? {} : { threadId: settings.threadId }),
      ...(settings.resourceId === undefined ? {} : { resourceId: settings.resourceId }),
      ...(settings.offset === undefined ? {} : { offset: settings.offset as number }),
      onChunk: callbacks.onChunk,
      onStepFinish: callbacks.onStepFinish,
      onFinish: async (result: unknown) => {
        await callbacks.onFinish?.(result);
        end();
      },
      onError: async (error: unknown) => {
        await callbacks.onError?.(error);
        end();
      },
      onSuspended: callbacks.onSuspended,
      onAbort: async () => end(),
      ...settings.extras,
    } as never) as { output: MastraModelOutput<unknown>; cleanup: () => void; ready: Promise<void> };
    await stream.ready;
    return stream;
  };

  const abortRun = async (runId: string): Promise<void> => {
    const transport = resolvePubSub();
    await publishAbortRequest(transport, runId);
    await inngest.send({ name: cancelEventName(id), data: { runId } });
    // The run may be cancelled before any step sees the request: end the stream here too.
    await transport.publish(streamTopic(runId), {
      type: "abort",
      runId,
      data: { steps: [] },
      producer: { stepId: "abort", attempt: 0, sequence: 0 },
    } as never);
    await transport.flush();
    await records.write(runId, id, "aborted");
  };

  const prepareRun = async (messages: unknown, streamOptions: InngestAgentStreamOptions, runId: string) => {
    const prepared = await prepareForDurableExecution({
      agent,
      messages: messages as never,
      options: normalizeOptions(streamOptions) as never,
      runId,
      ...(streamOptions.requestContext === undefined ? {} : { requestContext: streamOptions.requestContext }),
      ...(mastra === undefined ? {} : { mastra }),
      durableAgentId: id,
      durableAgentName: name,
    });
    const input = prepared.workflowInput as DurableAgenticWorkflowInput & {
      callerOnlyOptions?: string[];
      tripwire?: unknown;
    };
    input.agentId = id;
    // An input processor's tripwire is decided here, in the caller; a worker in another process has
    // no registry entry to find it in, so it travels with the input.
    const tripwire = (prepared.registryEntry as { tripwire?: unknown }).tripwire;
    if (tripwire !== undefined) {
      input.tripwire = tripwire;
    }
    input.agentName = name;
    input.stepIndex = 0;
    const closures = callerOnlyOptions(streamOptions);
    if (closures.length > 0) {
      input.callerOnlyOptions = closures;
    }
    return prepared;
  };

  /** Starts one durable run and streams it: `stream()` without `untilIdle`, and each run of the idle loop. */
  const startRun = async (
    messages: unknown,
    streamOptions: InngestAgentStreamOptions,
  ): Promise<InngestAgentStreamResult> => {
    const runId =
      streamOptions.runId === undefined ? randomUUID() : assertValidId("runId", streamOptions.runId, packageName);
    if (!(await records.claim(runId))) {
      throw new MastraInngestError(`[${packageName}] runId ${runId} is already used by another run; pass a new runId`, {
        code: ErrorCode.RUN_IN_USE,
      });
    }
    const prepared = await prepareRun(messages, streamOptions, runId);
    const { messageId, workflowInput, registryEntry, messageList, threadId, resourceId } = prepared;
    const abortController = new AbortController();
    const entry = registryEntry as unknown as Record<string, unknown>;
    entry.abortController = abortController;
    entry.abortSignal = abortController.signal;
    globalRunRegistry.set(runId, { ...registryEntry, messageList } as never);
    callerOwnedRuns.add(runId);
    let released = false;
    let ended = false;
    const release = (): void => {
      if (!released) {
        released = true;
        callerOwnedRuns.delete(runId);
        globalRunRegistry.delete(runId);
      }
    };
    // A run that ended stays as it ended: aborting it later (the idle loop aborts every run it
    // started) must not rewrite its record or append to its history.
    const abort = async (): Promise<void> => {
      if (!ended) {
        await abortRun(runId);
      }
    };
    const onAbortSignal = (): void => void abort();
    const end = (): void => {
      ended = true;
      streamOptions.abortSignal?.removeEventListener("abort", onAbortSignal);
      release();
    };
    const stream = await openStream(runId, {
      messageId,
      model: { modelId: workflowInput.modelConfig?.modelId, provider: workflowInput.modelConfig?.provider },
      threadId,
      resourceId,
      callbacks: streamOptions,
      onEnd: end,
      extras: {
        structuredOutput: entry.structuredOutput,
        outputProcessors: entry.outputProcessors,
        requestContext: entry.requestContext,
        messageList,
      },
    });
    await inngest.send({
      id: runId,
      name: runEventName(id),
      data: workflowInput as unknown as Record<string, unknown>,
    });
    streamOptions.abortSignal?.addEventListener("abort", onAbortSignal, { once: true });
    return {
      output: stream.output,
      fullStream: stream.output.fullStream as ReadableStream<unknown>,
      runId,
      ...(threadId === undefined ? {} : { threadId }),
      ...(resourceId === undefined ? {} : { resourceId }),
      cleanup: () => {
        stream.cleanup();
        release();
      },
      abort,
    };
  };
  const idleStreams = new Map<string, () => void>();

  const target = {
    id,
    name,
    agent,
    inngest,
    runEventName: runEventName(id),
    get cache(): MastraServerCache {
      return resolveCache();
    },
    get pubsub(): CachingPubSub {
      return resolvePubSub();
    },

    async stream(messages: unknown, streamOptions: InngestAgentStreamOptions = {}): Promise<InngestAgentStreamResult> {
      assertMessages(messages);
      if (streamOptions.untilIdle !== undefined && streamOptions.untilIdle !== false) {
        const host = { id, agent, mastra, activeStreams: idleStreams, startRun };
        return streamUntilIdle(host, messages, normalizeMemory(streamOptions));
      }
      return startRun(messages, streamOptions);
    },

    async observe(runId: string, observeOptions: InngestAgentObserveOptions = {}): Promise<InngestAgentStreamResult> {
      assertValidId("runId", runId, packageName);
      if (!(await records.exists(runId))) {
        throw new MastraInngestError(
          `[${packageName}] no run ${runId} is known to the cache (never started, or expired)`,
          {
            code: ErrorCode.RUN_NOT_FOUND,
          },
        );
      }
      const transport = resolvePubSub();
      const streamsHere = callerOwnedRuns.has(runId) || (await transport.getHistory(streamTopic(runId))).length > 0;
      if (!transport.crossProcess && !streamsHere) {
        throw new MastraInngestError(
          `[${packageName}] run ${runId} did not stream through this process, and the cache is not shared across processes: configure a shared cache (such as RedisStreamCache) to observe it here`,
          { code: ErrorCode.SHARED_CACHE_REQUIRED },
        );
      }
      const stream = await openStream(runId, {
        messageId: randomUUID(),
        model: {},
        offset: observeOptions.offset,
        callbacks: observeOptions,
      });
      return {
        output: stream.output,
        fullStream: stream.output.fullStream as ReadableStream<unknown>,
        runId,
        cleanup: () => {
          stream.cleanup();
          void transport.clearTopic(streamTopic(runId));
        },
        abort: () => abortRun(runId),
      };
    },

    async prepare(messages: unknown, prepareOptions: InngestAgentStreamOptions = {}): Promise<PrepareResult> {
      assertMessages(messages);
      const runId =
        prepareOptions.runId === undefined ? randomUUID() : assertValidId("runId", prepareOptions.runId, packageName);
      const prepared = await prepareRun(messages, prepareOptions, runId);
      // prepare() starts nothing: the worker rebuilds everything from the input.
      globalRunRegistry.delete(runId);
      return {
        runId,
        messageId: prepared.messageId,
        workflowInput: prepared.workflowInput as unknown as Record<string, unknown>,
        ...(prepared.threadId === undefined ? {} : { threadId: prepared.threadId }),
        ...(prepared.resourceId === undefined ? {} : { resourceId: prepared.resourceId }),
      };
    },

    async resume(
      runId: string,
      resumeData: unknown,
      resumeOptions: InngestAgentResumeOptions = {},
    ): Promise<InngestAgentStreamResult> {
      assertValidId("runId", runId, packageName);
      const record = await records.read(runId);
      if (record === undefined) {
        throw new MastraInngestError(
          `[${packageName}] no run ${runId} is known to the cache (never started, or expired)`,
          {
            code: ErrorCode.RUN_NOT_FOUND,
          },
        );
      }
      if (record.error?.name === "RESUME_EXPIRED") {
        throw new MastraInngestError(
          `[${packageName}] run ${runId} stopped waiting for a decision: ${record.error.message}`,
          {
            code: ErrorCode.RESUME_EXPIRED,
          },
        );
      }
      if (record.status !== "suspended") {
        throw new MastraInngestError(
          `[${packageName}] run ${runId} is ${record.status}, not suspended; there is nothing to resume`,
          {
            code: ErrorCode.RUN_NOT_SUSPENDED,
          },
        );
      }
      const pending = record.pendingResumes;
      let target = pending[0];
      if (resumeOptions.toolCallId !== undefined) {
        target = pending.find((entry) => entry.toolCallId === resumeOptions.toolCallId);
        if (target === undefined) {
          throw new MastraInngestError(
            `[${packageName}] tool call ${JSON.stringify(resumeOptions.toolCallId)} of run ${runId} is not waiting for a decision; waiting: ${pending.map((entry) => entry.toolCallId).join(", ") || "none"}`,
            { code: ErrorCode.NO_PENDING_RESUME },
          );
        }
      } else if (pending.length > 1) {
        throw new MastraInngestError(
          `[${packageName}] run ${runId} waits for ${pending.length} decisions; pass toolCallId (one of ${pending.map((entry) => entry.toolCallId).join(", ")})`,
          { code: ErrorCode.AMBIGUOUS_RESUME },
        );
      }
      if (target === undefined) {
        throw new MastraInngestError(`[${packageName}] run ${runId} is suspended but waits for no decision`, {
          code: ErrorCode.NO_PENDING_RESUME,
        });
      }
      const transport = resolvePubSub();
      // The same rule as observe(): a cache that is not shared knows the runs this process streamed.
      const history = await transport.getHistory(streamTopic(runId));
      if (!transport.crossProcess && history.length === 0 && !callerOwnedRuns.has(runId)) {
        throw new MastraInngestError(
          `[${packageName}] run ${runId} did not stream through this process, and the cache is not shared across processes: configure a shared cache (such as RedisStreamCache) to resume it here`,
          { code: ErrorCode.SHARED_CACHE_REQUIRED },
        );
      }
      // The decision is recorded (and claimed, in the same step) before the run is signalled: the
      // run reads recorded decisions before and after each wait, so it applies this one exactly once.
      const decision = { resumeData, recordedAt: new Date().toISOString(), resumeId: randomUUID() };
      if (!(await records.recordDecision(runId, target, decision))) {
        throw new MastraInngestError(
          `[${packageName}] tool call ${target.toolCallId} of run ${runId} was already resumed`,
          {
            code: ErrorCode.DUPLICATE_RESUME,
          },
        );
      }
      const offset = (history.at(-1)?.index ?? -1) + 1;
      const stream = await openStream(runId, {
        messageId: randomUUID(),
        model: {},
        offset,
        callbacks: resumeOptions,
        ...(record.threadId === undefined ? {} : { threadId: record.threadId }),
        ...(record.resourceId === undefined ? {} : { resourceId: record.resourceId }),
      });
      const signal = { name: resumeEventName(id), data: { runId, toolCallId: target.toolCallId } };
      await inngest.send(signal);
      // An event that arrives after the run's last check for decisions but before its wait began is
      // only found at the next check, and waits grow to an hour: while the call still waits, the
      // event is sent again a little later (best effort, from this process).
      for (const delayMs of resumeResendDelaysMs) {
        setTimeout(() => {
          void records
            .read(runId)
            .then((latest) =>
              latest?.pendingResumes.some(
                (entry) => entry.toolCallId === target.toolCallId && entry.requestedAt === target.requestedAt,
              )
                ? inngest.send(signal)
                : undefined,
            )
            .catch(() => {});
        }, delayMs).unref();
      }
      return {
        output: stream.output,
        fullStream: stream.output.fullStream as ReadableStream<unknown>,
        runId,
        cleanup: () => stream.cleanup(),
        abort: () => abortRun(runId),
      };
    },

    getInngestFunctions(): InngestFunction.Any[] {
      functions ??= [
        createLoopFunction({
          agentId: id,
          inngest,
          pubsub: resolvePubSub,
          mastra: () => mastra,
          records,
          functionOptions: options.functionOptions ?? {},
          waitTimeoutMs: options.waitTimeoutMs ?? 86_400_000,
        }),
      ];
      return functions;
    },

    // Mastra registers durable agents through these (Mastra.addAgent's durable branch).
    __setMastra(instance: Mastra): void {
      mastra ??= instance;
    },
    getDurableWorkflows(): unknown[] {
      return [];
    },
    async recover(): Promise<void> {},
    async recoverActiveRuns(): Promise<void> {},
    [marker]: true,
  };

  return new Proxy(target, {
    get(object, property, receiver) {
      if (property in object) {
        return Reflect.get(object, property, receiver);
      }
      const value = Reflect.get(agent, property);
      return typeof value === "function" ? value.bind(agent) : value;
    },
    has(object, property) {
      return property in object || property in agent;
    },
  }) as unknown as InngestAgent;
}

/** Whether `value` is an agent made by `createInngestAgent` (from any copy of this package). */
export function isInngestAgent(value: unknown): value is InngestAgent {
  return typeof value === "object" && value !== null && (value as Record<symbol, unknown>)[marker] === true;
}

function assertMessages(messages: unknown): void {
  const empty =
    messages === undefined ||
    messages === null ||
    (typeof messages === "string" && messages.trim() === "") ||
    (Array.isArray(messages) && messages.length === 0);
  if (empty) {
    throw new MastraInngestError(`[${packageName}] messages must be a non-empty string, message or array of messages`, {
      code: ErrorCode.INVALID_OPTION,
    });
  }
}

/** Accepts the reference's `{ threadId, resourceId }` memory form beside Mastra's `{ thread, resource }`. */
function normalizeOptions(options: InngestAgentStreamOptions): Record<string, unknown> {
  const { runId: _runId, abortSignal: _abortSignal, ...rest } = normalizeMemory(options);
  return rest;
}

/** The options with `memory` in core's `{ thread, resource }` form, also when given as `{ threadId, resourceId }`. */
function normalizeMemory(options: InngestAgentStreamOptions): InngestAgentStreamOptions {
  const memory = options.memory as { threadId?: string; resourceId?: string; thread?: unknown } | undefined;
  if (memory !== undefined && memory.thread === undefined && memory.threadId !== undefined) {
    const { threadId, resourceId, ...memoryRest } = memory;
    return { ...options, memory: { ...memoryRest, thread: threadId, resource: resourceId } as never };
  }
  return options;
}
