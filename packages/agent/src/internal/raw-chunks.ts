import { currentLLMCall } from "./llm-call-scope.ts";
import { isOverridden, overrideMember } from "./override-member.ts";
import type { StreamChunk } from "./step-publisher.ts";

// Core's durable LLM step asks the model for raw parts (`includeRawChunks`) but reads the model's
// stream through an output that drops them. Inside an LLM call of the loop, the model below hands
// each raw part over as a `custom` part, which core passes on as a chunk of its own; the step's
// publisher turns it back into the `raw` chunk the plain loop streams, in the same place.
const rawKind = "mastra-inngest.raw";
const metadataKey = "mastraInngest";

type StreamPart = { type: string; rawValue?: unknown };
type StreamResult = { stream: ReadableStream<StreamPart> } & Record<string, unknown>;
type ModelLike = { doStream?: (options: Record<string, unknown>) => PromiseLike<StreamResult> };

/** The model with its raw parts passed through core's step, inside an LLM call of the loop. */
export function withRawChunks<T>(model: T): T {
  const candidate = model as ModelLike | null;
  if (candidate === null || typeof candidate !== "object" || typeof candidate.doStream !== "function") {
    return model;
  }
  if (isOverridden(candidate)) {
    return model;
  }
  const doStream = candidate.doStream;
  return overrideMember(candidate, "doStream", async (options: Record<string, unknown>) => {
    const result = await doStream.call(candidate, options);
    if (currentLLMCall() === undefined || options.includeRawChunks !== true) {
      return result;
    }
    const stream = result.stream.pipeThrough(
      new TransformStream<StreamPart, StreamPart>({
        transform(part, controller) {
          controller.enqueue(
            part.type === "raw"
              ? ({
                  type: "custom",
                  kind: rawKind,
                  providerMetadata: { [metadataKey]: { raw: part.rawValue } },
                } as never)
              : part,
          );
        },
      }),
    );
    return { ...result, stream };
  }) as T;
}

/** The `raw` chunk a passed-through raw part stands for; any other chunk as it is. */
export function restoreRawChunk(chunk: StreamChunk): StreamChunk {
  const payload = chunk.payload as { kind?: string; providerMetadata?: Record<string, { raw?: unknown }> } | undefined;
  if (chunk.type !== "custom" || payload?.kind !== rawKind) {
    return chunk;
  }
  const { payload: _payload, ...rest } = chunk;
  return { ...rest, type: "raw", payload: payload.providerMetadata?.[metadataKey]?.raw as Record<string, unknown> };
}
