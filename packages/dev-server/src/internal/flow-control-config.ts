import { parseDurationMs } from "./duration.ts";
import { type CompiledExpression, compileExpression } from "./expression.ts";

/** A concurrency constraint of a function: at most `limit` runs execute steps at once per key. */
export interface ConcurrencyRule {
  limit: number;
  /** The key over `event`; one group for the whole scope when absent. */
  key?: CompiledExpression;
  /** `fn`: per function. `env` and `account`: shared by every function using the same key (one environment here). */
  scope: "fn" | "env" | "account";
}

/** A throttle: at most `limit` run starts per `periodMs`, spaced evenly, `burst` at once. */
export interface ThrottleRule {
  limit: number;
  periodMs: number;
  burst: number;
  key?: CompiledExpression;
}

/** A rate limit (or `idempotency`, which is one per 24 h): runs beyond `limit` per `periodMs` are skipped. */
export interface RateLimitRule {
  limit: number;
  periodMs: number;
  key?: CompiledExpression;
  /** Which option it came from, for counters. */
  source: "rateLimit" | "idempotency";
}

/** A debounce: a run starts `periodMs` after the last event of a key, at the latest `timeoutMs` after the first. */
export interface DebounceRule {
  periodMs: number;
  timeoutMs?: number;
  key?: CompiledExpression;
}

/** Event batching: up to `maxSize` events per run, or fewer once `timeoutMs` passed since the first. */
export interface BatchRule {
  maxSize: number;
  timeoutMs: number;
  key?: CompiledExpression;
  /** Events it is false for are not batched: each runs alone. */
  condition?: CompiledExpression;
}

/** Singleton: one active run per key; a new one is skipped, or cancels the active one. */
export interface SingletonRule {
  mode: "skip" | "cancel";
  key?: CompiledExpression;
}

/** A function's flow control, parsed and validated once at sync. */
export interface FlowControl {
  concurrency: ConcurrencyRule[];
  throttle?: ThrottleRule;
  rateLimit?: RateLimitRule;
  debounce?: DebounceRule;
  batch?: BatchRule;
  singleton?: SingletonRule;
  /** The priority expression: a number of seconds, -600 to 600. */
  priority?: CompiledExpression;
  /** How long a run may wait in the queue before its first call, in ms. */
  startTimeoutMs?: number;
  /** How long a run may take from its first call to its end, in ms. */
  finishTimeoutMs?: number;
}

/** The function configuration keys the engine reads; any other key fails the sync. */
const knownKeys = new Set([
  "id",
  "name",
  "description",
  "triggers",
  "steps",
  "cancel",
  "concurrency",
  "throttle",
  "rateLimit",
  "idempotency",
  "debounce",
  "batchEvents",
  "singleton",
  "priority",
  "timeouts",
]);

const dayMs = 24 * 60 * 60 * 1000;

/**
 * Parses a synced function's flow control. Anything the engine does not implement, or a value
 * outside the allowed form, throws an error naming the function and the field, so a sync fails
 * rather than the option being silently ignored.
 */
