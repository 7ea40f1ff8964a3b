/** An error as the JSON shape Inngest stores: name, message, stack. */
export function serializeError(error: unknown): { name: string; message: string; stack?: string } {
  if (error instanceof Error) {
    const cause = error.cause instanceof Error ? `: ${error.cause.message}` : "";
    return {
      name: error.name,
      message: error.message + cause,
      ...(error.stack === undefined ? {} : { stack: error.stack }),
    };
  }
  return { name: "Error", message: String(error) };
}

/** An error a run ended with, as Inngest puts it in lifecycle events: an error-like object kept, anything else serialized. */
export function normalizeError(error: unknown): { name: string; message: string; stack?: string } {
  if (typeof error === "object" && error !== null && typeof (error as { message?: unknown }).message === "string") {
    const shaped = error as { name?: unknown; message: string; stack?: unknown };
    const normalized: { name: string; message: string; stack?: string } = {
      name: typeof shaped.name === "string" ? shaped.name : "Error",
      message: shaped.message,
    };
    if (typeof shaped.stack === "string") {
      normalized.stack = shaped.stack;
    }
    return normalized;
  }
  return serializeError(error);
}
