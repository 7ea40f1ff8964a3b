// What the run's output takes from the plain agent's loop: which chunks reach onChunk, and the
// errors the stream events carry.

/**
 * The chunk types the plain agent's loop passes to `onChunk`: content, not framing (`start`,
 * `step-start`, `text-start`, `step-finish`, `finish`, ...). `raw` only with `includeRawChunks`.
 */
export const ON_CHUNK_TYPES: ReadonlySet<string> = new Set([
  "text-delta",
  "reasoning-delta",
  "source",
  "tool-call",
  "tool-call-input-streaming-start",
  "tool-call-delta",
  "tool-call-input-streaming-end",
  "raw",
  "tool-result",
  "tool-error",
  "tool-output-denied",
  "background-task-started",
]);

/** An error from what a stream event carries: an `Error`, a serialized one, or a message. */
export function toError(value: unknown): Error {
  if (value instanceof Error) {
    return value;
  }
  const serialized = (typeof value === "object" && value !== null ? value : { message: String(value) }) as {
    name?: string;
    message?: string;
    stack?: string;
  };
  const error = new Error(serialized.message ?? "the run failed");
  if (serialized.name !== undefined) {
    error.name = serialized.name;
  }
  if (serialized.stack !== undefined) {
    error.stack = serialized.stack;
  }
  return error;
}
