/**
 * Every error code a `@mastra/inngest` package throws, as stable strings callers can branch on.
 * A code never changes meaning once released; new situations get new codes.
 */
export const ErrorCode = {
  /** An id (run, agent, tool call, key prefix, topic) does not match the allowed form. */
  INVALID_ID: "INVALID_ID",
  /** An option has a value outside its documented range or type. */
  INVALID_OPTION: "INVALID_OPTION",
  /** A stream offset is not a non-negative safe integer or `'latest'`. */
  INVALID_OFFSET: "INVALID_OFFSET",
  /** A transport message is not a stream event or an event batch. */
  INVALID_MESSAGE: "INVALID_MESSAGE",
  /** No run with this id is known to the cache (never started, or its record expired). */
  RUN_NOT_FOUND: "RUN_NOT_FOUND",
  /** The run is held by another operation that must finish first. */
  RUN_IN_USE: "RUN_IN_USE",
  /** `resume()` was called on a run that is running, finished, failed or aborted. */
  RUN_NOT_SUSPENDED: "RUN_NOT_SUSPENDED",
  /** The tool call named by `resume()` is not waiting for a decision. */
  NO_PENDING_RESUME: "NO_PENDING_RESUME",
  /** Several tool calls are waiting and `resume()` named none of them. */
  AMBIGUOUS_RESUME: "AMBIGUOUS_RESUME",
  /** A decision for this tool call was already recorded; it is applied once only. */
  DUPLICATE_RESUME: "DUPLICATE_RESUME",
  /**
   * `resume()` recorded the decision (the run applies it, once) but could not signal the run or
   * open the stream that follows it: follow the run with `observe(runId)`; resuming again is refused.
   */
  DECISION_RECORDED: "DECISION_RECORDED",
  /** The run stopped waiting before the decision arrived (its wait timed out). */
  RESUME_EXPIRED: "RESUME_EXPIRED",
  /** The requested offset is older than the history that is still kept. */
  OFFSET_EXPIRED: "OFFSET_EXPIRED",
  /** An event or payload is larger than the configured limit. */
  PAYLOAD_TOO_LARGE: "PAYLOAD_TOO_LARGE",
  /** A count limit (events per run, observers, pending calls) was reached. */
  LIMIT_EXCEEDED: "LIMIT_EXCEEDED",
  /**
   * A call was refused because it would go past a rate limit (an agent's `functionOptions.rateLimit`):
   * nothing of it started; the error says when to try again.
   */
  RATE_LIMITED: "RATE_LIMITED",
  /** The PubSub, cache or connection was closed, or stayed unreachable past its budget. */
  TRANSPORT_CLOSED: "TRANSPORT_CLOSED",
  /** The operation needs a cache shared across processes (such as Redis) and the cache is not. */
  SHARED_CACHE_REQUIRED: "SHARED_CACHE_REQUIRED",
  /** An option that is a closure or live object was needed in a process that cannot receive it. */
  NOT_SERIALIZABLE_OPTION: "NOT_SERIALIZABLE_OPTION",
  /** A request body a serve handler read itself is not JSON, is compressed, or ended early. */
  INVALID_REQUEST_BODY: "INVALID_REQUEST_BODY",
  /**
   * The caller may not read, resume, abort or delete this run: it belongs to another resource, or
   * the caller gave no identity (which also hides whether the run exists), or its run token is
   * expired, tampered with, or for another run, agent or scope.
   */
  RUN_FORBIDDEN: "RUN_FORBIDDEN",
  /** A serve handler was created in dev mode while `NODE_ENV` is `production`. */
  DEV_MODE_IN_PRODUCTION: "DEV_MODE_IN_PRODUCTION",
  /**
   * A serve handler in cloud mode was created while `NODE_ENV` is `production` with a setup that
   * undoes its checks: a signing key without a secret, an SDK testing option, or a sync that
   * registers whatever origin an unsigned request names.
   */
  UNSAFE_IN_PRODUCTION: "UNSAFE_IN_PRODUCTION",
} as const;

/** One of the string codes of {@link ErrorCode}. */
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];
