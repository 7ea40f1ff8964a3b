import type { BaseIterationState, DurableToolCallOutput } from "@mastra/core/agent/durable";
import { isFinalRunStatus, streamTopic } from "@mastra/inngest-core";
import type { InngestFunction } from "inngest";
import { cancelEventName, loopFunctionId, resumeEventName, runEventName } from "./agent-events.ts";
import { expandLLMOutput } from "./compact-outputs.ts";
import {
  createCoreSteps,
  endRunSpans,
  finishSideEffects,
  initialIterationState,
  nextIterationState,
  publishError,
  publishFinish,
  type RunInput,
  type RunSpanData,
  recordRetriedAttempt,
  requestContextOf,
} from "./core-durable/index.ts";
import { type LLMInput, type LLMOutput, runLLMPhase } from "./llm-phase.ts";
import type { DurableStep, LoopContext } from "./loop-context.ts";
import { runMappingPhase } from "./mapping-phase.ts";
import { clearWaitingRow } from "./mastra-run-row.ts";
import { claimSpansEnd, endSpansAtFailure } from "./run-spans-end.ts";
import { StepPublisher } from "./step-publisher.ts";
import { runToolPhase } from "./tool-phase.ts";
import { reportedUsage } from "./unreported-usage.ts";

/**
 * Creates the one Inngest function that runs an agent's loop: per iteration `llm:<i>`, one
 * `tool:<i>:<j>` per tool call (by position, since providers may repeat ids), `map:<i>`, then
 * `finish`. Step ids come only from the loop counter and memoized outputs, so every replay names
 * the same steps. Each step publishes through a {@link StepPublisher} and flushes before it returns,
 * so no step is recorded as done while its events are unstored. Code outside steps has no side
 * effects: Inngest re-runs it on every call.
 */
