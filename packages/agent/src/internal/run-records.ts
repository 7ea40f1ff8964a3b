import type { MastraServerCache } from "@mastra/core/cache";
import {
  createKeyLayout,
  expireKeys,
  type KeyLayout,
  type PendingResume,
  type RunRecord,
  type RunStatus,
} from "@mastra/inngest-core";
import type { RunSpanData } from "./core-durable/index.ts";
import { bookkeepingTtlMs, type ResolvedRetention } from "./run-retention.ts";

/** A decision recorded by `resume()` for one suspension of a tool call. */
export interface RecordedDecision {
  resumeData: unknown;
  recordedAt: string;
  resumeId: string;
}

/** Who claimed a run id: the owner's resource id, if any, and the claim's own id, which the run input carries. */
export interface RunClaimant {
  resourceId?: string;
  claimId: string;
}

/** What tells one suspension of a tool call from another: the call, and when it asked. */
export type SuspensionKey = Pick<PendingResume, "toolCallId" | "requestedAt">;

/** Reads and writes run records in the cache, under the same key layout as the stream history. */
export class RunRecords {
  readonly #cache: () => MastraServerCache;
  readonly #retention: () => ResolvedRetention;
  readonly #layout: KeyLayout;

  /** `retention` says how long each key is kept (see run-retention.ts). */
  constructor(cache: () => MastraServerCache, retention: () => ResolvedRetention, keyPrefix?: string) {
    this.#cache = cache;
    this.#retention = retention;
    this.#layout = createKeyLayout(keyPrefix === undefined ? {} : { keyPrefix });
  }

  /**
   * Claims a run id for a new run, with its claimant (owner and claim id) in the same atomic push:
   * the first caller gets true, every later one false, so two `stream()` or `prepare()` calls can
   * never start the same run, and no failure can leave a claimed run without its owner. A push the
   * client sent again after a lost reply comes back with a later index although this claim is the
   * first: the first claimant's `claimId` tells.
   */
  async claim(runId: string, claimant: RunClaimant): Promise<boolean> {
    const keys = this.#layout.run(runId);
    const index = await this.#cache().listPushIndexed(keys.claimants, keys.claim, { ...claimant });
    const won = index === 0 || (await this.readClaimant(runId))?.claimId === claimant.claimId;
    if (won) {
      // Written with the cache's default TTL; kept as long as the record of a running run.
      await this.#keep(runId, "running");
    }
    return won;
  }

  /**
   * Keeps a running run's record and claim as long as its phase asks (each LLM step calls it):
   * its history is refreshed by every event, and these must outlive it.
   */
  async keepAlive(runId: string): Promise<void> {
    await this.#keep(runId, "running");
  }

