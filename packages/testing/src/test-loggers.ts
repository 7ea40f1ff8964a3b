/** A logger with the four levels the Inngest SDK and the adapters call, every one a no-op. */
export interface SilentLogger {
  info(...details: unknown[]): void;
  warn(...details: unknown[]): void;
  error(...details: unknown[]): void;
  debug(...details: unknown[]): void;
}

/**
 * A logger that drops everything: for an Inngest client or an adapter whose warnings a test
 * provokes on purpose and would only bury the test's output.
 *
 * @example
 * const inngest = new Inngest({ id: "app", isDev: true, baseUrl: engine.url, logger: silentLogger });
 */
export const silentLogger: SilentLogger = {
  info() {},
  warn() {},
  error() {},
  debug() {},
};

/** A logger that keeps the messages of `warn` and `error`, for assertions. */
export interface RecordingLogger {
  warn(message: string, ...details: unknown[]): void;
  error(message: string, ...details: unknown[]): void;
  /** The messages given to `warn`, oldest first. */
  readonly warnings: string[];
  /** The messages given to `error`, oldest first. */
  readonly errors: string[];
}

/**
 * Creates a {@link RecordingLogger}: a fresh one per test, so that messages never leak between tests.
 *
 * @example
 * const logger = recordingLogger();
 * const pubsub = new RedisPubSub({ url, logger });
 * expect(logger.warnings).toEqual([]);
 */
export function recordingLogger(): RecordingLogger {
  const warnings: string[] = [];
  const errors: string[] = [];
  return {
    warnings,
    errors,
    warn: (message) => {
      warnings.push(message);
    },
    error: (message) => {
      errors.push(message);
    },
  };
}