export function createLoopFunction(context: LoopContext): InngestFunction.Any {
  const steps = createCoreSteps();
  const { agentId, inngest } = context;

  return inngest.createFunction(
    {
      id: loopFunctionId(agentId),
      name: `Agent ${agentId}`,
      retries: 3,
      ...context.functionOptions,
      triggers: [{ event: runEventName(agentId) }],
      cancelOn: [{ event: cancelEventName(agentId), if: "async.data.runId == event.data.runId" }],
      onFailure: async ({
        event,
        step,
        error,
      }: {
        event: { data: { event: { data: unknown } } };
        step: { run(id: string, work: () => Promise<void>): Promise<unknown> };
        error: Error;
      }) => {
        // The failure event carries the run's trigger event, whose data is the run input.
        const input = event.data.event.data as RunInput;
        // The record first: it must reach its terminal state even while the transport keeps failing
        // (the step is retried until both are done, and writing the record again changes nothing).
        await step.run("report-failure", async () => {
          // An input of another claim (refused at its first step) is not this run's to report on.
          const claimant = await context.records.readClaimant(input.runId);
          if (claimant !== undefined && claimant.claimId !== input.claimId) {
            return;
          }
          // A record already final (an expired wait says RESUME_EXPIRED) keeps what it says.
          const current = await context.records.read(input.runId);
          if (current === undefined || !isFinalRunStatus(current.status)) {
            await context.records.write(input.runId, agentId, "failed", {
              error: { name: error.name, message: error.message },
            });
          }
          await clearWaitingRow(context.mastra(), input.runId);
          // A publisher of its own: its flush reports this event's failure, not another run's, and
          // a retry of this report stores the event once (same producer key).
          const publisher = new StepPublisher(context.pubsub(), "on-failure", 0);
          await publishError(publisher, input.runId, error);
          await publisher.flush();
        });
        // Its own step, so the root spans end once however often the report above is retried.
        await step.run("trace-failure", async () => {
          const mastra = context.mastra();
          const requestContext = requestContextOf(input);
          const environment = { mastra, requestContext, publisher: context.pubsub() };
          await endSpansAtFailure({ records: context.records, input, environment, error });
        });
        context.callerRuns.runEnded(input.runId);
      },
    },
    async ({ event, step, attempt }) => {
      // The trigger's data is the run input `stream()` or `prepare()` made.
      const input = event.data as RunInput;
      const runId = input.runId;
      const mastra = context.mastra();
      const requestContext = requestContextOf(input);
      // The first step this call executes is the one Inngest retries when `attempt` is above 0.
      let retryRecorded = false;
      const durable: DurableStep = (id, work) =>
        step.run(id, async () => {
          const publisher = new StepPublisher(context.pubsub(), id, attempt);
          const environment = { mastra, requestContext, publisher };
          if (attempt > 0 && !retryRecorded) {
            retryRecorded = true;
            recordRetriedAttempt({ spans, environment, runId, stepId: id, attempt });
          }
          const output = await work(publisher, environment);
          await publisher.flush();
          return output;
          // Inngest types a memoized output as its JSON form; every step here returns JSON already.
        }) as Promise<never>;

      let iteration: BaseIterationState = initialIterationState(input);
      const maxSteps = input.options?.maxSteps ?? 5;
      let ended = false;
      let processorRetryCount = 0;
      let runError: LLMOutput["runError"];
      // The root spans the run goes on under: the input's, until a resume opens new ones.
      let spans: RunSpanData = { agentSpanData: input.agentSpanData, modelSpanData: input.modelSpanData };
      try {
        for (let index = 0; index < maxSteps; index++) {
          const llmInput: LLMInput = {
            ...input,
            ...spans,
            messageListState: iteration.messageListState,
            messageId: iteration.messageId ?? input.messageId,
            state: iteration.state ?? input.state,
            stepIndex: index,
            accumulatedSteps: iteration.accumulatedSteps,
            processorRetryCount,
          };
          const llmMemo = await runLLMPhase({ context, durable, steps, index, input, llmInput });
          const llm: LLMOutput = expandLLMOutput(llmMemo, llmInput.messageListState);
          runError = llm.runError;
          // Counts retries of one step only: the plain loop starts again at zero after a step it accepted.
          processorRetryCount = llm.processorRetryCount ?? 0;
          const tools = await runToolPhase({
            agentId,
            runId,
            index,
            input,
            llm,
            spans,
            records: context.records,
            waitTimeoutMs: context.waitTimeoutMs,
            resumeEvent: resumeEventName(agentId),
            durable,
            steps,
            step,
            pubsub: context.pubsub,
          });
          spans = tools.spans;
          const toolResults: DurableToolCallOutput[] = tools.results;
          // A suspension ended the LLM step's span already.
          const mappedLLM = tools.suspended ? { ...llm, stepSpanData: undefined } : llm;
          const mapped = await runMappingPhase({
            durable,
            steps,
            index,
            input,
            iteration,
            llm: mappedLLM,
            toolResults,
          });
          iteration = nextIterationState(iteration, mapped);
          if (!mapped.stepResult?.isContinued) {
            break;
          }
        }

        const result = await durable("finish", async (publisher, environment) => {
          const lastStep = iteration.accumulatedSteps.at(-1);
          const finish = await finishSideEffects({ runId, input, iteration, environment });
          const text = finish.outputText || lastStep?.text;
          // A retry of this step whose first attempt published the run's end (and then lost its
          // result) does not publish it again: live observers ended on the first one, which stays
          // the history's last event instead of being superseded by a second.
          if (!(await endAlreadyStored(context, runId))) {
            await publishFinish(publisher, runId, {
              output: {
                text,
                usage: reportedUsage(iteration.accumulatedUsage, iteration.lastStepResult?.reason),
                steps: iteration.accumulatedSteps,
              },
              stepResult: iteration.lastStepResult ?? { reason: "stop", warnings: [], isContinued: false },
            });
          }
          await finish.titleGeneration;
          await context.records.write(runId, agentId, "finished");
          // Last, after the step's events are stored, so a retry of this step after a failure above
          // does not end the spans twice.
          await publisher.flush();
          if (await claimSpansEnd(context.records, runId, spans)) {
            endRunSpans({ input: { ...input, ...spans }, environment, iteration, text: text ?? "", runError });
          }
          return {
            text: text ?? "",
            reason: iteration.lastStepResult?.reason ?? "stop",
            steps: iteration.accumulatedSteps.length,
          };
        });
        ended = true;
        return result;
      } finally {
        // What the core steps registered for this run in this process (the remote abort listener,
        // rebuilt tools) is released once the run has ended here; a caller in this process keeps
        // its own entry until its cleanup().
        if (ended) {
          context.callerRuns.runEnded(runId);
        }
      }
    },
  );
}

/** Whether the run's history already ends with its `finish` event. */
async function endAlreadyStored(context: LoopContext, runId: string): Promise<boolean> {
  const length = await context.records.historyLength(runId);
  if (length === 0) {
    return false;
  }
  const [last] = await context.pubsub().getHistory(streamTopic(runId), length - 1);
  return last?.type === "finish";
}
