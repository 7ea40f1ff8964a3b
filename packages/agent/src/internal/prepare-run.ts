import type { MessageListInput } from "@mastra/core/agent/message-list";
import type { InngestAgentStreamOptions } from "../inngest-agent-options.ts";
import type { PrepareResult } from "../inngest-agent-types.ts";
import type { AgentRuntime } from "./agent-runtime.ts";
import { admitCall } from "./caller-rate-limit.ts";
import { releaseRegisteredRun } from "./core-durable/index.ts";
import { callerRateLimitOf } from "./loop-flow-control.ts";
import { claimRun } from "./run-claim.ts";
import { prepareRunInput, runIdOf } from "./start-run.ts";
import { assertMessages } from "./stream-input.ts";

/**
 * `prepare()`: the run input, without starting the run. The run id is claimed (with its owner) as
 * `stream()` claims it: it cannot start two runs, and `observe(runId)` knows the run as soon as the
 * input is sent, before the worker's first step writes its record. A prepared run counts against
 * the agent's `rateLimit` as a streamed one does: it is prepared to be sent.
 */
export async function prepareOnly<OUTPUT>(
  runtime: AgentRuntime,
  messages: MessageListInput,
  options: InngestAgentStreamOptions<OUTPUT>,
): Promise<PrepareResult> {
  assertMessages(messages);
  const runId = runIdOf(options);
  const rateLimit = callerRateLimitOf(runtime.functionOptions);
  if (rateLimit !== undefined) {
    await admitCall(runtime, rateLimit, options);
  }
  const claimId = await claimRun(runtime, runId, options);
  let prepared: Awaited<ReturnType<typeof prepareRunInput>>;
  try {
    prepared = await prepareRunInput(runtime, messages, options, runId, claimId);
  } catch (error) {
    // Nothing was prepared: the run id is given back.
    await runtime.records.remove(runId).catch(() => {});
    throw error;
  } finally {
    // Nothing starts here: the worker rebuilds everything from the input.
    releaseRegisteredRun(runId);
  }
  const { result, input } = prepared;
  return {
    runId,
    messageId: result.messageId,
    workflowInput: { ...input },
    ...(result.threadId === undefined ? {} : { threadId: result.threadId }),
    ...(result.resourceId === undefined ? {} : { resourceId: result.resourceId }),
  };
}
