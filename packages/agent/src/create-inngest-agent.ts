import type { MessageListInput } from "@mastra/core/agent/message-list";
import type { MastraServerCache } from "@mastra/core/cache";
import type { Mastra } from "@mastra/core/mastra";
import { assertValidId, ErrorCode, MastraInngestError } from "@mastra/inngest-core";
import type { CachingPubSub } from "@mastra/inngest-stream-cache";
import type { InngestFunction } from "inngest";
import type { AnyAgent, CreateInngestAgentOptions, InngestAgentStreamOptions } from "./inngest-agent-options.ts";
import type {
  InngestAgent,
  InngestAgentMembers,
  InngestAgentRecoveryResult,
  InngestAgentStreamResult,
} from "./inngest-agent-types.ts";
import { runEventName } from "./internal/agent-events.ts";
import { forwardToAgent } from "./internal/agent-proxy.ts";
import { AgentRuntime } from "./internal/agent-runtime.ts";
import { createCancelledRunFunction } from "./internal/cancelled-run-function.ts";
import { runUntilIdle, type StartRun } from "./internal/core-durable/index.ts";
import { guardedPubSub } from "./internal/guarded-pubsub.ts";
import { type LoopAgentMembers, loopAgentMembers } from "./internal/loop-agent-members.ts";
import { createLoopFunction } from "./internal/loop-function.ts";
import { observeRun } from "./internal/observe-run.ts";
import { prepareOnly } from "./internal/prepare-run.ts";
import { resumeRun } from "./internal/resume-run.ts";
import { abortOwnedRun, createRunToken, deleteOwnedRun } from "./internal/run-admin.ts";
import { recoverRun, resumeForServer } from "./internal/server-members.ts";
import { startRun } from "./internal/start-run.ts";
import { assertMessages, normalizeMemory, packageName } from "./internal/stream-input.ts";

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
export function createInngestAgent<TAgent extends AnyAgent>(
  options: CreateInngestAgentOptions<TAgent>,
): InngestAgent<TAgent> {
  const { agent, inngest } = options;
  if (typeof (agent as Partial<AnyAgent> | null | undefined)?.stream !== "function") {
    throw new MastraInngestError(`[${packageName}] agent must be a Mastra Agent`, { code: ErrorCode.INVALID_OPTION });
  }
  if (typeof (inngest as Partial<typeof inngest> | null | undefined)?.createFunction !== "function") {
    throw new MastraInngestError(`[${packageName}] inngest must be an Inngest client`, {
      code: ErrorCode.INVALID_OPTION,
    });
  }
  const id = assertValidId("id", options.id ?? agent.id, packageName);
  const runtime = new AgentRuntime(options, id, options.name ?? agent.name ?? id);
  let functions: InngestFunction.Any[] | undefined;
  let guarded: CachingPubSub | undefined;

  async function streamRun<OUTPUT>(
    messages: MessageListInput,
    options: InngestAgentStreamOptions<OUTPUT> = {},
  ): Promise<InngestAgentStreamResult<OUTPUT>> {
    assertMessages(messages);
    if (options.untilIdle !== undefined && options.untilIdle !== false) {
      const { untilIdle, ...rest } = normalizeMemory(options);
      const maxIdleMs = typeof untilIdle === "object" ? untilIdle.maxIdleMs : undefined;
      return runUntilIdle({
        id,
        agent,
        mastra: runtime.mastra,
        activeStreams: runtime.idleStreams,
        messages,
        streamOptions: { ...rest, ...(maxIdleMs === undefined ? {} : { maxIdleMs }) },
        startRun: idleRunStarter(runtime),
      });
    }
    return startRun(runtime, messages, options);
  }

  const members: InngestAgentMembers<AnyAgent> & LoopAgentMembers & { [marker]: true } = {
    id,
    name: runtime.name,
    agent,
    inngest,
    runEventName: runEventName(id),
    get cache(): MastraServerCache {
      return runtime.cache();
    },
    get pubsub(): CachingPubSub {
      guarded ??= guardedPubSub(runtime, runtime.pubsub());
      return guarded;
    },
    // Both overloads (with a schema, or the agent's own output type) start the same run; the output
    // type is the caller's view of the same chunks, so one implementation serves both.
    stream: streamRun as InngestAgentMembers<AnyAgent>["stream"],
    streamUntilIdle(messages, options = {}) {
      const { maxIdleMs, ...rest } = options;
      return streamRun(messages, { ...rest, untilIdle: maxIdleMs === undefined ? true : { maxIdleMs } });
    },
    observe: (runId, options = {}) => observeRun(runtime, runId, options),
    prepare: (messages, options = {}) => prepareOnly(runtime, messages, options),
    resume: (runId, resumeData, options = {}) => resumeRun(runtime, runId, resumeData, options),
    abort: (runId, options = {}) => abortOwnedRun(runtime, runId, options),
    // Mastra's server continues runs through these; they go to the durable run, with the owner rule.
    resumeStream: (resumeData, options) => resumeForServer(runtime, resumeData, options),
    approveToolCall: (options) => resumeForServer(runtime, { approved: true }, options),
    declineToolCall: (options) =>
      resumeForServer(
        runtime,
        { approved: false, ...(options.reason === undefined ? {} : { reason: options.reason }) },
        options,
      ),
    deleteRun: (runId, options = {}) => deleteOwnedRun(runtime, runId, options),
    createRunToken: (runId, options) => createRunToken(runtime, runId, options),
    approveToolCallGenerate: async (options) =>
      (await resumeForServer(runtime, { approved: true }, options)).output.getFullOutput(),
    declineToolCallGenerate: async (options) =>
      (
        await resumeForServer(
          runtime,
          { approved: false, ...(options.reason === undefined ? {} : { reason: options.reason }) },
          options,
        )
      ).output.getFullOutput(),
    getInngestFunctions() {
      if (functions === undefined) {
        const context = {
          agentId: id,
          inngest,
          pubsub: () => runtime.pubsub(),
          mastra: () => runtime.mastra,
          records: runtime.records,
          sharedCache: () => runtime.pubsub().crossProcess,
          functionOptions: runtime.functionOptions,
          waitTimeoutMs: runtime.waitTimeoutMs,
          callerRuns: runtime.callerRuns,
        };
        functions = [createLoopFunction(context), createCancelledRunFunction(context)];
      }
      return functions;
    },
    // Mastra registers durable agents through these (Mastra.addAgent's durable branch).
    __setMastra(instance: Mastra) {
      runtime.setMastra(instance);
    },
    ...loopAgentMembers(agent),
    getDurableWorkflows: () => [],
    recover: (runId, options = {}) => recoverRun(runtime, runId, options),
    recoverActiveRuns: async (): Promise<InngestAgentRecoveryResult> => ({ recovered: [], succeeded: 0, failed: 0 }),
    [marker]: true,
  };
  // The members replace the agent's own of the same name; `InngestAgent` types exactly that.
  return forwardToAgent(members, agent) as unknown as InngestAgent<TAgent>;
}

/**
 * Starts each run of the idle loop. The loop never waits for background tasks in a step (the idle
 * loop drives continuations), and only the first run may use the caller's run id: each
 * continuation is a run of its own.
 */
function idleRunStarter<OUTPUT>(runtime: AgentRuntime): StartRun<OUTPUT> {
  let first = true;
  return (messages, options) => {
    const { _skipBgTaskWait: _skip, runId, ...rest } = options;
    const runOptions = first && runId !== undefined ? { ...rest, runId } : rest;
    first = false;
    return startRun(runtime, messages, runOptions);
  };
}

/** Whether `value` is an agent made by `createInngestAgent` (from any copy of this package). */
export function isInngestAgent(value: unknown): value is InngestAgent {
  return typeof value === "object" && value !== null && (value as Record<symbol, unknown>)[marker] === true;
}
