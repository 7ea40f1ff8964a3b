import type { ServerResumeOptions } from "../inngest-agent-options.ts";
import type { InngestAgentStreamResult } from "../inngest-agent-types.ts";
import type { AgentRuntime } from "./agent-runtime.ts";
import { resumeRun } from "./resume-run.ts";

/**
 * Continues a run as Mastra's server asks the agents it serves to, with the caller's identity from
 * the request context (the owner rule applies, as for `resume()`), so the server's `resume-stream`
 * route reaches the durable run instead of the wrapped agent's in-process one.
 */
export function resumeForServer(
  runtime: AgentRuntime,
  resumeData: unknown,
  options: ServerResumeOptions,
): Promise<InngestAgentStreamResult<unknown>> {
  return resumeRun(runtime, options.runId, resumeData, {
    ...(options.toolCallId === undefined ? {} : { toolCallId: options.toolCallId }),
    ...(options.requestContext === undefined ? {} : { requestContext: options.requestContext }),
    ...(options.memory?.resource === undefined ? {} : { resourceId: options.memory.resource }),
  });
}
