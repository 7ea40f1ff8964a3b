import { setTimeout as sleep } from "node:timers/promises";
import type { Event } from "@mastra/core/events";
import type { InngestAgentStreamResult } from "@mastra/inngest-agent";
import { ErrorCode, MastraInngestError, streamTopic } from "@mastra/inngest-core";
import type { DevServer } from "@mastra/inngest-dev-server";
import type { CachingPubSub } from "@mastra/inngest-stream-cache";
import type { ChaosCaller } from "./chaos-topology.ts";
import { type ProjectableChunk, projectChunk } from "./chunk-projection.ts";
import { beforeDeadline } from "./deadline.ts";
import { type ExpectedOutcome, expectedOutcome } from "./expected-outcome.ts";
import type { FaultLog } from "./fault-log.ts";
import type { Random } from "./random.ts";
import { type ObserverSegment, observeRun } from "./run-observers.ts";
import { planMessage, planRun, type RunPlan, type WorkloadLimits } from "./workload.ts";

/** What the suite saw of one run, for the invariants. */
export interface RunResult {
  plan: RunPlan;
  expected: ExpectedOutcome;
  startedAt: number;
  /** The engine's id of the run, once it was started. */
  engineRunId?: string;
  /** When the caller's stream ended and the engine finished the run, if both happened. */
  endedAt?: number;
  engineStatus?: string;
  /** Chunk types the caller's stream delivered, in order. */
  callerTypes: string[];
  callerEnded: boolean;
  /** The run's history from offset 0, read right after it ended. */
  log?: Event[];
  /** What `observe(runId, { offset: 0 })` streamed after the run ended, projected by {@link projectChunk}. */
  replay?: string[];
  segments: ObserverSegment[][];
  /** Whether the step crash the plan asked for took effect. */
  crashed: boolean;
  /** Each `resume()` the caller made: tool call, milliseconds since the start, and `ok` or why it failed. */
  resumes: string[];
  /** Why `stream()` failed before the run started, once per failed start (an error code or message). */
  startFailures: string[];
  /** Errors the suite could not attribute to a fault it injects (kept for the report). */
  problems: string[];
  /** What the driver waits for right now (a call, a stream, the engine), for the report of a hang. */
  waits: string[];
  /**
   * The caller's subscriptions to the run's topic when its stream was still open at the deadline
   * (`CachingPubSub.inspect()`, taken before the stream is cancelled), for the report of a hang.
   */
  callerSubscriptions?: string;
}

/** What a run needs from the suite. */
export interface RunContext {
  caller: ChaosCaller;
  /** The observers' transport: its live deliveries are dropped at random. */
  observers: CachingPubSub;
  engine: DevServer;
  faults: FaultLog;
  limits: WorkloadLimits;
  /** How long a run may take, start to end, before it counts as hanging. */
  runBoundMs: number;
  /** Runs whose driver has not returned yet: each is added when it starts and removed when it returns. */
  inFlight: Set<RunResult>;
}

/**
 * How long past the run's deadline the driver waits for its decisions and observers, which stop by
 * themselves at the deadline but may be inside a retry pause or an unsubscribe then, in ms.
 */
const settleGraceMs = 15_000;
/** How long after its end a run's history and replay may still be read (its history is kept ten seconds), in ms. */
const afterEndReadMs = 5_000;

/** Codes that mean the decision is already in: a suspension seen twice, or decided already. */
const settledCodes: readonly string[] = [
  ErrorCode.DUPLICATE_RESUME,
  ErrorCode.RUN_NOT_SUSPENDED,
  ErrorCode.NO_PENDING_RESUME,
];

/**
 * Runs one planned run as a client would: starts it, decides each approval it is asked for after
 * the planned delay, follows the stream to its end, and meanwhile lets one or two observers come
 * and go. Then it reads the history and a replay while they are kept (one retention period).
 */
export async function driveRun(context: RunContext, runId: string, random: Random): Promise<RunResult> {
  const startedAt = Date.now();
  const deadline = startedAt + context.runBoundMs;
  const plan = planRun(random.fork("plan"), runId, context.limits);
  const result: RunResult = {
    plan,
    expected: expectedOutcome(plan),
    startedAt,
    callerTypes: [],
    callerEnded: false,
    segments: [],
    crashed: false,
    startFailures: [],
    resumes: [],
    problems: [],
    waits: [],
  };
  context.inFlight.add(result);
  try {
    return await driveStarted(context, result, random, deadline);
  } finally {
    context.inFlight.delete(result);
  }
}

