import { describeValue, ErrorCode, MastraInngestError } from "@mastra/inngest-core";
import { isReplyError } from "./connections.ts";

/** What {@link settleWithin} needs to bound a command and name it in its errors. */
export interface CommandContext {
  /** Longest wait for Redis's answer, in milliseconds. */
  timeoutMs: number;
  /** What the command does, for messages: `"publish to"`, `"subscribe to"`. */
  action: string;
  /** The topic the command is about. */
  topic: string;
  packageName: string;
}

/**
 * Settles with the command, or rejects with `TRANSPORT_CLOSED` once `timeoutMs` passed without an
 * answer: ioredis would keep a command queued for as long as it keeps reconnecting. A failure of
 * the connection becomes `TRANSPORT_CLOSED` too; a reply error from Redis passes unchanged.
 */
export function settleWithin<T>(command: Promise<T>, context: CommandContext): Promise<T> {
  const { timeoutMs, action, topic, packageName } = context;
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => {
      reject(
        new MastraInngestError(
          `[${packageName}] ${action} topic ${describeValue(topic)} was not acknowledged within ${timeoutMs} ms ` +
            `(publishTimeoutMs): Redis was unreachable for ${timeoutMs} ms`,
          { code: ErrorCode.TRANSPORT_CLOSED },
        ),
      );
    }, timeoutMs);
    command.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (error: unknown) => {
        clearTimeout(timer);
        if (isReplyError(error)) {
          reject(error);
          return;
        }
        const reason = error instanceof Error ? error.message : describeValue(error);
        reject(
          new MastraInngestError(`[${packageName}] ${action} topic ${describeValue(topic)} failed: ${reason}`, {
            code: ErrorCode.TRANSPORT_CLOSED,
            cause: error,
          }),
        );
      },
    );
  });
}
