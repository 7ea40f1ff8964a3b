/** Longest part of an offending value that an error message quotes. */
const quotedLengthLimit = 64;

/**
 * A short, single-line description of an offending value for error messages: strings are quoted
 * with control characters escaped and cut to a few dozen characters, so a 10 KB id or one with a
 * CR/LF cannot flood or forge log lines; other values are named by their type.
 */
export function describeValue(value: unknown): string {
  if (typeof value === "string") {
    const shown = value.length > quotedLengthLimit ? `${value.slice(0, quotedLengthLimit)}...` : value;
    const quoted = JSON.stringify(shown);
    return value.length > quotedLengthLimit ? `${quoted} (${value.length} characters)` : quoted;
  }
  if (value === null) {
    return "null";
  }
  if (Array.isArray(value)) {
    return "an array";
  }
  if (typeof value === "number" || typeof value === "boolean" || typeof value === "bigint") {
    return `${typeof value} ${String(value)}`;
  }
  return typeof value === "object" ? "an object" : typeof value;
}
