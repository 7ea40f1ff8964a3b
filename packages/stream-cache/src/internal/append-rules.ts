import type { IndexedAppendEntry, IndexedAppendOutcome } from "@mastra/inngest-core";

/** What a topic's history holds that the append rules read for one entry. */
export interface AppendState {
  /** The index stored under the entry's deduplication key, if any. */
  knownIndex: number | undefined;
  /** Events stored so far. */
  stored: number;
  /** The most events the history may hold, if limited. */
  maxEvents: number | undefined;
  /** The newest attempt recorded for the entry's step, if it has a producer and one is recorded. */
  currentAttempt: number | undefined;
}

/** What to do with one entry: refuse it with an outcome, or append it. */
export type AppendDecision =
  | { action: "refuse"; outcome: IndexedAppendOutcome }
  | {
      action: "append";
      /** Set when the entry starts a newer attempt: store a superseded marker for this attempt first. */
      supersededAttempt: number | undefined;
      /** Whether the entry's attempt becomes its step's newest. */
      recordsAttempt: boolean;
    };

/**
 * The append rules every cache without an atomic script shares, in order: a stored key is a
 * duplicate; a full history refuses all but exempt entries; an older attempt than the step's
 * newest is stale; a newer one supersedes it. `RedisStreamCache`'s Lua script applies the same
 * rules inside Redis.
 */
export function decideAppend(entry: IndexedAppendEntry, state: AppendState): AppendDecision {
  if (state.knownIndex !== undefined) {
    return { action: "refuse", outcome: { status: "duplicate", index: state.knownIndex } };
  }
  if (state.maxEvents !== undefined && state.stored >= state.maxEvents && entry.exemptFromLimit !== true) {
    return { action: "refuse", outcome: { status: "limit" } };
  }
  const producer = entry.producer;
  const current = state.currentAttempt;
  if (producer === undefined) {
    return { action: "append", supersededAttempt: undefined, recordsAttempt: false };
  }
  if (current !== undefined && producer.attempt < current) {
    return { action: "refuse", outcome: { status: "stale", currentAttempt: current } };
  }
  return {
    action: "append",
    supersededAttempt: current !== undefined && producer.attempt > current ? current : undefined,
    recordsAttempt: current === undefined || producer.attempt > current,
  };
}
