/** The faults the suite injects, each counted only when it really happened. */
export const faultKinds = [
  "worker-kill",
  "redis-client-kill",
  "redis-restart",
  "step-crash",
  "live-event-drop",
  "observer-reconnect",
] as const;

/** One kind of fault. */
export type FaultKind = (typeof faultKinds)[number];

/** A fault that happened: its kind, when (test process clock, ms) and what it hit. */
export interface FaultRecord {
  kind: FaultKind;
  at: number;
  detail: string;
}

/** Records the faults that took effect, for the report and for explaining re-executed tools. */
export class FaultLog {
  readonly #records: FaultRecord[] = [];
  readonly #counts = new Map<FaultKind, number>(faultKinds.map((kind) => [kind, 0]));

  /** Counts `times` faults of `kind`; only timed faults keep a record (dropped events are many). */
  record(kind: FaultKind, detail = "", times = 1): void {
    this.#counts.set(kind, (this.#counts.get(kind) ?? 0) + times);
    if (kind !== "live-event-drop") {
      this.#records.push({ kind, at: Date.now(), detail });
    }
  }

  /** How many faults of each kind happened. */
  counts(): Record<FaultKind, number> {
    return Object.fromEntries(faultKinds.map((kind) => [kind, this.#counts.get(kind) ?? 0])) as Record<
      FaultKind,
      number
    >;
  }

  /** Every timed fault, in order. */
  records(): readonly FaultRecord[] {
    return this.#records;
  }

  /** Faults of the given kinds that happened within [from, to]. */
  between(from: number, to: number, kinds: readonly FaultKind[]): FaultRecord[] {
    return this.#records.filter((record) => record.at >= from && record.at <= to && kinds.includes(record.kind));
  }
}
