import type { InngestAgentCallbacks } from "../inngest-agent-options.ts";
import type { InngestAgentStreamResult } from "../inngest-agent-types.ts";
import type { AgentRuntime } from "./agent-runtime.ts";
import { type CoreStream, openCoreStream } from "./core-durable/index.ts";

/** Settings of {@link openRunStream}. */
export interface RunStreamSettings<OUTPUT> {
  messageId: string;
  model?: { modelId?: string | undefined; provider?: string | undefined };
  threadId?: string | undefined;
  resourceId?: string | undefined;
  offset?: number | "latest" | undefined;
  /** The caller's callbacks. */
  callbacks: InngestAgentCallbacks<OUTPUT>;
  /** Further options of core's stream adapter (structured output, output processors, ...). */
  extras?: Record<string, unknown>;
  /** Called once the stream ended: finish, error or abort. */
  onEnd?: () => void;
}

/**
 * Opens a stream on a run's topic through core's stream adapter and waits until it is subscribed.
 * Once the stream ended nothing more arrives on the topic, so the subscription goes by itself,
 * whether or not the caller ever calls `cleanup()`.
 */
export async function openRunStream<OUTPUT>(
  runtime: AgentRuntime,
  runId: string,
  settings: RunStreamSettings<OUTPUT>,
): Promise<CoreStream<OUTPUT>> {
  const { callbacks } = settings;
  // On the next turn of the event loop: core closes the stream after the abort callback, and its
  // cleanup() drops the controller it closes. By then `stream` is assigned: events arrive after
  // this function returned.
  let stream: CoreStream<OUTPUT> | undefined;
  const end = (): void => {
    setImmediate(() => stream?.cleanup());
    settings.onEnd?.();
  };
  stream = openCoreStream<OUTPUT>({
    pubsub: runtime.pubsub(),
    runId,
    messageId: settings.messageId,
    model: settings.model ?? {},
    threadId: settings.threadId,
    resourceId: settings.resourceId,
    offset: settings.offset,
    options: {
      onChunk: callbacks.onChunk,
      onStepFinish: callbacks.onStepFinish,
      onFinish: async (...args: Parameters<NonNullable<InngestAgentCallbacks<OUTPUT>["onFinish"]>>) => {
        await callbacks.onFinish?.(...args);
        end();
      },
      onError: async (...args: Parameters<NonNullable<InngestAgentCallbacks<OUTPUT>["onError"]>>) => {
        await callbacks.onError?.(...args);
        end();
      },
      onSuspended: callbacks.onSuspended,
      onAbort: async () => end(),
      ...settings.extras,
    },
  });
  await stream.ready;
  return stream;
}

/** The result `stream()`, `observe()` and `resume()` return for a stream. */
export function toStreamResult<OUTPUT>(
  stream: CoreStream<OUTPUT>,
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
