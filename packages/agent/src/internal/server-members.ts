import type { InngestAgentRunAccessOptions, ServerResumeOptions } from "../inngest-agent-options.ts";
import type { InngestAgentStreamResult } from "../inngest-agent-types.ts";
import type { AgentRuntime } from "./agent-runtime.ts";
import { observeRun } from "./observe-run.ts";
import { currentRequestContext } from "./request-scope.ts";
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

/**
 * Mastra's `recover` route for a durable run: the run from its start, with the owner rule of
 * `observe()`; Inngest re-drives the run itself. The stream ends when the route's request does.
 * The route passes no identity: the request context of the server request stands in for it, when
 * `callerIdentityMiddleware()` set one.
 */
export async function recoverRun(
  runtime: AgentRuntime,
  runId: string,
  options: InngestAgentRunAccessOptions & { abortSignal?: AbortSignal },
): Promise<InngestAgentStreamResult<unknown>> {
  const { abortSignal, ...access } = options;
  const requestContext = access.requestContext ?? currentRequestContext();
  const result = await observeRun<unknown>(runtime, runId, {
    ...access,
    ...(requestContext === undefined ? {} : { requestContext }),
    offset: 0,
  });
  if (abortSignal?.aborted) {
    result.cleanup();
  } else {
    abortSignal?.addEventListener("abort", () => result.cleanup(), { once: true });
  }
  return result;
}
