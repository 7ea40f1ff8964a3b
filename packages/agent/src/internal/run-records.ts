import type { MastraServerCache } from "@mastra/core/cache";
import {
  createKeyLayout,
  type KeyLayout,
  type PendingResume,
  type RunRecord,
  type RunStatus,
  toSafeToolCallId,
} from "@mastra/inngest-core";

/** A decision recorded by `resume()` for one suspension of a tool call. */
export interface RecordedDecision {
  resumeData: unknown;
  recordedAt: string;
  resumeId: string;
}

/** How long a run record is kept, in milliseconds: as long as the stream history's default TTL. */
const recordTtlMs = 86_400_000;

/** Reads and writes run records in the cache, under the same key layout as the stream history. */
export class RunRecords {
  readonly #cache: () => MastraServerCache;
  readonly #layout: KeyLayout;

  constructor(cache: () => MastraServerCache, keyPrefix?: string) {
    this.#cache = cache;
    this.#layout = createKeyLayout(keyPrefix === undefined ? {} : { keyPrefix });
  }

  /**
   * Claims a run id for a new run: the first caller gets true, every later one false (atomic in
   * any cache, through its counter), so two `stream()` calls can never start the same run.
   */
  async claim(runId: string): Promise<boolean> {
    return (await this.#cache().increment(`${this.#layout.run(runId).record}:claim`)) === 1;
  }

  /** Whether a run id was ever claimed or recorded (within retention). */
  async exists(runId: string): Promise<boolean> {
    const keys = this.#layout.run(runId);
    const [record, claim] = await Promise.all([
      this.#cache().get(keys.record),
      this.#cache().get(`${keys.record}:claim`),
    ]);
    return (record !== undefined && record !== null) || (claim !== undefined && claim !== null);
  }

  /** The run's record, if any. */
  async read(runId: string): Promise<RunRecord | undefined> {
    const value = await this.#cache().get(this.#layout.run(runId).record);
    return value === undefined || value === null ? undefined : (value as RunRecord);
  }

  /** Writes the run's status, keeping what the record already holds. */
  async write(runId: string, agentId: string, status: RunStatus, extra: Partial<RunRecord> = {}): Promise<void> {
    const now = new Date().toISOString();
    const previous = await this.read(runId);
    const record: RunRecord = {
      version: 1,
      runId,
      agentId,
      status,
      pendingResumes: previous?.pendingResumes ?? [],
      createdAt: previous?.createdAt ?? now,
      updatedAt: now,
      ...extra,
    };
    await this.#cache().set(this.#layout.run(runId).record, record, recordTtlMs);
  }

  /** Adds a tool call that waits for a decision, and marks the run suspended. */
  async addPending(runId: string, agentId: string, pending: PendingResume): Promise<void> {
    const record = await this.read(runId);
    const others = (record?.pendingResumes ?? []).filter((entry) => entry.toolCallId !== pending.toolCallId);
    await this.write(runId, agentId, "suspended", { pendingResumes: [...others, pending] });
  }

  /** Removes a tool call that got its decision; the run runs again when none is left. */
  async removePending(runId: string, agentId: string, toolCallId: string): Promise<void> {
    const record = await this.read(runId);
    const left = (record?.pendingResumes ?? []).filter((entry) => entry.toolCallId !== toolCallId);
    await this.write(runId, agentId, left.length === 0 ? "running" : "suspended", { pendingResumes: left });
  }

  /**
   * Claims the decision of one suspension (`requestedAt` tells suspensions of a call apart):
   * true for the first `resume()`, false for every later one, atomically in any cache.
   */
  async claimDecision(runId: string, pending: PendingResume): Promise<boolean> {
    return (await this.#cache().increment(`${this.#decisionKey(runId, pending)}:claim`)) === 1;
  }

  /** Stores a claimed decision for the run to read. */
  async writeDecision(runId: string, pending: PendingResume, decision: RecordedDecision): Promise<void> {
    await this.#cache().set(this.#decisionKey(runId, pending), decision, recordTtlMs);
  }

  /** The recorded decision of one suspension, if any. */
  async readDecision(runId: string, pending: PendingResume): Promise<RecordedDecision | undefined> {
    const value = await this.#cache().get(this.#decisionKey(runId, pending));
    return value === undefined || value === null ? undefined : (value as RecordedDecision);
  }

  #decisionKey(runId: string, pending: PendingResume): string {
    return `${this.#layout.run(runId).record}:decision:${toSafeToolCallId(pending.toolCallId)}:${pending.requestedAt}`;
  }

  /** Removes the run's record and claim. */
  async remove(runId: string): Promise<void> {
    const record = this.#layout.run(runId).record;
    await Promise.all([this.#cache().delete(record), this.#cache().delete(`${record}:claim`)]);
  }
}
