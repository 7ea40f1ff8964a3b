import { describeValue } from "./describe-value.ts";
import { ErrorCode } from "./error-codes.ts";
import { MastraInngestError } from "./mastra-inngest-error.ts";

/**
 * An `INVALID_OPTION` error that names the package, the field, the allowed form and what was
 * given: `[<package>] <field> must be <expected>, got <value>`.
 */
export function invalidOption(
  packageName: string,
  field: string,
  expected: string,
  value: unknown,
): MastraInngestError {
  return new MastraInngestError(`[${packageName}] ${field} must be ${expected}, got ${describeValue(value)}`, {
    code: ErrorCode.INVALID_OPTION,
  });
}
