import type { InngestAgentStreamResult } from "../inngest-agent-types.ts";
import type { AgentRuntime } from "./agent-runtime.ts";
import { openRunOutput, type RunOutput, type RunOutputSettings } from "./run-output.ts";

/** Settings of {@link openRunStream}: the run output's, less the PubSub and run id it supplies, with the model optional. */
export type RunStreamSettings<OUTPUT> = Omit<RunOutputSettings<OUTPUT>, "pubsub" | "runId" | "model"> & {
  model?: RunOutputSettings<OUTPUT>["model"];
};

/** Opens a stream on a run's topic and waits until it is subscribed. */
export async function openRunStream<OUTPUT>(
  runtime: AgentRuntime,
  runId: string,
  settings: RunStreamSettings<OUTPUT>,
): Promise<RunOutput<OUTPUT>> {
  const stream = openRunOutput<OUTPUT>({
    ...settings,
    pubsub: runtime.pubsub(),
    runId,
    model: settings.model ?? {},
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
