import { describe, expect, it } from "vitest";
import { expectedOutcome } from "./expected-outcome.ts";
import { planTurns } from "./plan-model.ts";
import { createRandom } from "./random.ts";
import { planRun, type RunPlan } from "./workload.ts";

const plan: RunPlan = {
  runId: "r-1",
  iterations: [
    {
      words: 2,
      calls: [
        { tool: "record", approve: true, decisionDelayMs: 0 },
        { tool: "transfer", approve: false, decisionDelayMs: 0 },
      ],
    },
    { words: 0, calls: [{ tool: "transfer", approve: true, decisionDelayMs: 0 }] },
  ],
  finalWords: 1,
  chunkDelayMs: 0,
};

describe("expectedOutcome", () => {
  it("expects every turn's words in order, and a run of each call unless its transfer is denied", () => {
    const outcome = expectedOutcome(plan);
    expect(outcome.text).toBe("r-1t0w0 r-1t0w1 r-1t2w0 ");
    expect(outcome.toolCalls).toEqual([
      { reference: "r-1/0/0", toolCallId: "call_0_0", tool: "record", decision: "none", executes: true },
      { reference: "r-1/0/1", toolCallId: "call_0_1", tool: "transfer", decision: "deny", executes: false },
      { reference: "r-1/1/0", toolCallId: "call_1_0", tool: "transfer", decision: "approve", executes: true },
    ]);
    expect(outcome.turns).toBe(3);
  });

  it("agrees with the turns the model plays: one per iteration, then the answer", () => {
    const turns = planTurns(plan);
    expect(turns).toHaveLength(expectedOutcome(plan).turns);
    expect(turns[1]).toEqual({ toolCalls: [{ toolName: "transfer", args: { reference: "r-1/1/0" } }] });
    expect(turns.at(-1)).toEqual({ text: ["r-1t2w0 "] });
  });

  it("draws the same plan from the same seed", () => {
    expect(planRun(createRandom(3).fork("r"), "r-3")).toEqual(planRun(createRandom(3).fork("r"), "r-3"));
  });
});