/**
 * Settles as `work` does, within the run's deadline, and keeps `what` in `result.waits` meanwhile:
 * no wait of the driver is unbounded, and a report of a hang names the one it was in.
 */
async function bounded<Value>(result: RunResult, deadline: number, work: Promise<Value>, what: string): Promise<Value> {
  result.waits.push(what);
  try {
    return await beforeDeadline(work, deadline, what);
  } finally {
    result.waits.splice(result.waits.indexOf(what), 1);
  }
}

async function driveStarted(
  context: RunContext,
  result: RunResult,
  random: Random,
  deadline: number,
): Promise<RunResult> {
  const { caller, engine } = context;
  let plan = result.plan;
  const runId = plan.runId;
  // stream() claims the run id before it sends anything; a claim whose reply a fault lost leaves the
  // id taken, so a start that failed is retried under a new id (the plan's words follow the id).
  let started: Awaited<ReturnType<typeof caller.agent.stream>> | undefined;
  for (let attempt = 0; started === undefined; attempt++) {
    if (attempt > 0) {
      plan = { ...plan, runId: `${runId}.${attempt}` };
      result.plan = plan;
      result.expected = expectedOutcome(plan);
    }
    try {
      started = await bounded(
        result,
        deadline,
        caller.agent.stream(planMessage(plan), { runId: plan.runId, maxSteps: plan.iterations.length + 2 }),
        "stream()",
      );
    } catch (error) {
      result.startFailures.push(MastraInngestError.isInstance(error) ? error.code : String(error));
      if (Date.now() > deadline) {
        result.problems.push(`stream() kept failing: ${String(error)}`);
        return result;
      }
      await sleep(300);
    }
  }
  const engineRun = engine.runs().find((run) => (run.event.data as { runId?: string }).runId === plan.runId);
  result.engineRunId = engineRun?.id;
  const crash =
    engineRun !== undefined && plan.crashStep !== undefined
      ? engine.faults.crashAfterStep({ runId: engineRun.id, step: plan.crashStep })
      : undefined;
  const observerRandom = random.fork("observers");
  const observing = Array.from({ length: observerRandom.integer(1, 2) }, (_, index) =>
    observeRun(context.observers, plan.runId, observerRandom.fork(`observer-${index}`), context.faults, deadline),
  );
  const decisions: Promise<void>[] = [];
  // A stream ends where the run waits for a decision, as the plain agent's does; the stream of the
  // last resume() carries the run on, so the caller reads that one next, until the run ends.
  const continuations: InngestAgentStreamResult<unknown>[] = [];
  const decided = new Set<string>();
  let current: InngestAgentStreamResult<unknown> | undefined = started;
  let read = 0;
  try {
    while (current !== undefined) {
      const reader = (
        current.fullStream as ReadableStream<{ type: string; payload?: { toolCallId?: string } }>
      ).getReader();
      const stopReading = setTimeout(
        () => {
          try {
            result.callerSubscriptions = JSON.stringify(context.caller.agent.pubsub.inspect(streamTopic(plan.runId)));
          } catch (error) {
            // A diagnostic: it must never stop the driver from cutting the stream.
            result.callerSubscriptions = `unreadable: ${String(error)}`;
          }
          void reader.cancel().catch(() => {});
        },
        Math.max(0, deadline - Date.now()),
      );
      try {
        for (;;) {
          const { done, value } = await bounded(result, deadline, reader.read(), "the caller's stream");
          if (done) {
            break;
          }
          result.callerTypes.push(value.type);
          const toolCallId = value.payload?.toolCallId ?? "";
          // A stream that follows the run with observe() replays approvals already decided.
          if (value.type === "tool-call-approval" && !decided.has(toolCallId)) {
            decided.add(toolCallId);
            decisions.push(decide(context, result, toolCallId, deadline, continuations));
          }
        }
      } finally {
        clearTimeout(stopReading);
        // As a client does once it has what it wanted.
        current.cleanup();
      }
      if (terminalChunk(result.callerTypes.at(-1)) || Date.now() >= deadline) {
        break;
      }
      await bounded(result, deadline + settleGraceMs, Promise.all(decisions), "the decisions");
      current = continuations.length > read ? continuations.at(-1) : undefined;
      read = continuations.length;
    }
    result.callerEnded = terminalChunk(result.callerTypes.at(-1));
  } catch (error) {
    result.problems.push(`the caller's stream failed: ${String(error)}`);
  }
  await bounded(result, deadline + settleGraceMs, Promise.all(decisions), "the decisions").catch((error: unknown) => {
    result.problems.push(String(error));
  });
  if (engineRun !== undefined) {
    const run = await bounded(
      result,
      deadline,
      engine.waitForRun(engineRun.id, { timeoutMs: Math.max(1, deadline - Date.now()) }),
      "the engine to end the run",
    ).catch(() => engine.run(engineRun.id));
    result.engineStatus = run?.status;
  }
  if (result.callerEnded && result.engineStatus !== undefined && result.engineStatus !== "Running") {
    result.endedAt = Date.now();
    // A run that ended just before its deadline still gets its history read, within its retention.
    const readDeadline = Math.max(deadline, result.endedAt + afterEndReadMs);
    result.log = await untilDone(
      () => bounded(result, readDeadline, context.observers.getHistory(streamTopic(plan.runId)), "the history"),
      readDeadline,
    );
    const replay = async (): Promise<string[]> => {
      const replay = await caller.agent.observe(plan.runId, { offset: 0 });
      const projected: string[] = [];
      for await (const chunk of replay.fullStream as unknown as AsyncIterable<ProjectableChunk>) {
        projected.push(...projectChunk(chunk));
      }
      return projected;
    };
    result.replay = await untilDone(() => bounded(result, readDeadline, replay(), "observe() from 0"), readDeadline);
  }
  result.segments = await bounded(result, deadline + settleGraceMs, Promise.all(observing), "the observers").catch(
    (error: unknown) => {
      result.problems.push(String(error));
      return [];
    },
  );
  crash?.remove();
  result.crashed = (crash?.triggered ?? 0) > 0;
  if (result.crashed) {
    context.faults.record("step-crash", `${plan.runId} ${plan.crashStep}`);
  }
  return result;
}

