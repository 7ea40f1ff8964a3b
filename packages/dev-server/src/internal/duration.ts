const second = 1_000;
const minute = 60 * second;
const hour = 60 * minute;
const day = 24 * hour;

/** The longest sleep Inngest schedules: one year (365 days), in milliseconds. */
export const maximumSleepMs: number = 365 * day;

const unitMs: Readonly<Record<string, number>> = { w: 7 * day, d: day, h: hour, m: minute, s: second, ms: 1 };

// "ms" comes before "m" in the alternation, or "500ms" would read as 500 minutes and a stray "s".
const durationPattern = /^(?:\d+(?:\.\d+)?(?:ms|w|d|h|m|s))+$/;
const durationPartPattern = /(\d+(?:\.\d+)?)(ms|w|d|h|m|s)/g;
const isoDatePattern = /^\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?$/i;

/**
 * Parses an Inngest time string, as the SDK's `timeStr` writes them into ops and function
 * configuration ("1s", "1m30s", "2d", "1w", "1d2h3m4s"; "500ms" and decimals such as "1.5h" are
 * accepted too), into milliseconds. The empty string is zero: `timeStr` writes it for durations of
 * zero or less. Throws for anything else.
 */
export function parseDurationMs(value: string): number {
  if (value === "") {
    return 0;
  }
  if (!durationPattern.test(value)) {
    throw new Error(
      `[@mastra/inngest-dev-server] invalid duration ${JSON.stringify(value)}: expected a time string such as "30s", "1m30s", "2h", "1d" or "1w"`,
    );
  }
  let total = 0;
  for (const [, amount, unit] of value.matchAll(durationPartPattern)) {
    total += Number(amount) * (unitMs[unit ?? ""] ?? 0);
  }
  return Math.round(total);
}

/**
 * Returns the epoch milliseconds at which a `Sleep` op wakes, given `now` in epoch milliseconds.
 * `name` is the op's `opts.duration ?? name`: a duration (`step.sleep`) counted from `now`, or an
 * ISO 8601 date (`step.sleepUntil`). The result is never earlier than `now` and never later than
 * one year after it, as Inngest caps sleeps. Throws when `name` is neither.
 */
export function resolveWakeTime(name: string, now: number): number {
  const latest = now + maximumSleepMs;
  if (name === "" || durationPattern.test(name)) {
    return Math.min(now + parseDurationMs(name), latest);
  }
  // Date.parse accepts many loose forms ("1", "March 7"), so only ISO 8601 reaches it.
  const wakeTime = isoDatePattern.test(name) ? Date.parse(name) : Number.NaN;
  if (Number.isNaN(wakeTime)) {
    throw new Error(
      `[@mastra/inngest-dev-server] invalid sleep ${JSON.stringify(name)}: expected a duration such as "1m30s" or an ISO 8601 date`,
    );
  }
  return Math.min(Math.max(wakeTime, now), latest);
}
