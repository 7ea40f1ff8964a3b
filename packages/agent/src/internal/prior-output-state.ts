import { MessageList } from "@mastra/core/agent";
import type { Event } from "@mastra/core/events";
import { type ChunkType, MastraModelOutput } from "@mastra/core/stream";

/** The state of the plain agent's output class after a run's events so far. */
export type OutputState = ReturnType<MastraModelOutput<unknown>["serializeState"]>;

/**
 * The output state a run's stream reached with `events` (its history before a resume): the plain
 * agent's resumed output continues from the suspended output's state (its tool calls, text and
 * steps so far), and a resumed durable run's output starts from this one.
 */
export async function priorOutputState(
  events: readonly Event[],
  settings: {
    runId: string;
    messageId: string;
    model: { modelId?: string | undefined; provider?: string | undefined };
  },
): Promise<OutputState> {
  const chunks = events.flatMap((event) => {
    const data = event.data as { type?: unknown } | undefined;
    // Chunks, and a step's start, which core publishes as an event of its own.
    return (event.type === "chunk" || event.type === "step-start") && typeof data?.type === "string" ? [data] : [];
  });
  const stream = new ReadableStream<ChunkType<unknown>>({
    start(controller) {
      for (const chunk of chunks) {
        controller.enqueue(chunk as ChunkType<unknown>);
      }
      controller.close();
    },
  });
  const output = new MastraModelOutput<unknown>({
    model: { modelId: settings.model.modelId, provider: settings.model.provider, version: "v3" },
    stream,
    messageList: new MessageList(),
    messageId: settings.messageId,
    options: { runId: settings.runId, isLLMExecutionStep: true, resolveFinalPromises: true },
  });
  await output.consumeStream();
  return output.serializeState();
}
