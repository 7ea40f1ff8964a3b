import type { MessageList } from "@mastra/core/agent";
import type { InngestAgentCallbacks } from "../inngest-agent-options.ts";
import type { InngestAgentStreamResult } from "../inngest-agent-types.ts";
import type { AgentRuntime } from "./agent-runtime.ts";
import { openRunOutput, type RunOutput } from "./run-output.ts";

/** Settings of {@link openRunStream}. */
export interface RunStreamSettings<OUTPUT> {
  messageId: string;
  model?: { modelId?: string | undefined; provider?: string | undefined };
  threadId?: string | undefined;
  resourceId?: string | undefined;
  offset?: number | "latest" | undefined;
  /** The caller's callbacks. */
  callbacks: InngestAgentCallbacks<OUTPUT>;
  /** Options of the output (structured output, output processors, raw chunks, ...). */
  outputOptions?: Record<string, unknown>;
  messageList?: MessageList | undefined;
  /** Whether the stream ends at a waiting event of the run; every one ends it when absent. */
  endsAtWaiting?: ((data: unknown) => boolean | Promise<boolean>) | undefined;
  /** Called once the stream ended: at the run's end, or where the run waits for a decision. */
  onEnd?: (reason: "ended" | "waiting") => void;
}

/** Opens a stream on a run's topic and waits until it is subscribed. */
export async function openRunStream<OUTPUT>(
  runtime: AgentRuntime,
  runId: string,
  settings: RunStreamSettings<OUTPUT>,
): Promise<RunOutput<OUTPUT>> {
  const stream = openRunOutput<OUTPUT>({
    pubsub: runtime.pubsub(),
    runId,
    messageId: settings.messageId,
    model: settings.model ?? {},
    threadId: settings.threadId,
    resourceId: settings.resourceId,
    offset: settings.offset,
    callbacks: settings.callbacks,
    ...(settings.outputOptions === undefined ? {} : { outputOptions: settings.outputOptions }),
    messageList: settings.messageList,
    endsAtWaiting: settings.endsAtWaiting,
    ...(settings.onEnd === undefined ? {} : { onEnd: settings.onEnd }),
  });
  await stream.ready;
  return stream;
}

/** The result `stream()`, `observe()` and `resume()` return for a stream. */
export function toStreamResult<OUTPUT>(
  stream: RunOutput<OUTPUT>,
  runId: string,
  members: Pick<InngestAgentStreamResult<OUTPUT>, "cleanup" | "abort" | "threadId" | "resourceId">,
): InngestAgentStreamResult<OUTPUT> {
  const { threadId, resourceId, ...rest } = members;
  return {
    output: stream.output,
    fullStream: stream.output.fullStream,
    runId,
    ...(threadId === undefined ? {} : { threadId }),
    ...(resourceId === undefined ? {} : { resourceId }),
    ...rest,
  };
}
