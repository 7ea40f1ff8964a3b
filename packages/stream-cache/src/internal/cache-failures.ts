import { describeValue, ErrorCode, MastraInngestError } from "@mastra/inngest-core";

const packageName = "@mastra/inngest-stream-cache";

/**
 * Whether trying the same cache operation again can succeed. A `MastraInngestError` other than
 * `TRANSPORT_CLOSED` is a refusal (too large, invalid, over a limit): the same request gets the
 * same answer. Anything else (a timeout, a dropped connection, a server error) may pass next time.
 */
export function isRetryable(error: unknown): boolean {
  return !MastraInngestError.isInstance(error) || error.code === ErrorCode.TRANSPORT_CLOSED;
}

/**
 * The `MastraInngestError` a failed cache operation becomes: the message says what failed, quotes
 * the cause, then what follows from it; the code is the cause's own when it has one, else
 * `TRANSPORT_CLOSED` (the cache stayed unreachable past the budget); the cause is kept as `cause`.
 */
export function cacheFailure(what: string, cause: unknown, consequence: string): MastraInngestError {
  const reason = cause instanceof Error ? cause.message : describeValue(cause);
  return new MastraInngestError(`[${packageName}] ${what}: ${reason}. ${consequence}`, {
    code: MastraInngestError.isInstance(cause) ? cause.code : ErrorCode.TRANSPORT_CLOSED,
    cause,
  });
}
