import type { Event } from "@mastra/core/events";
import type { StepExecution } from "@mastra/inngest-dev-server";
import { describeEvent } from "./describe-event.ts";
import type { FaultKind, FaultRecord } from "./fault-log.ts";

/** A value read for the report, or why it could not be read (Redis away, a read that never answered). */
export type Readout<Value> = { value: Value } | { error: string };

/** What the engine (the dev server) knows of a run, as far as the report shows it. */
export interface EngineRunState {
  /** The engine's run id. */
  id: string;
  /** `Running`, `Completed`, `Failed` or `Cancelled`. */
  status: string;
  /** Hashed ids of the waits and sleeps the run is blocked on now. */
  blockedOn: string[];
  /** Every step execution the engine saw, in order. */
  steps: StepExecution[];
  /** The events the engine received for the run (its start, the resumes), oldest first. */
  events: Array<{ name: string; ts: number }>;
}

/** Everything known of a run that did not end in time, gathered once the bound passed. */
export interface HangEvidence {
  /** The run id the caller used (after any retried start). */
  runId: string;
  /** When the run started and when the evidence was taken, epoch ms (the test process's clock). */
  startedAt: number;
  reportedAt: number;
  /** How long a run may take, in ms. */
  boundMs: number;
  /** What the suite's driver of the run still waited for; absent when it had returned at the bound. */
  driverWaitingFor?: string;
  /** What the caller saw: its chunk types in order, each `resume()`, failed starts, and its problems. */
  caller: {
    ended: boolean;
    chunkTypes: string[];
    resumes: string[];
    startFailures: string[];
    problems: string[];
    /** Its subscriptions to the run's topic at the deadline, when its stream was still open. */
    subscriptions?: string | undefined;
  };
  /** The run record in the cache, `undefined` inside when there is none. */
  record: Readout<unknown>;
  /** The run's stream history from offset 0. */
  history: Readout<Event[]>;
  /** The engine's run; `undefined` when the engine never started it or no longer keeps it. */
  engine: EngineRunState | undefined;
  /** The timed faults that struck while the run was going: see {@link faultsThatStruck}. */
  faults: FaultRecord[];
}

/** Faults that strike every run at once: the processes and the connections they all share. */
const sharedFaults: readonly FaultKind[] = ["worker-kill", "redis-client-kill", "redis-restart"];

/**
 * The timed faults that could have struck one run within [from, to]: every worker kill, connection
 * kill and Redis restart (all runs share those), and the faults aimed at this run only (a lost step,
 * an observer reconnecting), whose detail starts with its run id.
 */
export function faultsThatStruck(
  records: readonly FaultRecord[],
  runId: string,
  from: number,
  to: number,
): FaultRecord[] {
  return records.filter(
    (record) =>
      record.at >= from &&
      record.at <= to &&
      (sharedFaults.includes(record.kind) || record.detail.split(" ")[0] === runId),
  );
}

/** How many lines of each list the report shows: the latest ones, where a hang shows itself. */
const tailLength = { history: 10, steps: 12, faults: 20 } as const;

/**
 * The report of a run that did not end in time, one line per fact and indented lists, with times
 * relative to the run's start: what the caller saw, the run record, the tail of the history, the
 * engine's state of the run, and the faults that struck it. Enough to tell where it stopped (the
 * engine blocked on a wait nobody satisfies, a step that never came back, a terminal event the
 * history holds but the caller never received) without replaying the seed.
 */
export function formatHangReport(evidence: HangEvidence): string {
  const since = (at: number): string => `+${((at - evidence.startedAt) / 1000).toFixed(1)} s`;
  const { caller } = evidence;
  const lines = [
    `${evidence.runId}: did not end within ${evidence.boundMs / 1000} s; report taken ${since(evidence.reportedAt)}`,
    evidence.driverWaitingFor === undefined
      ? "  suite: its driver of the run gave up at the bound"
      : `  suite: its driver of the run still waits for ${evidence.driverWaitingFor}`,
    `  caller: ${caller.ended ? "stream ended" : "stream not ended"} after ${caller.chunkTypes.length} chunks, ` +
      `last ${caller.chunkTypes.slice(-4).join(", ") || "none"}; resumes: ${caller.resumes.join("; ") || "none"}; ` +
      `failed starts: ${caller.startFailures.join(", ") || "none"}; problems: ${caller.problems.join("; ") || "none"}`,
    ...(caller.subscriptions === undefined
      ? []
      : [`  caller's subscriptions at the deadline: ${caller.subscriptions}`]),
    `  record: ${"error" in evidence.record ? `unreadable (${evidence.record.error})` : (JSON.stringify(evidence.record.value) ?? "none")}`,
  ];
  if ("error" in evidence.history) {
    lines.push(`  history: unreadable (${evidence.history.error})`);
  } else {
    const events = evidence.history.value;
    lines.push(`  history: ${events.length} events${tail(events.length, tailLength.history)}`);
    lines.push(...events.slice(-tailLength.history).map((event) => `    ${describeEvent(event)}`));
  }
  const engine = evidence.engine;
  if (engine === undefined) {
    lines.push("  engine: no run (never started, or no longer kept)");
  } else {
    lines.push(
      `  engine: run ${engine.id} ${engine.status}, blocked on ${engine.blockedOn.length === 0 ? "nothing" : engine.blockedOn.join(", ")}; ` +
        `events: ${engine.events.map((event) => `${since(event.ts)} ${event.name}`).join("; ") || "none"}`,
    );
    lines.push(`  engine steps: ${engine.steps.length} executions${tail(engine.steps.length, tailLength.steps)}`);
    lines.push(
      ...engine.steps
        .slice(-tailLength.steps)
        .map(
          (step) =>
            `    ${since(step.at)} ${step.name}@${step.attempt} ${step.outcome} by ${step.reportedBy}${step.discarded ? ", discarded" : ""}`,
        ),
    );
  }
  lines.push(`  faults while it ran: ${evidence.faults.length}${tail(evidence.faults.length, tailLength.faults)}`);
  lines.push(
    ...evidence.faults.slice(-tailLength.faults).map((fault) => `    ${since(fault.at)} ${fault.kind} ${fault.detail}`),
  );
  return lines.join("\n");
}

function tail(length: number, shown: number): string {
  return length > shown ? `, the last ${shown}:` : length > 0 ? ":" : "";
}
