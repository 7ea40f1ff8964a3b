import { ErrorCode, MastraInngestError } from "@mastra/inngest-core";
import type { CreateInngestAgentOptions, InngestAgentFunctionOptions } from "../inngest-agent-options.ts";
import { type CallerRateLimit, durationMs, type RateLimitKey, rateLimitKeyFields } from "./caller-rate-limit.ts";
import { packageName } from "./stream-input.ts";

/**
 * The key of the loop's default concurrency constraint: the run's memory thread (core puts it in the
 * input's `state`), so runs on one thread never execute at once; a run without a thread is a group
 * of its own. Standard CEL (`has()`, not a comparison with a missing key, which CEL makes an error);
 * `env` scope, so agents sharing a thread share the slot.
 */
export const threadConcurrencyKey =
  'has(event.data.state.threadId) ? "thread:" + event.data.state.threadId : "run:" + event.data.runId';

/** Options that drop or merge runs: the caller of such a run would wait for a stream that never starts. */
const runDroppingOptions = ["debounce", "singleton", "idempotency", "batchEvents"] as const;

const timeStringPattern = /^(?:\d+(?:ms|s|m|h|d|w))+$/;

/**
 * The rate limit of each agent's loop options, which no longer hold it: the runtime keeps only
 * the loop's options, and the caller finds the limit it applies from them.
 */
const callerRateLimits = new WeakMap<InngestAgentFunctionOptions, CallerRateLimit>();

/**
 * The `functionOptions.rateLimit` validated by {@link loopFunctionOptions} for the loop options it
 * returned; none when the agent has no rate limit.
 */
export function callerRateLimitOf(loopOptions: InngestAgentFunctionOptions): CallerRateLimit | undefined {
  return callerRateLimits.get(loopOptions);
}

/**
 * The loop function's Inngest options: `functionOptions` validated (an invalid field throws naming it
 * and the allowed form), with the thread's concurrency constraint first unless `serializeThreads`
 * is false. Inngest allows two constraints, so one of the caller's own fits beside it. `rateLimit`
 * is left out: Inngest skips a run over the limit without telling its caller, so the caller applies
 * it before starting the run (see {@link callerRateLimitOf}).
 */