  /**
   * Sets the record and claim (and any other run keys given) to expire exactly when `status` asks:
   * longer while the run waits, shorter once it ended, and never the cache's default they were
   * pushed with.
   */
  async #keep(runId: string, status: RunStatus, extraKeys: readonly string[] = []): Promise<void> {
    const keys = this.#layout.run(runId);
    const ttlMs = bookkeepingTtlMs(this.#retention(), status);
    await expireKeys(this.#cache(), [keys.record, keys.claim, keys.claimants, ...extraKeys], ttlMs);
  }

  /**
   * The run's claimant, `undefined` for a run id nobody claimed (within retention): from the claim's
   * own list, else from the run's record. A run known by neither is unknown, never unowned.
   */
  async readClaimant(runId: string): Promise<RunClaimant | undefined> {
    const keys = this.#layout.run(runId);
    const entries = (await this.#cache().listFromTo(keys.claimants, 0)) as Array<RunClaimant & { index?: number }>;
    const first = entries.find((entry) => entry?.index === 0);
    if (first !== undefined) {
      const { index: _index, ...claimant } = first;
      return claimant;
    }
    // The claim's keys may expire before the record, which is refreshed on every write and keeps the owner.
    return (await this.read(runId))?.owner;
  }

  /** Whether a run id was ever claimed or recorded (within retention). */
  async exists(runId: string): Promise<boolean> {
    const keys = this.#layout.run(runId);
    const [record, claim] = await Promise.all([this.#cache().get(keys.record), this.#cache().get(keys.claim)]);
    return (record !== undefined && record !== null) || (claim !== undefined && claim !== null);
  }

  /** How many events the run's stream history holds now. */
  async historyLength(runId: string): Promise<number> {
    return await this.#cache().listLength(this.#layout.run(runId).stream.events);
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
      ...(previous?.owner === undefined ? {} : { owner: previous.owner }),
      createdAt: previous?.createdAt ?? now,
      updatedAt: now,
      ...extra,
    };
    // Exactly the phase's time: a run that ended keeps its record shorter than a running one.
    await this.#cache().set(this.#layout.run(runId).record, record, bookkeepingTtlMs(this.#retention(), status));
    await this.#keep(runId, status);
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
   * Records the decision of one suspension (`requestedAt` tells suspensions of a call apart) and
   * claims it in the same atomic push: true for the first `resume()`, false for every later one.
   * One operation, so no failure can leave a suspension claimed without a decision: when the reply
   * is lost, the decision is stored all the same and a retried `resume()` learns it was decided.
   * A push the client sent again after a lost reply (a reconnect's resend, a write retry) comes back
   * with a later index although this decision is the first: the first entry's `resumeId` tells.
   */
  async recordDecision(runId: string, pending: SuspensionKey, decision: RecordedDecision): Promise<boolean> {
    const keys = this.#decisionKeys(runId, pending);
    const index = await this.#cache().listPushIndexed(keys.list, keys.claim, { ...decision });
    // The run reads the decision when its wait ends, which may be as late as the wait allows.
    await this.#keep(runId, "suspended", [keys.list, keys.claim]);
    if (index === 0) {
      return true;
    }
    return (await this.readDecision(runId, pending))?.resumeId === decision.resumeId;
  }

  /** The decision of one suspension, if any: the one pushed first, whatever came after it. */
  async readDecision(runId: string, pending: SuspensionKey): Promise<RecordedDecision | undefined> {
    const entries = (await this.#cache().listFromTo(this.#decisionKeys(runId, pending).list, 0)) as Array<
      RecordedDecision & { index?: number }
    >;
    // By index, not position: a cache whose indexed push is not atomic may store a later one first.
    const first = entries.find((entry) => entry?.index === 0);
    if (first === undefined) {
      return undefined;
    }
    const { index: _index, ...decision } = first;
    return decision;
  }

  /**
   * Claims the end of a run's root spans (by its agent run span's id): true for the first caller
   * only, so a finish, a failure and an abort that race each other, in any processes, end them once.
   */
  async claimSpansEnd(runId: string, agentSpanId: string): Promise<boolean> {
    const keys = this.#layout.run(runId).spansEnd(agentSpanId);
    const index = await this.#cache().listPushIndexed(keys.list, keys.claim, { claimedAt: new Date().toISOString() });
    // Kept as long as an ended run's record: no later claim can come after that.
    await expireKeys(this.#cache(), [keys.list, keys.claim], bookkeepingTtlMs(this.#retention(), "finished"));
    return index === 0;
  }

  /** Keeps the root spans a resumed run goes on under, for the failure handler (see `readRootSpans`). */
  async writeRootSpans(runId: string, spans: RunSpanData): Promise<void> {
    // As long as a suspended run's record: the run may suspend again and wait that long.
    await this.#cache().set(this.#layout.run(runId).rootSpans, spans, bookkeepingTtlMs(this.#retention(), "suspended"));
  }

  /** The root spans the last resume of the run opened, if any (the run input has the first ones). */
  async readRootSpans(runId: string): Promise<RunSpanData | undefined> {
    const value = await this.#cache().get(this.#layout.run(runId).rootSpans);
    return value === undefined || value === null ? undefined : (value as RunSpanData);
  }

  #decisionKeys(runId: string, pending: SuspensionKey): { list: string; claim: string } {
    return this.#layout.run(runId).decision(pending.toolCallId, pending.requestedAt);
  }

  /** Removes the run's record, claim, claimants and root spans. */
  async remove(runId: string): Promise<void> {
    const keys = this.#layout.run(runId);
    await Promise.all(
      [keys.record, keys.claim, keys.claimants, keys.rootSpans].map((key) => this.#cache().delete(key)),
    );
  }
}
