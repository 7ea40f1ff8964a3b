import type { ErrorCode } from "./error-codes.ts";

/**
 * Marker stored on every instance. `Symbol.for` gives the same symbol in every copy of this package,
 * so {@link MastraInngestError.isInstance} works when an app ends up with two installs of it, where
 * `instanceof` would silently fail.
 */
const marker: unique symbol = Symbol.for("@mastra/inngest.error");

/** Options of {@link MastraInngestError}. */
export interface MastraInngestErrorOptions {
  /** The error code callers branch on. */
  code: ErrorCode;
  /** The underlying error, when this one wraps another. */
  cause?: unknown;
  /** The HTTP status, when the code's own is not precise enough. */
  status?: number;
}

/**
 * The one error class of `@mastra/inngest`. Messages start with the package that threw, name the
 * offending field and the allowed form, for example
 * `[@mastra/inngest-core] runId must match ..., got "a b"`.
 *
 * @example
 * try {
 *   await durableAgent.resume(runId, { approved: true });
 * } catch (error) {
 *   if (MastraInngestError.isInstance(error) && error.code === ErrorCode.RUN_NOT_SUSPENDED) {
 *     // the run already went on
 *   }
 * }
 */
export class MastraInngestError extends Error {
  /** The stable code of this error. */
  readonly code: ErrorCode;

  /**
   * The HTTP status the error stands for, which servers that read `status` answer with (Mastra's
   * server does): 403 for `RUN_FORBIDDEN`, 404 for `RUN_NOT_FOUND`, 409 for a run in the wrong
   * state, 400 for bad input, 500 otherwise, unless the thrower gave a more precise one.
   */
  status: number;

  constructor(message: string, options: MastraInngestErrorOptions) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = "MastraInngestError";
    this.code = options.code;
    this.status = options.status ?? httpStatusOf(options.code);
    Object.defineProperty(this, marker, { value: true, enumerable: false });
  }

  /**
   * Whether `value` is a `MastraInngestError` from any copy of this package, optionally with one
   * of the given codes.
   */
  static isInstance(value: unknown, code?: ErrorCode | readonly ErrorCode[]): value is MastraInngestError {
    if (typeof value !== "object" || value === null || (value as Record<symbol, unknown>)[marker] !== true) {
      return false;
    }
    if (code === undefined) {
      return true;
    }
    const codes: readonly ErrorCode[] = typeof code === "string" ? [code] : code;
    return codes.includes((value as MastraInngestError).code);
  }
}

const statusByCode: Partial<Record<ErrorCode, number>> = {
  INVALID_ID: 400,
  INVALID_OPTION: 400,
  INVALID_OFFSET: 400,
  INVALID_MESSAGE: 400,
  RUN_FORBIDDEN: 403,
  RUN_NOT_FOUND: 404,
  RUN_IN_USE: 409,
  RUN_NOT_SUSPENDED: 409,
  NO_PENDING_RESUME: 409,
  AMBIGUOUS_RESUME: 409,
  DUPLICATE_RESUME: 409,
  RESUME_EXPIRED: 410,
  OFFSET_EXPIRED: 410,
  PAYLOAD_TOO_LARGE: 413,
  LIMIT_EXCEEDED: 429,
  RATE_LIMITED: 429,
  TRANSPORT_CLOSED: 503,
  // The decision is taken; what failed is following the run, which a client does with observe().
  DECISION_RECORDED: 503,
};

function httpStatusOf(code: ErrorCode): number {
  return statusByCode[code] ?? 500;
}
