import { setTimeout as sleep } from "node:timers/promises";

/** Options of {@link until}. */
export interface UntilOptions {
  /**
   * How long to keep polling before failing, in milliseconds.
   * @default 10000
   */
  timeoutMs?: number;
  /**
   * How long to wait between two calls of the probe, in milliseconds.
   * @default 5
   */
  intervalMs?: number;
  /**
   * What is awaited, for the error message: `"<description> not met within <timeoutMs> ms"`.
   * @default "condition"
   */
  description?: string;
}

/**
 * Calls `probe` every `intervalMs` until it returns something other than `false`, `null` or
 * `undefined`, and resolves with that value; rejects once `timeoutMs` have passed. A probe may be
 * async. Use it for what a test cannot await directly: a message that arrives on its own, a counter
 * another process moves.
 *
 * @example
 * await until(() => received.length === 3, { timeoutMs: 5_000 });
 * const emitted = await until(() => engine.events().find((event) => event.name === "app/done"));
 */
export async function until<Value>(
  probe: () => Value | Promise<Value>,
  options: UntilOptions = {},
): Promise<Exclude<Value, false | null | undefined>> {
  const { timeoutMs = 10_000, intervalMs = 5, description = "condition" } = options;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== false && value !== null && value !== undefined) {
      return value as Exclude<Value, false | null | undefined>;
    }
    if (Date.now() > deadline) {
      throw new Error(`${description} not met within ${timeoutMs} ms`);
    }
    await sleep(intervalMs);
  }
}
