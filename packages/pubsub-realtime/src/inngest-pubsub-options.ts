import { invalidOption as invalidOptionError, type MastraInngestError } from "@mastra/inngest-core";
import { packageName } from "./internal/package-name.ts";

/** Where `InngestPubSub` reports what happens outside any caller's call. */
export interface InngestPubSubLogger {
  /** A dropped publish, a malformed message, a throwing subscriber, a closed WebSocket. */
  warn(message: string, ...details: unknown[]): void;
  /**
   * A subscription given up after its reconnect attempts ran out.
   * @default warn
   */
  error?(message: string, ...details: unknown[]): void;
}

/** Options of `InngestPubSub`. Durations are in milliseconds. */
export interface InngestPubSubOptions {
  /**
   * Receives dropped publishes (with the run id), malformed messages, throwing subscribers, and
   * WebSocket closes and reconnects.
   * @default console
   */
  logger?: InngestPubSubLogger;
  /**
   * How long `publish()` waits for Inngest to accept a message before it counts as failed, in ms.
   * A publish that timed out may still arrive later: the SDK's request cannot be cancelled.
   * @default 10000
   */
  publishTimeoutMs?: number;
  /**
   * How long a WebSocket may take to open (token and handshake) before the attempt fails, in ms.
   * @default 10000
   */
  connectTimeoutMs?: number;
  /**
   * Wait before the first attempt to reopen a WebSocket that closed, in ms; it doubles after each
   * failed attempt, up to `reconnectMaxDelayMs` (each wait varies by up to 20% so that many
   * subscribers do not reconnect at the same instant).
   * @default 100
   */
  reconnectInitialDelayMs?: number;
  /**
   * Longest wait between two reconnect attempts, in ms.
   * @default 5000
   */
  reconnectMaxDelayMs?: number;
  /**
   * Attempts to reopen a WebSocket that closed before its subscribers are told the feed is lost
   * (a `realtime-gap` event with `reason: "lost"`) and the error is logged; 0 never reconnects.
   * With the defaults the attempts span about 26 seconds.
   * @default 10
   */
  maxReconnectAttempts?: number;
}

/** The options with every default applied and every value checked. */
export interface ResolvedInngestPubSubOptions {
  logger: Required<InngestPubSubLogger>;
  publishTimeoutMs: number;
  connectTimeoutMs: number;
  reconnectInitialDelayMs: number;
  reconnectMaxDelayMs: number;
  maxReconnectAttempts: number;
}

/** Applies defaults and rejects out-of-range values with `INVALID_OPTION`, naming the field. */
export function resolveInngestPubSubOptions(options: unknown): ResolvedInngestPubSubOptions {
  if (options === undefined) {
    return resolveInngestPubSubOptions({});
  }
  if (typeof options !== "object" || options === null || Array.isArray(options)) {
    throw invalidOption("options", "an object", options);
  }
  const given = options as InngestPubSubOptions;
  const reconnectInitialDelayMs = positiveInteger("reconnectInitialDelayMs", given.reconnectInitialDelayMs ?? 100);
  const reconnectMaxDelayMs = positiveInteger("reconnectMaxDelayMs", given.reconnectMaxDelayMs ?? 5000);
  if (reconnectMaxDelayMs < reconnectInitialDelayMs) {
    throw invalidOption(
      "reconnectMaxDelayMs",
      `at least reconnectInitialDelayMs (${reconnectInitialDelayMs})`,
      reconnectMaxDelayMs,
    );
  }
  const maxReconnectAttempts = given.maxReconnectAttempts ?? 10;
  if (!Number.isSafeInteger(maxReconnectAttempts) || maxReconnectAttempts < 0) {
    throw invalidOption("maxReconnectAttempts", "a non-negative integer", maxReconnectAttempts);
  }
  return {
    logger: resolveLogger(given.logger),
    publishTimeoutMs: positiveInteger("publishTimeoutMs", given.publishTimeoutMs ?? 10_000),
    connectTimeoutMs: positiveInteger("connectTimeoutMs", given.connectTimeoutMs ?? 10_000),
    reconnectInitialDelayMs,
    reconnectMaxDelayMs,
    maxReconnectAttempts,
  };
}

/** An `INVALID_OPTION` error naming `field`, what it must be, and what it was. */
export function invalidOption(field: string, expected: string, value: unknown): MastraInngestError {
  return invalidOptionError(packageName, field, expected, value);
}

function resolveLogger(logger: unknown): Required<InngestPubSubLogger> {
  if (logger === undefined) {
    return console;
  }
  const candidate = logger as Partial<InngestPubSubLogger> | null;
  if (typeof candidate?.warn !== "function") {
    throw invalidOption("logger", "an object with a warn(message, ...details) method", logger);
  }
  if (candidate.error !== undefined && typeof candidate.error !== "function") {
    throw invalidOption("logger.error", "a function when given", candidate.error);
  }
  const warn = candidate.warn.bind(candidate);
  return { warn, error: candidate.error?.bind(candidate) ?? warn };
}

function positiveInteger(field: string, value: unknown): number {
  if (Number.isSafeInteger(value) && (value as number) > 0) {
    return value as number;
  }
  throw invalidOption(field, "a positive integer", value);
}