/** Applies the planned decision for one approval request, retrying while a fault is in the way. */
async function decide(
  context: RunContext,
  result: RunResult,
  toolCallId: string,
  deadline: number,
  continuations: InngestAgentStreamResult<unknown>[],
): Promise<void> {
  const call = result.expected.toolCalls.find((candidate) => candidate.toolCallId === toolCallId);
  if (call === undefined || call.decision === "none") {
    result.problems.push(`an approval was requested for ${toolCallId}, which the plan does not gate`);
    return;
  }
  const planned = result.plan.iterations.flatMap((iteration) => iteration.calls)[
    result.expected.toolCalls.indexOf(call)
  ];
  await sleep(planned?.decisionDelayMs ?? 0);
  const approved = call.decision === "approve";
  while (Date.now() < deadline) {
    try {
      const resumed = await bounded(
        result,
        deadline,
        context.caller.agent.resume(
          result.plan.runId,
          approved ? { approved } : { approved, reason: "denied by the plan" },
          { toolCallId },
        ),
        `resume(${toolCallId})`,
      );
      continuations.push(resumed);
      result.resumes.push(`${toolCallId} +${Date.now() - result.startedAt} ok`);
      return;
    } catch (error) {
      const reason = MastraInngestError.isInstance(error) ? error.code : String(error);
      result.resumes.push(`${toolCallId} +${Date.now() - result.startedAt} ${reason}`);
      if (MastraInngestError.isInstance(error, ErrorCode.DECISION_RECORDED)) {
        // As the error says: the run applies the decision; the caller follows it with observe().
        await follow(context, result, deadline, continuations);
        return;
      }
      if (MastraInngestError.isInstance(error) && settledCodes.includes(error.code)) {
        return;
      }
      await sleep(200);
    }
  }
  result.problems.push(`the decision for ${toolCallId} could not be delivered before the deadline`);
}

/** Follows the run with `observe()` from its start, retrying while a fault is in the way. */
async function follow(
  context: RunContext,
  result: RunResult,
  deadline: number,
  continuations: InngestAgentStreamResult<unknown>[],
): Promise<void> {
  while (Date.now() < deadline) {
    try {
      continuations.push(
        await bounded(result, deadline, context.caller.agent.observe(result.plan.runId, { offset: 0 }), "observe()"),
      );
      return;
    } catch {
      await sleep(200);
    }
  }
  result.problems.push("the run could not be followed with observe() before the deadline");
}

function terminalChunk(type: string | undefined): boolean {
  return type === "finish" || type === "error" || type === "abort";
}

/** Retries a read while faults make it fail, until `deadline`. */
async function untilDone<Value>(read: () => Promise<Value>, deadline: number): Promise<Value | undefined> {
  for (;;) {
    try {
      return await read();
    } catch {
      if (Date.now() > deadline) {
        return undefined;
      }
      await sleep(200);
    }
  }
}
