import type { StreamChunk } from "./step-publisher.ts";

type Usage = { inputTokens: number | undefined; outputTokens: number | undefined; totalTokens: number | undefined };

// After a model error, core's durable LLM step streams a step-finish with zero tokens, and the
// loop's usage, which starts at zero, stays there: the failed call reported no usage at all. The
// plain output has no counts then (undefined), so the run's chunks say so too.
const noCounts: Usage = { inputTokens: undefined, outputTokens: undefined, totalTokens: undefined };

/** Whether every count is zero: what core writes for a call that reported nothing. */
function allZero(usage: Partial<Usage> | undefined): boolean {
  return usage !== undefined && !usage.inputTokens && !usage.outputTokens && !usage.totalTokens;
}

/** The usage a run reports: none after a model error whose calls reported nothing. */
export function reportedUsage<T extends Usage>(usage: T, reason: string | undefined): T | Usage {
  return reason === "error" && allZero(usage) ? noCounts : usage;
}

/** A step-finish of a failed model call, with no counts instead of core's zeros. */
export function withoutUnreportedUsage(chunk: StreamChunk): StreamChunk {
  const payload = chunk.payload as
    | { stepResult?: { reason?: string }; output?: { usage?: Partial<Usage> } }
    | undefined;
  if (chunk.type !== "step-finish" || payload?.stepResult?.reason !== "error" || !allZero(payload.output?.usage)) {
    return chunk;
  }
  return { ...chunk, payload: { ...chunk.payload, output: { ...payload.output, usage: noCounts } } };
}
