import { toAISdkStream } from "@mastra/ai-sdk";
import type { InngestAgentStreamResult } from "@mastra/inngest";
import type { UIMessageChunk } from "ai";
import { RUN_POSITION_PART, type RunPosition } from "./run-position.ts";

/** The fields of a Mastra chunk read here. */
interface MastraChunk {
  type: string;
  data?: { stepId?: unknown };
  metadata?: { eventIndex?: unknown };
}

// Internal data chunks between the two passes around @mastra/ai-sdk's converter, which passes
// `data-*` chunks through in order.
const eventEnd = "data-chat-event-end";
const stepReset = "data-chat-step-reset";
const offsetExpired = "data-offset-expired";

/**
 * A durable run's stream as AI SDK UI message chunks, with the page's position in the run.
 * `@mastra/ai-sdk`'s `toAISdkStream` converts the chunks; around it, this adds:
 * - after each event's chunks, a transient `data-run-position` part, `{ runId, offset, state }`,
 *   whose `offset` is the index after that event (the stream must carry `indexedChunks`);
 * - a `reset-step` where a retried LLM step supersedes what its failed attempt streamed (the
 *   attempt's text is streamed again, whole); a retried tool step writes its result again in place;
 * - a `text-start` (or `reasoning-start`) before a delta whose part began before `offset`, since the
 *   page continues its message in a new part.
 */
export function runMessageStream(
  result: InngestAgentStreamResult<unknown>,
  offset: number,
): ReadableStream<UIMessageChunk> {
  const marked = result.fullStream.pipeThrough(markEvents());
  // toAISdkStream reads `fullStream` from an output, or takes a stream of chunks as it is.
  const converted = toAISdkStream(marked as never, { from: "agent", version: "v7" }) as ReadableStream<UIMessageChunk>;
  const stream = converted.pipeThrough(addPositions(result.runId, offset));
  const reader = stream.getReader();
  return new ReadableStream<UIMessageChunk>({
    async pull(controller) {
      const read = await reader.read();
      if (read.done) {
        controller.close();
      } else {
        controller.enqueue(read.value);
      }
    },
    cancel(reason) {
      // The page went away: its subscription ends, the run goes on.
      result.cleanup();
      return reader.cancel(reason);
    },
  });
}

function markEvents(): TransformStream<MastraChunk, MastraChunk> {
  return new TransformStream<MastraChunk, MastraChunk>({
    transform(chunk, controller) {
      const index = chunk.metadata?.eventIndex;
      if (chunk.type === "error" && typeof index === "number") {
        // Before the error: the page stops reading at an error chunk, and must know the run ended.
        controller.enqueue({ type: eventEnd, data: { offset: index + 1, ended: true } } as MastraChunk);
        controller.enqueue(chunk);
        return;
      }
      if (chunk.type === "data-attempt-superseded") {
        if (String(chunk.data?.stepId).startsWith("llm:")) {
          controller.enqueue({ type: stepReset, data: {} } as MastraChunk);
        }
      } else {
        controller.enqueue(chunk);
      }
      if (typeof index === "number") {
        controller.enqueue({
          type: eventEnd,
          data: { offset: index + 1, ended: chunk.type === "finish" },
        } as MastraChunk);
      }
    },
  });
}

function addPositions(runId: string, start: number): TransformStream<UIMessageChunk, UIMessageChunk> {
  let position: RunPosition = { runId, offset: start, state: "streaming" };
  const open = new Set<string>();
  const positionPart = (): UIMessageChunk => ({ type: RUN_POSITION_PART, data: position, transient: true });
  return new TransformStream<UIMessageChunk, UIMessageChunk>({
    start(controller) {
      controller.enqueue(positionPart());
    },
    transform(chunk, controller) {
      switch (chunk.type) {
        case eventEnd: {
          const { offset, ended } = (chunk as { data: { offset: number; ended: boolean } }).data;
          position = { runId, offset, state: ended ? "ended" : "streaming" };
          controller.enqueue(positionPart());
          return;
        }
        case stepReset:
          open.clear();
          controller.enqueue({ type: "reset-step" });
          return;
        case offsetExpired:
          // Events the page has not rendered are gone: its answer cannot be completed in place.
          controller.enqueue({ type: "error", errorText: "Part of this answer is no longer kept (OFFSET_EXPIRED)." });
          return;
        case "text-start":
        case "reasoning-start":
          open.add(`${chunk.type}:${chunk.id}`);
          break;
        case "text-delta":
        case "text-end":
        case "reasoning-delta":
        case "reasoning-end": {
          const kind = chunk.type.startsWith("text") ? "text-start" : "reasoning-start";
          if (!open.has(`${kind}:${chunk.id}`)) {
            open.add(`${kind}:${chunk.id}`);
            controller.enqueue({ type: kind, id: chunk.id });
          }
          break;
        }
        default:
          break;
      }
      controller.enqueue(chunk);
    },
    flush(controller) {
      // The run's streams end at its end or where it waits for a decision.
      position = { ...position, state: position.state === "ended" ? "ended" : "waiting" };
      controller.enqueue(positionPart());
    },
  });
}

/**
 * One stream of the streams `next()` opens one after the other until it returns undefined, each
 * started once the one before it ended (a run decided call by call, or a fallback to `observe()`).
 * Cancelling it cancels the stream being read.
 */
export function concatStreams<T>(next: () => Promise<ReadableStream<T> | undefined>): ReadableStream<T> {
  let reader: ReadableStreamDefaultReader<T> | undefined;
  return new ReadableStream<T>({
    async pull(controller) {
      for (;;) {
        if (reader === undefined) {
          const stream = await next();
          if (stream === undefined) {
            controller.close();
            return;
          }
          reader = stream.getReader();
        }
        const read = await reader.read();
        if (!read.done) {
          controller.enqueue(read.value);
          return;
        }
        reader = undefined;
      }
    },
    async cancel(reason) {
      await reader?.cancel(reason);
    },
  });
}
