import { createHash } from "node:crypto";
import { describeValue } from "./describe-value.ts";
import { ErrorCode } from "./error-codes.ts";
import { MastraInngestError } from "./mastra-inngest-error.ts";

/**
 * The form every run id, agent id and tool-call id must have before it reaches a Redis key, a
 * channel, a step id or an event name: 1 to 128 characters of letters, digits, `_`, `.`, `:` and
 * `-`, starting with a letter or a digit. It excludes glob characters, braces (Redis Cluster hash
 * tags), whitespace, CR/LF and names such as `__proto__`. UUIDs and the ids Mastra and model
 * providers generate pass.
 */
export const ID_PATTERN: RegExp = /^[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}$/;

/** The allowed form of {@link ID_PATTERN}, in words, for error messages. */
export const ID_FORM_DESCRIPTION: string =
  "1-128 characters of letters, digits, '_', '.', ':' or '-', starting with a letter or digit";

/** Whether `value` is a string in the form of {@link ID_PATTERN}. */
export function isValidId(value: unknown): value is string {
  return typeof value === "string" && ID_PATTERN.test(value);
}

/**
 * Returns `value` when it is a valid id (see {@link ID_PATTERN}); otherwise throws a
 * `MastraInngestError` with code `INVALID_ID` that names `field`.
 *
 * @example
 * const runId = assertValidId("runId", options.runId);
 */
export function assertValidId(field: string, value: unknown, packageName = "@mastra/inngest-core"): string {
  if (isValidId(value)) {
    return value;
  }
  throw new MastraInngestError(
    `[${packageName}] ${field} must match ${ID_PATTERN.source} (${ID_FORM_DESCRIPTION}), got ${describeValue(value)}`,
    { code: ErrorCode.INVALID_ID },
  );
}

/** Characters of the readable part kept by {@link toSafeToolCallId}. */
const readablePartLength = 64;

/**
 * Maps a tool-call id from a model provider to a valid id, stably: a valid id is returned as it
 * is; any other string becomes `tc_<readable part>_<hash>`, where the readable part keeps the
 * allowed characters of the original and the hash (SHA-256, 24 hex characters) keeps two different
 * originals apart. The same input always gives the same output, in every process, so the result
 * can name steps and keys that must be found again after a replay. Keep the original for display.
 *
 * @example
 * toSafeToolCallId("call_abc123"); // "call_abc123"
 * toSafeToolCallId("call abc/1"); // "tc_call_abc_1_<hash>"
 */
export function toSafeToolCallId(toolCallId: string): string {
  if (typeof (toolCallId as unknown) !== "string") {
    throw new MastraInngestError(
      `[@mastra/inngest-core] toolCallId must be a string, got ${describeValue(toolCallId)}`,
      {
        code: ErrorCode.INVALID_ID,
      },
    );
  }
  if (isValidId(toolCallId)) {
    return toolCallId;
  }
  const hash = createHash("sha256").update(toolCallId, "utf8").digest("hex").slice(0, 24);
  const readable = String(toolCallId)
    .replace(/[^A-Za-z0-9_.:-]+/g, "_")
    .replace(/^_+|_+$/g, "")
    .slice(0, readablePartLength);
  return readable === "" ? `tc_${hash}` : `tc_${readable}_${hash}`;
}
