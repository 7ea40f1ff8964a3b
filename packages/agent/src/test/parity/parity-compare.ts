import { isDeepStrictEqual } from "node:util";
import type { RunObservation, SegmentObservation, Settled } from "./parity-observation.ts";
import type { ParityScenario } from "./parity-scenarios.ts";

/** One way the durable run differed from the plain one. */
export interface ParityDifference {
  scenario: string;
  /** `segment <n> <aspect>`, `modelCalls` or `memory`. */
  aspect: string;
  plain: unknown;
  durable: unknown;
}

/** A difference the harness accepts, with the reason: docs/differences.md lists each. */
export interface ParityAllowance {
  /** A short name, also the first column of the table in docs/differences.md. */
  id: string;
  /** Why the durable run differs here. */
  reason: string;
  /** Rewrites an observation so the accepted difference no longer shows. */
  normalize(observation: RunObservation, side: "plain" | "durable", scenario: ParityScenario): RunObservation;
}

const segmentAspects = [
  "chunkTypes",
  "text",
  "finishReason",
  "usage",
  "object",
  "toolCalls",
  "toolResults",
  "callbacks",
] as const satisfies ReadonlyArray<keyof SegmentObservation>;

/** Collapses runs of the same entry: streams that race an abort differ in how many deltas came first. */
function collapseRepeats(list: string[]): string[] {
  return list.filter((entry, position) => entry !== list[position - 1]);
}

/** An aborted text only says whether the output resolved, and with a prefix of what plain would write. */
function abortedText(text: Settled): Settled {
  return text.status === "resolved" ? { status: "resolved", value: "<text so far>" } : text;
}

/** What the comparison of an abort scenario looks at: the race decides how far each side got. */
function raceFree(observation: RunObservation, scenario: ParityScenario): RunObservation {
  if (scenario.interaction.kind !== "abort") {
    return observation;
  }
  return {
    ...observation,
    modelCalls: Math.min(observation.modelCalls, 1),
    segments: observation.segments.map((segment) => ({
      ...segment,
      chunkTypes: collapseRepeats(segment.chunkTypes),
      callbacks: collapseRepeats(segment.callbacks),
      text: abortedText(segment.text),
      usage: { status: segment.usage.status } as Settled,
    })),
  };
}

/** The differences between the plain and the durable observation of a scenario, after the allowances. */
export function compareRuns(
  scenario: ParityScenario,
  plainObservation: RunObservation,
  durableObservation: RunObservation,
  allowances: readonly ParityAllowance[],
): ParityDifference[] {
  const apply = (observation: RunObservation, side: "plain" | "durable") =>
    raceFree(
      allowances.reduce((current, allowance) => allowance.normalize(current, side, scenario), observation),
      scenario,
    );
  const plain = apply(plainObservation, "plain");
  const durable = apply(durableObservation, "durable");
  const found: ParityDifference[] = [];
  const add = (aspect: string, left: unknown, right: unknown) => {
    if (!isDeepStrictEqual(left, right)) {
      found.push({ scenario: scenario.name, aspect, plain: left, durable: right });
    }
  };
  add("segments", plain.segments.length, durable.segments.length);
  plain.segments.forEach((segment, position) => {
    const other = durable.segments[position];
    if (other !== undefined) {
      for (const aspect of segmentAspects) {
        add(`segment ${position} ${aspect}`, segment[aspect], other[aspect]);
      }
    }
  });
  add("modelCalls", plain.modelCalls, durable.modelCalls);
  add("memory", plain.memory, durable.memory);
  return found;
}
