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
  // The decision is recorded: from here on the run must hear of it, whether or not this caller
  // manages to follow the run. The stream opens first (so the caller sees the run's events as they
  // come, in order with its callbacks), then the signal goes; its resends are set up before it, so
  // a failed first send is sent again too.
  const signal = { name: resumeEventName(runtime.id), data: { runId, toolCallId: target.toolCallId } };
  const messageId = randomUUID();
  let stream: Awaited<ReturnType<typeof openRunStream<OUTPUT>>>;
  try {
    const model = await runtime.modelInfo();
    stream = await openRunStream<OUTPUT>(runtime, runId, {
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
  } catch (error) {
    resendWhileWaiting(runtime, runId, target, signal);
    await runtime.inngest.send(signal).catch(() => {});
    throw recordedButNotFollowed(runId, target.toolCallId, "open the run's stream", error);
  }
  resendWhileWaiting(runtime, runId, target, signal);
  try {
    await runtime.inngest.send(signal);
  } catch (error) {
    stream.cleanup();
    throw recordedButNotFollowed(runId, target.toolCallId, "signal the run (it is sent again shortly)", error);
  }
  return toStreamResult(stream, runId, {
    threadId: record?.threadId,
    resourceId: record?.resourceId,
    cleanup: () => stream.cleanup(),
    abort: () => abortOwnedRun(runtime, runId, options),
  });
}

/**
 * An event that arrives after the run's last check for decisions but before its wait began is
 * only found at the next check, and waits grow to an hour: while the call still waits, the event
 * is sent again a little later (best effort, from this process).
 */
function resendWhileWaiting(
  runtime: AgentRuntime,
  runId: string,
  target: { toolCallId: string; requestedAt: string },
  signal: { name: string; data: Record<string, unknown> },
): void {
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
}

/**
 * The error of a `resume()` whose decision is recorded (the run applies it, and a second
 * `resume()` of the call is refused) but that could not do the rest: `DECISION_RECORDED`, so a
 * caller that retries on transport errors follows the run with `observe()` instead of resuming again.
 */
function recordedButNotFollowed(runId: string, toolCallId: string, what: string, cause: unknown): MastraInngestError {
  const reason = cause instanceof Error ? cause.message : String(cause);
  return new MastraInngestError(
    `[${packageName}] the decision for tool call ${toolCallId} of run ${runId} is recorded and the run applies it, but resume() could not ${what}: follow the run with observe(runId) (${reason})`,
    { code: ErrorCode.DECISION_RECORDED, cause },
  );
}
