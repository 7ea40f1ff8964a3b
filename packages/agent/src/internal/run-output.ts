import { MessageList } from "@mastra/core/agent";
import type { Event } from "@mastra/core/events";
import type { ChunkType, MastraModelOutput } from "@mastra/core/stream";
import { streamTopic } from "@mastra/inngest-core";
import type { CachingPubSub } from "@mastra/inngest-stream-cache";
import type { InngestAgentCallbacks } from "../inngest-agent-options.ts";
import { noticeChunk, withEventIndex } from "./indexed-chunks.ts";
import type { OutputState } from "./prior-output-state.ts";
import { RunModelOutput } from "./run-model-output.ts";
import { ON_CHUNK_TYPES, toError } from "./run-output-rules.ts";
import { RUN_WAITING_EVENT_TYPE } from "./run-waiting.ts";

/** Settings of {@link openRunOutput}. */
export interface RunOutputSettings<OUTPUT> {
  pubsub: CachingPubSub;
  runId: string;
  messageId: string;
  model: { modelId?: string | undefined; provider?: string | undefined };
  threadId?: string | undefined;
  resourceId?: string | undefined;
  /** Where to start in the run's history; its whole history when absent. */
  offset?: number | "latest" | undefined;
  callbacks: InngestAgentCallbacks<OUTPUT>;
  /** Options of the plain agent's output: structured output, output processors, raw chunks, ... */
  outputOptions?: Record<string, unknown>;
  /** The caller's message list, when it prepared the run here. */
  messageList?: MessageList | undefined;
  /**
   * Whether the stream ends at this waiting event of the run (its data); every one ends it when absent.
   */
  endsAtWaiting?: ((data: unknown) => boolean | Promise<boolean>) | undefined;
  /** The output state to continue from (a resumed run's, see {@link priorOutputState}). */
  priorState?: OutputState | undefined;
  /**
   * Whether each chunk carries `metadata.eventIndex` (its event's index in the run's history) and
   * the stream cache's notices come as `data-attempt-superseded` / `data-offset-expired` /
   * `data-events-lost` chunks.
   */
  indexedChunks?: boolean | undefined;
  /** Called once the stream ended: the run finished, failed or was aborted, or it waits for a decision. */
  onEnd?: (reason: "ended" | "waiting") => void;
}

/** The output of a run's stream, as the plain agent's `stream()` gives it. */
export interface RunOutput<OUTPUT> {
  output: MastraModelOutput<OUTPUT>;
  /** Unsubscribes; the stream ends where it is. */
  cleanup: () => void;
  /** Resolves once the subscription is in place. */
  ready: Promise<void>;
}

/**
 * Streams a run from its topic into the plain agent's own output class, built with the options
 * the plain agent gives it (so `onFinish`, `onStepFinish`, structured output and raw chunks behave
 * as they do there), and ends the stream where the plain stream ends: at the finish, at an error, at
 * an abort (with the `abort` and `finish` chunks the plain loop writes) and when the run waits for
 * a decision. Core's stream adapter builds its output with fixed options and calls the callbacks
 * with payloads of its own, which is why this does not reuse it.
 */
