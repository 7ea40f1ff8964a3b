import { randomUUID } from "node:crypto";
import { assertValidId, ErrorCode, MastraInngestError, streamTopic } from "@mastra/inngest-core";
import type { InngestAgentResumeOptions } from "../inngest-agent-options.ts";
import type { InngestAgentStreamResult } from "../inngest-agent-types.ts";
import { resumeEventName } from "./agent-events.ts";
import type { AgentRuntime } from "./agent-runtime.ts";
import { openRunStream, toStreamResult } from "./open-run-stream.ts";
import { priorOutputState } from "./prior-output-state.ts";
import { selectPendingResume } from "./resume-checks.ts";
import { authorizeRun } from "./run-access.ts";
import { abortOwnedRun } from "./run-admin.ts";
import { endsStreamAt } from "./run-waiting.ts";
import { assertReachable } from "./shared-cache-check.ts";
import { packageName } from "./stream-input.ts";

/** When `resume()` sends its event again while the decided call still waits, in milliseconds. */
const resumeResendDelaysMs = [1_000, 5_000, 30_000];

/**
 * `resume()`: records the decision for the waiting tool call, then signals the run and streams the
 * rest of it from the end of its history.
 */
export async function resumeRun<OUTPUT>(
  runtime: AgentRuntime,
  runId: string,
  resumeData: unknown,
  options: InngestAgentResumeOptions<OUTPUT>,
): Promise<InngestAgentStreamResult<OUTPUT>> {
  assertValidId("runId", runId, packageName);
  await authorizeRun(runtime, runId, "resume", options);
  const record = await runtime.records.read(runId);
  const target = selectPendingResume(runId, record, options.toolCallId);
  const transport = runtime.pubsub();
  const history = await transport.getHistory(streamTopic(runId));
  await assertReachable(runtime, runId, async () => history.length, "resume");
  // The decision is recorded (and claimed, in the same step) before the run is signalled: the
  // run reads recorded decisions before and after each wait, so it applies this one exactly once.
  const decision = { resumeData, recordedAt: new Date().toISOString(), resumeId: randomUUID() };
  if (!(await runtime.records.recordDecision(runId, target, decision))) {
    throw new MastraInngestError(
      `[${packageName}] tool call ${target.toolCallId} of run ${runId} was already resumed`,
      {
        code: ErrorCode.DUPLICATE_RESUME,
      },
    );
  }
  const offset = (history.at(-1)?.index ?? -1) + 1;
  const messageId = randomUUID();
  const model = await runtime.modelInfo();
  const stream = await openRunStream<OUTPUT>(runtime, runId, {
    messageId,
    model,
    offset,
    indexedChunks: options.indexedChunks,
    // As the plain agent's resumed output, this one goes on from the stream so far.
    priorState: await priorOutputState(history, { runId, messageId, model }),
    callbacks: options,
    endsAtWaiting: (data) => endsStreamAt(data, target),
    threadId: record?.threadId,
    resourceId: record?.resourceId,
  });
  const signal = { name: resumeEventName(runtime.id), data: { runId, toolCallId: target.toolCallId } };
  await runtime.inngest.send(signal);
  // An event that arrives after the run's last check for decisions but before its wait began is
  // only found at the next check, and waits grow to an hour: while the call still waits, the
  // event is sent again a little later (best effort, from this process).
  for (const delayMs of resumeResendDelaysMs) {
    setTimeout(() => {
      void runtime.records
        .read(runId)
        .then((latest) =>
          latest?.pendingResumes.some(
            (entry) => entry.toolCallId === target.toolCallId && entry.requestedAt === target.requestedAt,
          )
            ? runtime.inngest.send(signal)
            : undefined,
        )
        .catch(() => {});
    }, delayMs).unref();
  }
  return toStreamResult(stream, runId, {
    threadId: record?.threadId,
    resourceId: record?.resourceId,
    cleanup: () => stream.cleanup(),
    abort: () => abortOwnedRun(runtime, runId, options),
  });
}
