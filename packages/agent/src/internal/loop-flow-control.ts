import { ErrorCode, MastraInngestError } from "@mastra/inngest-core";
import type { CreateInngestAgentOptions, InngestAgentFunctionOptions } from "../inngest-agent-options.ts";
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
 * The loop function's Inngest options: `functionOptions` validated (an invalid field throws naming it
 * and the allowed form), with the thread's concurrency constraint first unless `serializeThreads`
 * is false. Inngest allows two constraints, so one of the caller's own fits beside it.
 */
export function loopFunctionOptions(options: CreateInngestAgentOptions): InngestAgentFunctionOptions {
  const functionOptions = options.functionOptions ?? {};
  const fail = (field: string, expected: string, got: unknown): never => {
    throw new MastraInngestError(
      `[${packageName}] functionOptions.${field} must be ${expected}, got ${JSON.stringify(got)}`,
      { code: ErrorCode.INVALID_OPTION },
    );
  };
  const record = functionOptions as Record<string, unknown>;
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
  if (record.rateLimit !== undefined) {
    const rateLimit = object("rateLimit", record.rateLimit);
    integer("rateLimit.limit", rateLimit.limit, 1);
    duration("rateLimit.period", rateLimit.period, false);
    text("rateLimit.key", rateLimit.key);
  }
  if (record.priority !== undefined) {
    text("priority.run", object("priority", record.priority).run);
  }
  if (record.timeouts !== undefined) {
    const timeouts = object("timeouts", record.timeouts);
    duration("timeouts.start", timeouts.start);
    duration("timeouts.finish", timeouts.finish);
  }

  if (options.serializeThreads === false) {
    return functionOptions;
  }
  if (own.length > 1) {
    fail(
      "concurrency",
      "at most one constraint while serializeThreads is on (Inngest allows two per function and the thread's is one; set serializeThreads: false to use two)",
      record.concurrency,
    );
  }
  const thread = { limit: 1, key: threadConcurrencyKey, scope: "env" as const };
  return { ...functionOptions, concurrency: [thread, ...own] as InngestAgentFunctionOptions["concurrency"] };
}