export function loopFunctionOptions(options: CreateInngestAgentOptions): InngestAgentFunctionOptions {
  const given = options.functionOptions ?? {};
  const { rateLimit: _rateLimit, ...functionOptions } = given;
  const fail = (field: string, expected: string, got: unknown): never => {
    throw new MastraInngestError(
      `[${packageName}] functionOptions.${field} must be ${expected}, got ${JSON.stringify(got)}`,
      { code: ErrorCode.INVALID_OPTION },
    );
  };
  const record = given as Record<string, unknown>;
  for (const name of runDroppingOptions) {
    if (record[name] !== undefined) {
      throw new MastraInngestError(
        `[${packageName}] functionOptions.${name} is not supported: it drops or merges runs, and the caller of a dropped run would wait for a stream that never starts (use concurrency, throttle or rateLimit)`,
        { code: ErrorCode.INVALID_OPTION },
      );
    }
  }
  const integer = (field: string, value: unknown, minimum: number, maximum = Number.MAX_SAFE_INTEGER): void => {
    if (typeof value !== "number" || !Number.isInteger(value) || value < minimum || value > maximum) {
      fail(field, `an integer from ${minimum}${maximum === Number.MAX_SAFE_INTEGER ? "" : ` to ${maximum}`}`, value);
    }
  };
  const object = (field: string, value: unknown): Record<string, unknown> =>
    typeof value === "object" && value !== null && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : fail(field, "an object", value);
  const text = (field: string, value: unknown, optional = true): void => {
    if (!(optional && value === undefined) && (typeof value !== "string" || value === "")) {
      fail(field, "a non-empty string", value);
    }
  };
  const duration = (field: string, value: unknown, optional = true): void => {
    if (!(optional && value === undefined) && (typeof value !== "string" || !timeStringPattern.test(value))) {
      fail(field, 'a time string such as "30s", "5m" or "1h"', value);
    }
  };

  if (record.retries !== undefined) {
    integer("retries", record.retries, 0, 20);
  }
  const own: Record<string, unknown>[] = [];
  if (record.concurrency !== undefined) {
    const raw = record.concurrency;
    const entries = Array.isArray(raw) ? raw : typeof raw === "number" ? [{ limit: raw }] : [raw];
    for (const [index, entry] of entries.entries()) {
      const field = Array.isArray(raw) ? `concurrency[${index}]` : "concurrency";
      const constraint = object(field, entry);
      integer(`${field}.limit`, constraint.limit, 0);
      text(`${field}.key`, constraint.key);
      if (constraint.scope !== undefined && !["fn", "env", "account"].includes(constraint.scope as string)) {
        fail(`${field}.scope`, '"fn", "env" or "account"', constraint.scope);
      }
      own.push(constraint);
    }
  }
  if (record.throttle !== undefined) {
    const throttle = object("throttle", record.throttle);
    integer("throttle.limit", throttle.limit, 1);
    duration("throttle.period", throttle.period, false);
    if (throttle.burst !== undefined) {
      integer("throttle.burst", throttle.burst, 1);
    }
    text("throttle.key", throttle.key);
  }
  let callerRateLimit: CallerRateLimit | undefined;
  if (record.rateLimit !== undefined) {
    const rateLimit = object("rateLimit", record.rateLimit);
    integer("rateLimit.limit", rateLimit.limit, 1);
    duration("rateLimit.period", rateLimit.period, false);
    const periodMs = durationMs(rateLimit.period as string);
    // Inngest's bounds for a rate limit's period, kept so a limit means what it meant there.
    if (periodMs < 1000 || periodMs > 86_400_000) {
      fail("rateLimit.period", 'a time string from "1s" to "24h"', rateLimit.period);
    }
    if (rateLimit.key !== undefined && !Object.hasOwn(rateLimitKeyFields, rateLimit.key as string)) {
      const allowed = Object.keys(rateLimitKeyFields)
        .map((key) => `"${key}"`)
        .join(", ");
      // The caller applies the limit before the run starts, so it cannot evaluate any expression.
      fail(
        "rateLimit.key",
        `absent (one limit for the agent) or one of ${allowed} (the memory resource or thread, which the caller knows before the run starts)`,
        rateLimit.key,
      );
    }
    callerRateLimit = {
      limit: rateLimit.limit as number,
      period: rateLimit.period as string,
      periodMs,
      ...(rateLimit.key === undefined ? {} : { key: rateLimit.key as RateLimitKey }),
    };
  }
  if (record.priority !== undefined) {
    text("priority.run", object("priority", record.priority).run);
  }
  if (record.timeouts !== undefined) {
    const timeouts = object("timeouts", record.timeouts);
    duration("timeouts.start", timeouts.start);
    duration("timeouts.finish", timeouts.finish);
  }

  const withRateLimit = (loopOptions: InngestAgentFunctionOptions): InngestAgentFunctionOptions => {
    if (callerRateLimit !== undefined) {
      callerRateLimits.set(loopOptions, callerRateLimit);
    }
    return loopOptions;
  };
  if (options.serializeThreads === false) {
    // Left as given unless the rate limit has to come out.
    return withRateLimit(callerRateLimit === undefined ? given : functionOptions);
  }
  if (own.length > 1) {
    fail(
      "concurrency",
      "at most one constraint while serializeThreads is on (Inngest allows two per function and the thread's is one; set serializeThreads: false to use two)",
      record.concurrency,
    );
  }
  const thread = { limit: 1, key: threadConcurrencyKey, scope: "env" as const };
  return withRateLimit({
    ...functionOptions,
    concurrency: [thread, ...own] as InngestAgentFunctionOptions["concurrency"],
  });
}
