import { createHash } from "node:crypto";
import { DEFAULT_KEY_PREFIX, ErrorCode, expireKeys, MastraInngestError } from "@mastra/inngest-core";
import type { InngestAgentStreamOptions } from "../inngest-agent-options.ts";
import type { AgentRuntime } from "./agent-runtime.ts";
import { runOwner } from "./run-claim.ts";
import { packageName } from "./stream-input.ts";
import { threadIdOf } from "./thread-lane.ts";

/**
 * The keys a rate limit may have, by their expression on the run event, with the field each names:
 * only what the caller knows before preparing a run. Inngest's keys are CEL over the event, which
 * the caller cannot evaluate in general.
 */
export const rateLimitKeyFields = {
  "event.data.state.resourceId": "resourceId",
  "event.data.state.threadId": "threadId",
} as const;

/** One of the expressions of {@link rateLimitKeyFields}. */
export type RateLimitKey = keyof typeof rateLimitKeyFields;

/**
 * The bucket of calls whose key field is missing (keyed on the resource, a call without one):
 * they share one limit. Not a hash, so it never equals a key value's bucket.
 */
export const missingKeyBucket = "missing";

/** An agent's `functionOptions.rateLimit`, validated: applied by the caller, never given to Inngest. */
export interface CallerRateLimit {
  /** Most runs started per window. */
  limit: number;
  /** The period as given, such as `"1m"`. */
  period: string;
  /** The period in milliseconds: the length of one window. */
  periodMs: number;
  /** What the limit is counted per; one count for the whole agent when absent. */
  key?: RateLimitKey;
}

/** The window a call falls in, and the cache key that counts its calls. */
export interface RateLimitWindow {
  /** The counter of the window's calls for the call's bucket. */
  key: string;
  /** When the window ends, epoch milliseconds. */
  endsAt: number;
}

/** What a `RATE_LIMITED` error carries in its `cause`. */
export interface RateLimitedDetails {
  /** The agent's id. */
  agentId: string;
  /** The field the limit is counted per (`resourceId`, `threadId`), or none for the whole agent. */
  keyField?: string;
  /** Most runs per period. */
  limit: number;
  /** The period, as configured. */
  period: string;
  /** How long until a new window starts, in milliseconds. */
  retryAfterMs: number;
}

const durationUnitMs: Record<string, number> = {
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  w: 604_800_000,
};

/** The milliseconds of an Inngest time string (`"30s"`, `"1h30m"`); the caller validated its form. */
export function durationMs(text: string): number {
  let total = 0;
  for (const [, amount, unit] of text.matchAll(/(\d+)(ms|s|m|h|d|w)/g)) {
    total += Number(amount) * (durationUnitMs[unit as string] ?? 0);
  }
  return total;
}

/**
 * The bucket a call counts in: the agent's alone without a key, else the key field and a hash of
 * its value (a value is a user's string and must not shape a cache key), or the shared
 * {@link missingKeyBucket} when the call has no such value.
 */
export function rateLimitBucket(key: RateLimitKey | undefined, value: string | undefined): string {
  if (key === undefined) {
    return "agent";
  }
  const field = rateLimitKeyFields[key];
  if (value === undefined || value === "") {
    return `${field}:${missingKeyBucket}`;
  }
  return `${field}:${createHash("sha256").update(value).digest("hex").slice(0, 32)}`;
}

/**
 * The fixed window of `now`: windows of `periodMs` from the epoch, so every process, whatever its
 * start, counts into the same one. The key carries the period so a changed period never counts
 * into an old window's counter.
 */
export function rateLimitWindow(
  agentId: string,
  rateLimit: Pick<CallerRateLimit, "periodMs">,
  bucket: string,
  now: number,
): RateLimitWindow {
  const index = Math.floor(now / rateLimit.periodMs);
  return {
    key: `${DEFAULT_KEY_PREFIX}:{rate-limit:${agentId}:${bucket}}:${rateLimit.periodMs}:${index}`,
    endsAt: (index + 1) * rateLimit.periodMs,
  };
}

/** The key value of a call's options for `key`: its memory resource or thread, as core's preparation sets them. */
export function rateLimitKeyValue<OUTPUT>(
  key: RateLimitKey | undefined,
  options: InngestAgentStreamOptions<OUTPUT>,
): string | undefined {
  if (key === undefined) {
    return undefined;
  }
  return rateLimitKeyFields[key] === "resourceId" ? runOwner(options) : threadIdOf(options);
}

/**
 * Counts a call against the agent's rate limit in the shared cache, and throws `RATE_LIMITED` when
 * its window already started `limit` runs. The count is one atomic `increment`, so callers in every
 * process sharing the cache admit at most `limit` calls per window; a refused call counts too, but
 * only in its window, which ends on time, so refusals never hold a bucket shut.
 */
export async function admitCall<OUTPUT>(
  runtime: AgentRuntime,
  rateLimit: CallerRateLimit,
  options: InngestAgentStreamOptions<OUTPUT>,
  now: () => number = Date.now,
): Promise<void> {
  const cache = runtime.cache();
  const bucket = rateLimitBucket(rateLimit.key, rateLimitKeyValue(rateLimit.key, options));
  const window = rateLimitWindow(runtime.id, rateLimit, bucket, now());
  const count = await cache.increment(window.key);
  // The counter is read only during its window, which ends within one period of any call in it.
  await expireKeys(cache, [window.key], rateLimit.periodMs);
  if (count <= rateLimit.limit) {
    return;
  }
  const retryAfterMs = Math.max(1, window.endsAt - now());
  throw rateLimitedError(runtime.id, rateLimit, bucket, retryAfterMs);
}

/** The `RATE_LIMITED` error of a refused call, with its {@link RateLimitedDetails} as `cause`. */
export function rateLimitedError(
  agentId: string,
  rateLimit: CallerRateLimit,
  bucket: string,
  retryAfterMs: number,
): MastraInngestError {
  const keyField = rateLimit.key === undefined ? undefined : rateLimitKeyFields[rateLimit.key];
  const counted =
    keyField === undefined
      ? "for the agent"
      : bucket.endsWith(`:${missingKeyBucket}`)
        ? `for calls without a ${keyField}`
        : `for this ${keyField}`;
  const details: RateLimitedDetails = {
    agentId,
    ...(keyField === undefined ? {} : { keyField }),
    limit: rateLimit.limit,
    period: rateLimit.period,
    retryAfterMs,
  };
  return new MastraInngestError(
    `[${packageName}] agent ${agentId} is rate limited ${counted}: ${rateLimit.limit} run(s) per ${rateLimit.period} (functionOptions.rateLimit) already started; try again in ${retryAfterMs} ms`,
    { code: ErrorCode.RATE_LIMITED, cause: details },
  );
}
