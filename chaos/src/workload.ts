import type { Random } from "./random.ts";

/** The tool the model calls: `record` runs at once, `transfer` needs an approval first. */
export type ChaosToolName = "record" | "transfer";

/** One tool call the model makes. */
export interface ToolCallPlan {
  tool: ChaosToolName;
  /** For `transfer`: whether the caller approves it (otherwise it denies it). */
  approve: boolean;
  /** How long the caller waits before deciding, in milliseconds. */
  decisionDelayMs: number;
}

/** One turn of the model that writes some words, then calls tools. */
export interface IterationPlan {
  /** Words of text before the tool calls. */
  words: number;
  calls: ToolCallPlan[];
}

/** Everything one run does, drawn from the seed before it starts. */
export interface RunPlan {
  runId: string;
  iterations: IterationPlan[];
  /** Words of the final answer. */
  finalWords: number;
  /** Milliseconds the model waits before each stream part, so faults land inside steps. */
  chunkDelayMs: number;
  /** A step whose result the engine loses once, as if its process died after it ran. */
  crashStep?: string;
}

/** How big runs get. */
export interface WorkloadLimits {
  /** Most tool iterations per run. @default 3 */
  maxIterations?: number;
  /** Most tool calls per iteration. @default 2 */
  maxCallsPerIteration?: number;
  /** Most words per turn. @default 30 */
  maxWords?: number;
  /** The share of runs with a step whose result is lost once. @default 0.3 */
  crashProbability?: number;
}

/**
 * Draws a run's plan: tool iterations, calls (a third need an approval, and one in four of those
 * is denied), words per turn, the model's pace, and maybe a step whose result is lost once.
 *
 * @example
 * const plan = planRun(createRandom(7).fork("run-0"), "r7-0");
 */
export function planRun(random: Random, runId: string, limits: WorkloadLimits = {}): RunPlan {
  const maxWords = limits.maxWords ?? 30;
  const iterations = Array.from({ length: random.integer(0, limits.maxIterations ?? 3) }, () => ({
    words: random.integer(0, maxWords),
    calls: Array.from({ length: random.integer(1, limits.maxCallsPerIteration ?? 2) }, () => {
      const tool: ChaosToolName = random.chance(1 / 3) ? "transfer" : "record";
      return {
        tool,
        approve: tool === "record" || random.chance(0.75),
        decisionDelayMs: random.integer(0, 400),
      };
    }),
  }));
  const steps = [
    ...iterations.flatMap((iteration, turn) => [
      `llm:${turn}`,
      ...iteration.calls.map((_call, position) => `tool:${turn}:${position}`),
      `map:${turn}`,
    ]),
    `llm:${iterations.length}`,
  ];
  const crashStep = random.chance(limits.crashProbability ?? 0.3) ? random.pick(steps) : undefined;
  return {
    runId,
    iterations,
    finalWords: random.integer(1, maxWords),
    chunkDelayMs: random.integer(0, 15),
    ...(crashStep === undefined ? {} : { crashStep }),
  };
}

/** The word `position` of turn `turn` of a run: unique across runs, so texts compare exactly. */
export function planWord(runId: string, turn: number, position: number): string {
  return `${runId}t${turn}w${position} `;
}

/** The user message that carries a plan to the model of any process. */
export function planMessage(plan: RunPlan): string {
  return `chaos-plan ${JSON.stringify(plan)}`;
}

/** The plan inside a user message written by {@link planMessage}, if it holds one. */
export function readPlanMessage(text: string): RunPlan | undefined {
  return text.startsWith("chaos-plan ") ? (JSON.parse(text.slice("chaos-plan ".length)) as RunPlan) : undefined;
}
