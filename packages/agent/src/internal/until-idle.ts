import type { Agent } from "@mastra/core/agent";
import { runDurableStreamUntilIdle } from "@mastra/core/agent/durable";
import type { Mastra } from "@mastra/core/mastra";
import type { InngestAgentStreamOptions, InngestAgentStreamResult } from "../inngest-agent-types.ts";

/** What {@link streamUntilIdle} needs from the durable agent it runs for. */
export interface UntilIdleHost {
  /** The durable agent's id: background tasks are filed under it. */
  id: string;
  agent: Agent;
  mastra: Mastra | undefined;
  /** The wrapper that is open per memory scope; a new one closes the previous one, as in core. */
  activeStreams: Map<string, () => void>;
  /** Starts one durable run; continuations pass no messages. */
  startRun(messages: unknown, options: InngestAgentStreamOptions): Promise<InngestAgentStreamResult>;
}

/**
 * `stream(messages, { untilIdle })`: core's idle loop over durable runs. The first run streams as
 * usual; each time the background tasks it started have all finished, a continuation run (a new
 * run id, no new messages, the finished tasks named in its context) answers on the same memory
 * thread, and `fullStream` carries every run's chunks and the background-task chunks until nothing
 * is running, or `maxIdleMs` passes without news. Without memory or background tasks on the Mastra
 * instance it is a plain `stream()`, as in core.
 */
export function streamUntilIdle(
  host: UntilIdleHost,
  messages: unknown,
  options: InngestAgentStreamOptions & { memory?: unknown },
): Promise<InngestAgentStreamResult> {
  const { untilIdle, ...rest } = options;
  const maxIdleMs = typeof untilIdle === "object" && untilIdle !== null ? untilIdle.maxIdleMs : undefined;
  let first = true;
  const runs = {
    id: host.id,
    getDefaultOptions: (parameters: unknown) => host.agent.getDefaultOptions(parameters as never),
    getMemory: (parameters: unknown) => host.agent.getMemory(parameters as never),
    stream(runMessages: unknown, runOptions: InngestAgentStreamOptions & { _skipBgTaskWait?: boolean }) {
      // The loop never waits for background tasks in a step (the idle loop drives continuations),
      // and only the first run may use the caller's run id: each continuation is a run of its own.
      const { _skipBgTaskWait: _skip, runId, ...runRest } = runOptions;
      const runOptionsHere = first && runId !== undefined ? { ...runRest, runId } : runRest;
      first = false;
      return host.startRun(runMessages, runOptionsHere);
    },
  };
  return runDurableStreamUntilIdle(
    runs as never,
    messages as never,
    { ...rest, ...(maxIdleMs === undefined ? {} : { maxIdleMs }) } as never,
    { activeStreams: host.activeStreams, bgManager: host.mastra?.backgroundTaskManager },
  ) as unknown as Promise<InngestAgentStreamResult>;
}
