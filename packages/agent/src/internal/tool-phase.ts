import type { DurableLLMStepOutput, DurableToolCallInput, DurableToolCallOutput } from "@mastra/core/agent/durable";
import type { PubSub } from "@mastra/core/events";
import { ErrorCode, type PendingResume } from "@mastra/inngest-core";
import { NonRetriableError } from "inngest";
import { type CoreSteps, type RunInput, type RunSpanData, toolCallConcurrency } from "./core-durable/index.ts";
import type { DurableStep } from "./loop-context.ts";
import { clearWaitingRow, writeWaitingRow } from "./mastra-run-row.ts";
import type { RecordedDecision, RunRecords } from "./run-records.ts";
import { publishRunWaiting } from "./run-waiting.ts";
import { packageName } from "./stream-input.ts";
import { executeTool } from "./tool-execution.ts";

/** The outcome of one execution of a tool step, as memoized. */
export type ToolOutcome = (
  | { suspended: false; output: DurableToolCallOutput }
  | { suspended: true; pending: PendingResume; suspendData: unknown }
) & {
  /** The spans a resumed execution opened for the rest of the run (see `openResumedSpans`). */
  resumedSpans?: RunSpanData;
};

/** What an iteration's tool calls left: their results, and the spans the run goes on under. */
export interface ToolPhaseResult {
  results: DurableToolCallOutput[];
  spans: RunSpanData;
  /** Whether a call suspended: its suspension ended the LLM step's span. */
  suspended: boolean;
}

/** What the tool phase needs from the loop. */
export interface ToolPhaseContext {
  agentId: string;
  runId: string;
  index: number;
  input: RunInput;
  llm: DurableLLMStepOutput;
  /** The run's root spans as the iteration began. */
  spans: RunSpanData;
  records: RunRecords;
  /** How long the run waits for decisions, in engine milliseconds. */
  waitTimeoutMs: number;
  resumeEvent: string;
  durable: DurableStep;
  steps: CoreSteps;
  /** Inngest's step tools: the decision checks and the waits are steps of their own. */
  step: {
    run<Output>(id: string, work: () => Promise<Output>): Promise<unknown>;
    waitForEvent(id: string, options: { event: string; if: string; timeout: string }): Promise<unknown>;
  };
  /** The run's PubSub, whose history is kept at least as long as the run may wait. */
  pubsub(): PubSub;
}

/**
 * Waits between decision checks, in seconds: short at first, so a decision recorded while the run
 * was not yet waiting (its event missed) is found quickly, then longer. Inngest only matches events
 * that arrive after a wait began; the check before each wait closes that gap.
 */
const waitSlicesSeconds = [2, 10, 60, 600, 3600];

/**
 * Runs an iteration's tool calls: each in its own step; a call that needs approval or suspends
 * records a pending decision (before its `suspended` event is published) and the phase waits on
 * Inngest until every pending call has its decision, reading decisions recorded by `resume()`
 * before and after each wait, so a decision is applied once however early it arrives.
 */
