/** A logger for the Inngest clients of the benchmark: their output would mix with the figures. */
export const silentLogger: Record<"info" | "warn" | "error" | "debug", () => void> = {
  info() {},
  warn() {},
  error() {},
  debug() {},
};
