import type { ParityAllowance } from "./parity-compare.ts";
import type { RunObservation } from "./parity-observation.ts";

/** Applies `change` to the plain side of the scenarios named. */
function onPlain(
  scenarios: readonly string[],
  change: (observation: RunObservation) => RunObservation,
): ParityAllowance["normalize"] {
  return (observation, side, scenario) =>
    side === "plain" && scenarios.includes(scenario.name) ? change(observation) : observation;
}

/**
 * Where the durable run differs from the plain `agent.stream()`, each with its reason. Every entry
 * is a row of the table in docs/differences.md, by `id` (a test
 * checks that both list the same ones).
 */
export const parityAllowances: readonly ParityAllowance[] = [
  {
    id: "abort-during-tool",
    reason:
      "an abort while a tool runs cancels the run on Inngest at once: the stream ends `abort, finish` without the tool's `tool-result`, where the plain loop waits for the tool to return first",
    normalize: onPlain(["abort mid-tool"], (observation) => ({
      ...observation,
      segments: observation.segments.map((segment) => ({
        ...segment,
        chunkTypes: segment.chunkTypes.filter((type) => type !== "tool-result"),
        toolResults: { status: "resolved", value: [] },
      })),
    })),
  },
  {
    id: "until-idle-order",
    reason:
      "with `untilIdle`, `background-task-running` may come before the run's `background-task-started` (the task manager's chunks are merged as they arrive), and a background call's `tool-result` skips `toolPayloadTransform`",
    // Where the task manager's chunk lands depends on timing on both sides: neither keeps it.
    normalize: (observation, _side, scenario) =>
      scenario.name === "untilIdle"
        ? {
            ...observation,
            segments: observation.segments.map((segment) => ({
              ...segment,
              chunkTypes: segment.chunkTypes.filter((type) => type !== "background-task-running"),
            })),
          }
        : observation,
  },
];
