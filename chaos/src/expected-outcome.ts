import { planWord, type RunPlan } from "./workload.ts";

/** What must happen to one tool call of a run. */
export interface ExpectedToolCall {
  /** `<runId>/<turn>/<position>`, as the tool logs it. */
  reference: string;
  toolCallId: string;
  tool: string;
  /** The caller's decision, for a call that needs one. */
  decision: "approve" | "deny" | "none";
  /** Whether the tool runs: every `record`, an approved `transfer`. */
  executes: boolean;
}

/** The independent model of one run: what its plan alone says must come out of it. */
export interface ExpectedOutcome {
  /** How the engine must end the run. */
  status: "Completed";
  /** `output.text` of a replay from offset 0: every turn's words, in order. */
  text: string;
  toolCalls: ExpectedToolCall[];
  /** LLM calls, one per turn. */
  turns: number;
}

/**
 * Derives a run's outcome from its plan, without looking at anything the system did: the text is
 * every turn's words in order, each call's id is the scripted model's `call_<turn>_<position>`,
 * and a call runs unless its transfer is denied.
 */
export function expectedOutcome(plan: RunPlan): ExpectedOutcome {
  const wordsOf = (turn: number, count: number): string =>
    Array.from({ length: count }, (_, position) => planWord(plan.runId, turn, position)).join("");
  const text =
    plan.iterations.map((iteration, turn) => wordsOf(turn, iteration.words)).join("") +
    wordsOf(plan.iterations.length, plan.finalWords);
  const toolCalls = plan.iterations.flatMap((iteration, turn) =>
    iteration.calls.map((call, position) => ({
      reference: `${plan.runId}/${turn}/${position}`,
      toolCallId: `call_${turn}_${position}`,
      tool: call.tool,
      decision:
        call.tool === "transfer" ? (call.approve ? ("approve" as const) : ("deny" as const)) : ("none" as const),
      executes: call.tool === "record" || call.approve,
    })),
  );
  return { status: "Completed", text, toolCalls, turns: plan.iterations.length + 1 };
}