export function parseFlowControl(functionId: string, config: Record<string, unknown>): FlowControl {
  const fail = (field: string, expected: string, got: unknown): never => {
    throw new Error(
      `[@mastra/inngest-dev-server] function ${functionId}: ${field} must be ${expected}, got ${JSON.stringify(got)}`,
    );
  };
  for (const [key, value] of Object.entries(config)) {
    if (!knownKeys.has(key) && value !== undefined && value !== null) {
      throw new Error(
        `[@mastra/inngest-dev-server] function ${functionId}: the option ${key} is not supported by this engine`,
      );
    }
  }
  const field = (path: string, value: unknown) => ({
    object: (): Record<string, unknown> =>
      typeof value === "object" && value !== null && !Array.isArray(value)
        ? (value as Record<string, unknown>)
        : fail(path, "an object", value),
    count: (minimum: number): number =>
      typeof value === "number" && Number.isInteger(value) && value >= minimum
        ? value
        : fail(path, `an integer of at least ${minimum}`, value),
    duration: (): number => {
      if (typeof value !== "string") {
        return fail(path, 'a time string such as "30s"', value);
      }
      try {
        return parseDurationMs(value);
      } catch {
        return fail(path, 'a time string such as "30s"', value);
      }
    },
    expression: (): CompiledExpression | undefined => {
      if (value === undefined || value === null || value === "") {
        return undefined;
      }
      if (typeof value !== "string") {
        return fail(path, "an expression string", value);
      }
      try {
        return compileExpression(value);
      } catch (error) {
        return fail(path, `a supported expression (${(error as Error).message})`, value);
      }
    },
  });
  const flow: FlowControl = { concurrency: [] };

  if (config.concurrency !== undefined && config.concurrency !== null) {
    const entries = Array.isArray(config.concurrency)
      ? config.concurrency
      : typeof config.concurrency === "number"
        ? [{ limit: config.concurrency }]
        : [config.concurrency];
    if (entries.length > 2) {
      fail("concurrency", "at most two constraints", config.concurrency);
    }
    for (const [index, raw] of entries.entries()) {
      const path = Array.isArray(config.concurrency) ? `concurrency[${index}]` : "concurrency";
      const entry = field(path, raw).object();
      const limit = field(`${path}.limit`, entry.limit).count(0);
      const scope = entry.scope ?? "fn";
      if (scope !== "fn" && scope !== "env" && scope !== "account") {
        fail(`${path}.scope`, '"fn", "env" or "account"', scope);
      }
      const rule: ConcurrencyRule = { limit, scope: scope as ConcurrencyRule["scope"] };
      withKey(rule, field(`${path}.key`, entry.key).expression());
      // 0 means the account's maximum, which has no limit here.
      if (limit > 0) {
        flow.concurrency.push(rule);
      }
    }
  }

  if (config.throttle !== undefined && config.throttle !== null) {
    const entry = field("throttle", config.throttle).object();
    const rule: ThrottleRule = {
      limit: field("throttle.limit", entry.limit).count(1),
      periodMs: field("throttle.period", entry.period).duration(),
      burst: entry.burst === undefined ? 1 : field("throttle.burst", entry.burst).count(1),
    };
    withKey(rule, field("throttle.key", entry.key).expression());
    flow.throttle = rule;
  }

  // `idempotency` overrides `rateLimit`, as the SDK documents: one run per key per 24 hours.
  if (typeof config.idempotency === "string" && config.idempotency !== "") {
    const key = field("idempotency", config.idempotency).expression();
    flow.rateLimit = { limit: 1, periodMs: dayMs, source: "idempotency", ...(key === undefined ? {} : { key }) };
  } else if (config.idempotency !== undefined && config.idempotency !== null && config.idempotency !== "") {
    fail("idempotency", "an expression string", config.idempotency);
  } else if (config.rateLimit !== undefined && config.rateLimit !== null) {
    const entry = field("rateLimit", config.rateLimit).object();
    const rule: RateLimitRule = {
      limit: field("rateLimit.limit", entry.limit).count(1),
      periodMs: field("rateLimit.period", entry.period).duration(),
      source: "rateLimit",
    };
    withKey(rule, field("rateLimit.key", entry.key).expression());
    flow.rateLimit = rule;
  }

  if (config.debounce !== undefined && config.debounce !== null) {
    const entry = field("debounce", config.debounce).object();
    const rule: DebounceRule = { periodMs: field("debounce.period", entry.period).duration() };
    if (entry.timeout !== undefined) {
      rule.timeoutMs = field("debounce.timeout", entry.timeout).duration();
    }
    withKey(rule, field("debounce.key", entry.key).expression());
    flow.debounce = rule;
  }

  if (config.batchEvents !== undefined && config.batchEvents !== null) {
    const entry = field("batchEvents", config.batchEvents).object();
    const rule: BatchRule = {
      maxSize: field("batchEvents.maxSize", entry.maxSize).count(1),
      timeoutMs: field("batchEvents.timeout", entry.timeout).duration(),
    };
    withKey(rule, field("batchEvents.key", entry.key).expression());
    const condition = field("batchEvents.if", entry.if).expression();
    if (condition !== undefined) {
      rule.condition = condition;
    }
    flow.batch = rule;
  }

  if (config.singleton !== undefined && config.singleton !== null) {
    const entry = field("singleton", config.singleton).object();
    if (entry.mode !== "skip" && entry.mode !== "cancel") {
      fail("singleton.mode", '"skip" or "cancel"', entry.mode);
    }
    const rule: SingletonRule = { mode: entry.mode as SingletonRule["mode"] };
    withKey(rule, field("singleton.key", entry.key).expression());
    flow.singleton = rule;
  }

  if (config.priority !== undefined && config.priority !== null) {
    const entry = field("priority", config.priority).object();
    const run = field("priority.run", entry.run).expression();
    if (run !== undefined) {
      flow.priority = run;
    }
  }

  if (config.timeouts !== undefined && config.timeouts !== null) {
    const entry = field("timeouts", config.timeouts).object();
    if (entry.start !== undefined) {
      flow.startTimeoutMs = field("timeouts.start", entry.start).duration();
    }
    if (entry.finish !== undefined) {
      flow.finishTimeoutMs = field("timeouts.finish", entry.finish).duration();
    }
  }
  return flow;
}

/** Sets `rule.key` when the option has one (exact optional properties leave it absent otherwise). */
function withKey(rule: { key?: CompiledExpression }, key: CompiledExpression | undefined): void {
  if (key !== undefined) {
    rule.key = key;
  }
}

/** A key expression's value for an event, as a string; the whole scope shares one group without a key. */
export function keyOf(key: CompiledExpression | undefined, event: Record<string, unknown>): string {
  if (key === undefined) {
    return "";
  }
  const value = key({ event });
  return typeof value === "string" ? value : JSON.stringify(value ?? null);
}

/** A priority expression's value in seconds, clamped to Inngest's -600 to 600; 0 without one. */
export function priorityOf(priority: CompiledExpression | undefined, event: Record<string, unknown>): number {
  if (priority === undefined) {
    return 0;
  }
  const value = priority({ event });
  return typeof value === "number" && Number.isFinite(value) ? Math.min(600, Math.max(-600, Math.trunc(value))) : 0;
}
