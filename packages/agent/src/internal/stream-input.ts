import type { MessageListInput } from "@mastra/core/agent/message-list";
import { ErrorCode, MastraInngestError } from "@mastra/inngest-core";
import type { InngestAgentStreamOptions } from "../inngest-agent-options.ts";

/** The name errors of this package start with. */
export const packageName = "@mastra/inngest-agent";

/** Throws `INVALID_OPTION` for messages that ask nothing: absent, an empty string or an empty list. */
export function assertMessages(messages: MessageListInput | undefined | null): asserts messages is MessageListInput {
  const empty =
    messages === undefined ||
    messages === null ||
    (typeof messages === "string" && messages.trim() === "") ||
    (Array.isArray(messages) && messages.length === 0);
  if (empty) {
    throw new MastraInngestError(`[${packageName}] messages must be a non-empty string, message or array of messages`, {
      code: ErrorCode.INVALID_OPTION,
    });
  }
}

/** The options with `memory` in core's `{ thread, resource }` form, also when given as `{ threadId, resourceId }`. */
export function normalizeMemory<OUTPUT>(options: InngestAgentStreamOptions<OUTPUT>): InngestAgentStreamOptions<OUTPUT> {
  const memory = options.memory;
  if (memory !== undefined && "threadId" in memory && !("thread" in memory)) {
    const { threadId, resourceId, ...memoryRest } = memory;
    return {
      ...options,
      memory: { ...memoryRest, thread: threadId, ...(resourceId === undefined ? {} : { resource: resourceId }) },
    };
  }
  return options;
}

/** The options core's preparation takes: memory in core's form, without what only this package reads. */
export function toCoreOptions<OUTPUT>(options: InngestAgentStreamOptions<OUTPUT>): Record<string, unknown> {
  const {
    runId: _runId,
    abortSignal: _abortSignal,
    indexedChunks: _indexedChunks,
    onQueued: _onQueued,
    ...rest
  } = normalizeMemory(options);
  return rest;
}
