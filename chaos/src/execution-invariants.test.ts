import { describe, expect, it } from "vitest";
import type { RunResult } from "./drive-run.ts";
import { executionViolations } from "./execution-invariants.ts";
import { expectedOutcome } from "./expected-outcome.ts";
import { FaultLog } from "./fault-log.ts";
import type { RunPlan } from "./workload.ts";

const plan: RunPlan = {
  runId: "r-1",
  iterations: [
    {
      words: 0,
      calls: [
        { tool: "record", approve: true, decisionDelayMs: 0 },
        { tool: "transfer", approve: false, decisionDelayMs: 0 },
      ],
    },
  ],
  finalWords: 1,
  chunkDelayMs: 0,
};
const result = {
  plan,
  expected: expectedOutcome(plan),
  engineStatus: "Completed",
  crashed: false,
} as RunResult;
const ran = (reference: string, at: number) => ({ reference, tool: "record", pid: 1, at });

describe("executionViolations", () => {
  it("accepts one execution of each call that runs", () => {
    expect(executionViolations([result], [ran("r-1/0/0", 10)], new FaultLog()).violations).toEqual([]);
  });

  it("reports a denied call that ran, a call that never ran, and a call no plan made", () => {
    const { violations } = executionViolations([result], [ran("r-1/0/1", 10), ran("r-9/0/0", 10)], new FaultLog());
    expect(violations).toEqual([
      "r-1/0/0: the run completed, yet record never ran",
      "r-1/0/1: denied, yet transfer ran 1 times",
      "r-9/0/0: a tool ran for a call no plan made",
    ]);
  });

  it("accepts a repeated execution only when a fault struck between the two", () => {
    const twice = [ran("r-1/0/0", Date.now() - 1_000), ran("r-1/0/0", Date.now() + 1_000)];
    expect(executionViolations([result], twice, new FaultLog()).violations).toEqual([
      "r-1/0/0: record ran 2 times with no fault between the runs",
    ]);
    const faults = new FaultLog();
    faults.record("worker-kill", "worker 0");
    expect(executionViolations([result], twice, faults)).toMatchObject({ violations: [], repeatedAfterFault: 1 });
  });
});
