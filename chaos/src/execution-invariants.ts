import { readFileSync } from "node:fs";
import type { RunResult } from "./drive-run.ts";
import type { FaultKind, FaultLog } from "./fault-log.ts";

/** One execution of a tool, as its process logged it. */
export interface ToolExecution {
  reference: string;
  tool: string;
  pid: number;
  at: number;
}

/** Reads the executions log the tools of every process append to. */
export function readExecutions(path: string): ToolExecution[] {
  let text = "";
  try {
    text = readFileSync(path, "utf8");
  } catch {
    return [];
  }
  return text
    .split("\n")
    .filter((line) => line !== "")
    .map((line) => {
      const [reference = "", tool = "", pid = "0", at = "0"] = line.split(" ");
      return { reference, tool, pid: Number(pid), at: Number(at) };
    });
}

/** Faults that can make a step run again after its tool ran: the process died, or its writes failed. */
const reexecutingFaults: readonly FaultKind[] = ["worker-kill", "redis-client-kill", "redis-restart"];

/** How many tool executions there were, and how many repeated one after a fault. */
export interface ExecutionSummary {
  executions: number;
  repeatedAfterFault: number;
  violations: string[];
}

/**
 * Tools against the model: a denied call never runs; a call the model runs ran at least once in a
 * run that completed; and it ran exactly once unless a fault struck between its first and last
 * execution (a killed worker, killed connections or a Redis restart, or the run's own lost step),
 * since a step that dies after its tool ran is run again: at least once, as Inngest steps are.
 * An execution no planned call explains is a violation too.
 */
export function executionViolations(
  results: RunResult[],
  executions: ToolExecution[],
  faults: FaultLog,
): ExecutionSummary {
  const violations: string[] = [];
  const byReference = new Map<string, ToolExecution[]>();
  for (const execution of executions) {
    byReference.set(execution.reference, [...(byReference.get(execution.reference) ?? []), execution]);
  }
  let repeatedAfterFault = 0;
  const known = new Set<string>();
  for (const result of results) {
    for (const call of result.expected.toolCalls) {
      known.add(call.reference);
      const runs = byReference.get(call.reference) ?? [];
      if (!call.executes) {
        if (runs.length > 0) {
          violations.push(`${call.reference}: denied, yet ${call.tool} ran ${runs.length} times`);
        }
        continue;
      }
      if (runs.length === 0) {
        if (result.engineStatus === "Completed") {
          violations.push(`${call.reference}: the run completed, yet ${call.tool} never ran`);
        }
        continue;
      }
      if (runs.length === 1) {
        continue;
      }
      const first = Math.min(...runs.map((run) => run.at));
      const last = Math.max(...runs.map((run) => run.at));
      if (result.crashed || faults.between(first, last, reexecutingFaults).length > 0) {
        repeatedAfterFault += runs.length - 1;
      } else {
        violations.push(`${call.reference}: ${call.tool} ran ${runs.length} times with no fault between the runs`);
      }
    }
  }
  for (const reference of byReference.keys()) {
    if (!known.has(reference)) {
      violations.push(`${reference}: a tool ran for a call no plan made`);
    }
  }
  return { executions: executions.length, repeatedAfterFault, violations };
}