export function openRunOutput<OUTPUT>(settings: RunOutputSettings<OUTPUT>): RunOutput<OUTPUT> {
  const { pubsub, runId, callbacks } = settings;
  const topic = streamTopic(runId);
  const includeRawChunks = settings.outputOptions?.includeRawChunks === true;
  let controller: ReadableStreamDefaultController<ChunkType<OUTPUT>> | undefined;
  let subscribed = false;
  let cancelled = false;
  let stepText = "";

  const enqueue = (chunk: unknown): void => {
    try {
      controller?.enqueue(chunk as ChunkType<OUTPUT>);
    } catch {
      // The reader cancelled: nothing more to deliver.
    }
  };
  const end = (reason: "ended" | "waiting"): void => {
    if (controller === undefined) {
      return;
    }
    try {
      controller.close();
    } catch {
      // Already closed by a cancelled reader.
    }
    controller = undefined;
    // On the next turn: the subscription must not go while this event's delivery is acknowledged.
    setImmediate(cleanup);
    settings.onEnd?.(reason);
  };

  const handleChunk = async (chunk: {
    type: string;
    payload?: { text?: string; error?: unknown; stepResult?: { reason?: string } };
  }) => {
    if (chunk.type === "step-start") {
      stepText = "";
    } else if (chunk.type === "text-delta") {
      stepText += chunk.payload?.text ?? "";
    } else if (chunk.type === "step-finish") {
      output.stepEnded(stepText, chunk.payload?.stepResult?.reason === "retry");
    }
    enqueue(chunk);
    if (ON_CHUNK_TYPES.has(chunk.type) && (chunk.type !== "raw" || includeRawChunks)) {
      await callbacks.onChunk?.(chunk as ChunkType<OUTPUT>);
    }
    if (chunk.type === "error") {
      await callbacks.onError?.({ error: toError(chunk.payload?.error) });
    }
  };

  const handleEvent = async (event: Event): Promise<void> => {
    if (controller === undefined) {
      return;
    }
    const data = event.data as Record<string, unknown> & { type?: string };
    const indexed = <T>(chunk: T): T => (settings.indexedChunks === true ? withEventIndex(chunk, event) : chunk);
    switch (event.type) {
      case "chunk":
        await handleChunk(indexed(data) as { type: string });
        break;
      case "step-start":
        // Core publishes a step's start as an event of its own, not as a chunk.
        stepText = "";
        if (typeof data?.type === "string") {
          enqueue(indexed(data));
        }
        break;
      case "finish":
        enqueue(
          indexed({
            type: "finish",
            runId,
            from: "AGENT",
            payload: { output: data.output, stepResult: data.stepResult },
          }),
        );
        end("ended");
        break;
      case "error": {
        const error = toError(data.error);
        enqueue(indexed({ type: "error", runId, from: "AGENT", payload: { error } }));
        end("ended");
        await callbacks.onError?.({ error });
        break;
      }
      case "suspended":
        await callbacks.onSuspended?.(data as never);
        break;
      case RUN_WAITING_EVENT_TYPE:
        if ((await settings.endsAtWaiting?.(data)) ?? true) {
          end("waiting");
        }
        break;
      case "abort":
        // What the plain loop writes when its signal aborts: `abort`, then a `finish` that ends the step.
        enqueue(indexed({ type: "abort", runId, from: "AGENT", payload: {} }));
        enqueue(
          indexed({
            type: "finish",
            runId,
            from: "AGENT",
            payload: {
              stepResult: { reason: "tripwire", isContinued: false },
              output: {
                text: stepText,
                toolCalls: [],
                usage: { inputTokens: 0, outputTokens: 0, totalTokens: 0 },
                steps: [],
              },
              metadata: {},
            },
          }),
        );
        end("ended");
        // Core types the event by the output type, which an abort event does not depend on.
        await (callbacks.onAbort as ((event: { steps: unknown[]; text: string }) => unknown) | undefined)?.({
          steps: [],
          text: stepText,
        });
        break;
      default: {
        const notice = settings.indexedChunks === true ? noticeChunk(event, runId) : undefined;
        if (notice !== undefined) {
          enqueue(notice);
        }
        break;
      }
    }
  };
  const callback = async (event: Event, ack?: () => Promise<void>): Promise<void> => {
    await handleEvent(event);
    await ack?.();
  };
  function cleanup(): void {
    cancelled = true;
    controller = undefined;
    if (subscribed) {
      subscribed = false;
      void pubsub.unsubscribe(topic, callback).catch(() => {});
    }
  }

  let ready!: Promise<void>;
  const stream = new ReadableStream<ChunkType<OUTPUT>>({
    start(streamController) {
      controller = streamController;
      const subscribing =
        settings.offset === undefined
          ? pubsub.subscribeWithReplay(topic, callback)
          : pubsub.subscribeFromOffset(topic, settings.offset, callback);
      ready = subscribing.then(
        () => {
          subscribed = true;
          if (cancelled) {
            cleanup();
          }
        },
        (error: unknown) => {
          streamController.error(error);
          throw error;
        },
      );
    },
    cancel() {
      cleanup();
    },
  });

  const messageList =
    settings.messageList ?? new MessageList({ threadId: settings.threadId, resourceId: settings.resourceId });
  const output: RunModelOutput<OUTPUT> = new RunModelOutput<OUTPUT>({
    model: { modelId: settings.model.modelId, provider: settings.model.provider, version: "v3" },
    stream,
    messageList,
    messageId: settings.messageId,
    options: {
      runId,
      isLLMExecutionStep: true,
      resolveFinalPromises: true,
      ...settings.outputOptions,
      ...(callbacks.onFinish === undefined
        ? {}
        : {
            // The plain agent's rule: no onFinish for a run that failed, waits for a decision or was
            // aborted; otherwise with the run id and the response messages.
            onFinish: (async (payload: { finishReason?: string; text?: string }, context: unknown) => {
              if (
                payload.finishReason === "error" ||
                payload.finishReason === "suspended" ||
                payload.finishReason === "aborted"
              ) {
                return;
              }
              const messages = messageList.get.response.aiV5.model();
              const text = output.keptText ?? payload.text;
              await (callbacks.onFinish as (payload: object, context: unknown) => unknown)(
                { ...payload, text, runId, messages },
                context,
              );
            }) as never,
          }),
      ...(callbacks.onStepFinish === undefined
        ? {}
        : {
            onStepFinish: (async (step: object) => {
              await callbacks.onStepFinish?.({ ...step, runId } as never);
            }) as never,
          }),
    },
  });
  if (settings.priorState !== undefined) {
    // Before any chunk: the topic's first event is delivered on a later turn.
    output.deserializeState(settings.priorState);
  }
  const structuredOutput = settings.outputOptions?.structuredOutput as
    | { schema?: unknown; model?: unknown }
    | undefined;
  if (structuredOutput?.schema !== undefined && structuredOutput.model === undefined) {
    output.structuresText();
  }
  return { output, cleanup, ready };
}
