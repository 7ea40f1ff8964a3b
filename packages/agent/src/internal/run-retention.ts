import type { MastraServerCache } from "@mastra/core/cache";
import { getDefaultTtlMs, invalidOption, type RunStatus } from "@mastra/inngest-core";
import type { RunRetention } from "../inngest-agent-options.ts";
import { packageName } from "./stream-input.ts";

/** A run's retention, every figure in milliseconds. */
export interface ResolvedRetention {
  /** The history of a run in progress, after its last event. */
  activeMs: number;
  /** The history of a run that ended, after its end. */
  endedMs: number;
  /** How long a run waits for a decision (`waitTimeoutMs`). */
  waitMs: number;
}

const oneDayMs = 86_400_000;
const oneHourMs = 3_600_000;

/** The retention of `createInngestAgent({ retention })`, defaulted from the cache, validated. */
export function resolveRetention(
  retention: RunRetention | undefined,
  cache: MastraServerCache,
  waitMs: number,
): ResolvedRetention {
  const activeMs = positive("retention.activeMs", retention?.activeMs) ?? getDefaultTtlMs(cache) ?? oneDayMs;
  const endedMs = positive("retention.endedMs", retention?.endedMs) ?? Math.min(oneHourMs, activeMs);
  return { activeMs, endedMs, waitMs };
}

/**
 * How long the history is kept in each phase, as the stream cache takes it: `activeMs` after each
 * event, `endedMs` after the end, and while the run waits for a decision as long as the wait can
 * last and `endedMs` more (for the run's end to be read after an expired wait).
 */
export function historyRetention(retention: ResolvedRetention): {
  ttlMs: number;
  terminalTtlMs: number;
  suspendedTtlMs: number;
} {
  return {
    ttlMs: retention.activeMs,
    terminalTtlMs: retention.endedMs,
    suspendedTtlMs: suspendedHistoryMs(retention),
  };
}

/** How long a waiting run's history is kept: as long as the wait can last, and `endedMs` more. */
export function suspendedHistoryMs(retention: ResolvedRetention): number {
  return retention.waitMs + retention.endedMs;
}

/**
 * How long the run's record, claim and decisions are kept after a write in `status`: the
 * history's time in that phase and `activeMs` more, so they outlive the history, and `observe()`
 * of a run whose history expired still says what became of it. A running run's are refreshed at
 * each LLM step, its history at each event.
 */
export function bookkeepingTtlMs(retention: ResolvedRetention, status: RunStatus): number {
  switch (status) {
    case "running":
      return 2 * retention.activeMs;
    case "suspended":
      return suspendedHistoryMs(retention) + retention.activeMs;
    default:
      return retention.endedMs + retention.activeMs;
  }
}

function positive(field: string, value: number | undefined): number | undefined {
  if (value === undefined) {
    return undefined;
  }
  if (!Number.isSafeInteger(value) || value <= 0) {
    throw invalidOption(packageName, field, "a whole number of milliseconds above 0", value);
  }
  return value;
}
