import { describeValue } from "./describe-value.ts";
import { ErrorCode } from "./error-codes.ts";
import { MastraInngestError } from "./mastra-inngest-error.ts";

/**
 * Where a subscriber starts reading a run's stream: the index of the first event it wants (0 is
 * the beginning), or `'latest'` for the live tail only.
 */
export type StreamOffset = number | "latest";

/**
 * Returns `offset` when it is a non-negative safe integer or `'latest'`; otherwise throws
 * `INVALID_OFFSET` naming `field`. Negative, fractional, `NaN`, infinite and numbers above
 * `Number.MAX_SAFE_INTEGER` are rejected rather than rounded, so a client bug never silently
 * replays from somewhere else.
 */
export function assertValidOffset(
  offset: unknown,
  field = "offset",
  packageName = "@mastra/inngest-core",
): StreamOffset {
  if (offset === "latest" || (Number.isSafeInteger(offset) && (offset as number) >= 0)) {
    return offset as StreamOffset;
  }
  throw new MastraInngestError(
    `[${packageName}] ${field} must be a non-negative integer no larger than ${Number.MAX_SAFE_INTEGER}, or 'latest', got ${describeValue(offset)}`,
    { code: ErrorCode.INVALID_OFFSET },
  );
}
