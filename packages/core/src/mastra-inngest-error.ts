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

  constructor(message: string, options: MastraInngestErrorOptions) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = "MastraInngestError";
    this.code = options.code;
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