export async function runToolPhase(context: ToolPhaseContext): Promise<ToolPhaseResult> {
  const { index, llm } = context;
  const results: DurableToolCallOutput[] = [];
  const waiting = new Map<number, { toolCall: DurableToolCallInput; pending: PendingResume; suspendData: unknown }>();
  const toolCalls = llm.toolCalls ?? [];
  // Core's rule: `toolCallConcurrency` (default 10), or one at a time when a tool may need a
  // decision. Parallel calls become parallel Inngest steps, named by position, so replays match.
  const concurrency = Math.max(1, toolCallConcurrency(context.input, toolCalls));
  for (let start = 0; start < toolCalls.length; start += concurrency) {
    const batch = toolCalls.slice(start, start + concurrency);
    const outcomes = await Promise.all(
      batch.map((toolCall, offset) =>
        context.durable<ToolOutcome>(`tool:${index}:${start + offset}`, (publisher, environment) =>
          executeTool(context, publisher, environment, toolCall, undefined, context.spans),
        ),
      ),
    );
    batch.forEach((toolCall, offset) => {
      const position = start + offset;
      const outcome = outcomes[offset] as ToolOutcome;
      if (outcome.suspended) {
        waiting.set(position, {
          toolCall,
          pending: outcome.pending,
          suspendData: outcome.suspendData,
        });
      } else {
        results[position] = outcome.output;
      }
    });
  }
  let spans = context.spans;
  // A resume opens the spans the run goes on under once (again after a call suspends anew): decided
  // from memoized outcomes, so every replay asks the same step to open them.
  let reopened = false;
  let waitedSeconds = 0;
  // Whether the last round applied a decision: the run then waits again for the calls left, and says so once.
  let decidedBefore = false;
  const waited = waiting.size > 0;
  for (let round = 0; waiting.size > 0; round++) {
    // Memoized, so every replay takes the same path. It also tells the run's streams, once, that the
    // run asked for its decisions (every call of the iteration was requested: the first round) or
    // waits again after one was applied: they end there, as the plain agent's stream ends at a suspension.
    const decisions = await context.durable(`decisions:${index}:${round}`, async (publisher, environment) => {
      const found: Record<number, RecordedDecision> = {};
      for (const [position, { pending }] of waiting) {
        const decision = await context.records.readDecision(context.runId, pending);
        if (decision !== undefined) {
          found[position] = decision;
        }
      }
      if (round === 0 || (decidedBefore && Object.keys(found).length === 0)) {
        const suspensions = [...waiting.values()].map(({ pending }) => ({
          toolCallId: pending.toolCallId,
          requestedAt: pending.requestedAt,
        }));
        await publishRunWaiting(publisher, context.runId, suspensions);
        await writeWaitingRow(environment.mastra, {
          agentId: context.agentId,
          runId: context.runId,
          owner: (await context.records.read(context.runId))?.owner?.resourceId,
          waiting: [...waiting.values()].map(({ pending }) => pending),
        });
      }
      return found;
    });
    const decided = Object.entries(decisions);
    decidedBefore = decided.length > 0;
    for (const [positionText, decision] of decided) {
      const position = Number(positionText);
      const entry = waiting.get(position);
      if (entry === undefined) {
        continue;
      }
      const outcome = await context.durable<ToolOutcome>(
        `tool:${index}:${position}:resume:${round}`,
        (publisher, environment) =>
          executeTool(
            context,
            publisher,
            environment,
            entry.toolCall,
            { resumeData: decision.resumeData, suspendData: entry.suspendData, openSpans: !reopened },
            spans,
          ),
      );
      spans = outcome.resumedSpans ?? spans;
      reopened = !outcome.suspended;
      if (outcome.suspended) {
        waiting.set(position, { toolCall: entry.toolCall, pending: outcome.pending, suspendData: outcome.suspendData });
      } else {
        waiting.delete(position);
        results[position] = outcome.output;
      }
    }
    if (waiting.size === 0 || decided.length > 0) {
      continue;
    }
    if (waitedSeconds * 1000 >= context.waitTimeoutMs) {
      await context.step.run(`expire:${index}`, async () => {
        await context.records.write(context.runId, context.agentId, "failed", {
          error: {
            name: "MastraInngestError",
            code: ErrorCode.RESUME_EXPIRED,
            message: `no decision arrived within ${context.waitTimeoutMs} ms`,
          },
        });
      });
      throw new NonRetriableError(
        `[${packageName}] run ${context.runId} waited ${context.waitTimeoutMs} ms for a decision (waitTimeoutMs) and none arrived`,
      );
    }
    const slice = Math.min(
      waitSlicesSeconds[Math.min(round, waitSlicesSeconds.length - 1)] as number,
      Math.max(1, Math.ceil(context.waitTimeoutMs / 1000 - waitedSeconds)),
    );
    waitedSeconds += slice;
    await context.step.waitForEvent(`wait:${index}:${round}`, {
      event: context.resumeEvent,
      // Run ids are validated ids: no quote can end the literal.
      if: `async.data.runId == '${context.runId}'`,
      timeout: `${slice}s`,
    });
  }
  if (waited) {
    // The run goes on: Mastra's server must no longer see it waiting.
    await context.durable(`released:${index}`, (_publisher, environment) =>
      clearWaitingRow(environment.mastra, context.runId),
    );
  }
  return { results, spans, suspended: waited };
}
