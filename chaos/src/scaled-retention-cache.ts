import type { IndexedAppendOutcome, IndexedAppendRequest } from "@mastra/inngest-core";
import { RedisStreamCache, type RedisStreamCacheOptions } from "@mastra/inngest-stream-cache-redis";

/** Options of {@link ScaledRetentionCache}: the cache's own, and the divisor. */
export type ScaledRetentionCacheOptions = RedisStreamCacheOptions & {
  /** Every time to live is divided by this factor, and kept at least one second. */
  retentionDivisor: number;
};

/**
 * A `RedisStreamCache` whose times to live are divided by a factor, so retention (one hour after a
 * run ends, a day for run records) passes within a test. Only the durations change: which keys get
 * a time to live, and when it is set or refreshed, stay the product's.
 */
export class ScaledRetentionCache extends RedisStreamCache {
  readonly #divisor: number;
  readonly #unscaledTtlMs: number;

  constructor(options: ScaledRetentionCacheOptions) {
    const { retentionDivisor, ...rest } = options;
    super({
      ...rest,
      ttlSeconds: Math.max(1, Math.round((rest.ttlSeconds ?? 86_400) / retentionDivisor)),
    } as RedisStreamCacheOptions);
    this.#divisor = retentionDivisor;
    this.#unscaledTtlMs = (rest.ttlSeconds ?? 86_400) * 1000;
  }

  /**
   * The product's own default, unscaled: the agent derives its retention from it and passes every
   * time to live through this cache, which scales it once.
   */
  override get defaultTtlMs(): number {
    return this.#unscaledTtlMs;
  }

  override async set(key: string, value: unknown, ttlMs?: number): Promise<void> {
    await super.set(key, value, ttlMs === undefined ? undefined : this.#scale(ttlMs));
  }

  override async appendIndexed(request: IndexedAppendRequest): Promise<IndexedAppendOutcome[]> {
    return await super.appendIndexed(
      request.ttlMs === undefined ? request : { ...request, ttlMs: this.#scale(request.ttlMs) },
    );
  }

  override async retain(keys: readonly string[], ttlMs: number): Promise<void> {
    await super.retain(keys, this.#scale(ttlMs));
  }

  override async expire(keys: readonly string[], ttlMs: number): Promise<void> {
    await super.expire(keys, this.#scale(ttlMs));
  }

  #scale(ttlMs: number): number {
    return Math.max(1_000, Math.round(ttlMs / this.#divisor));
  }
}
