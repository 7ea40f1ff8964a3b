import { describe, expect, it } from "vitest";
import { runInLLMCall } from "./llm-call-scope.ts";
import { restoreRawChunk, withRawChunks } from "./raw-chunks.ts";

/** A model whose stream is one raw part and one text part. */
function model() {
  return {
    modelId: "probe",
    async doStream(_options: Record<string, unknown>) {
      return {
        stream: new ReadableStream({
          start(controller) {
            controller.enqueue({ type: "raw", rawValue: { delta: "Hi" } });
            controller.enqueue({ type: "text-delta", id: "t", delta: "Hi" });
            controller.close();
          },
        }),
        request: { body: "prompt" },
      };
    },
  };
}

async function parts(stream: ReadableStream<unknown>): Promise<unknown[]> {
  const all: unknown[] = [];
  for await (const part of stream as unknown as AsyncIterable<unknown>) {
    all.push(part);
  }
  return all;
}

describe("withRawChunks", () => {
  it("leaves the model's stream as it is outside an LLM call of the loop", async () => {
    const wrapped = withRawChunks(model());
    const result = await wrapped.doStream({ includeRawChunks: true });
    expect(await parts(result.stream)).toEqual([
      { type: "raw", rawValue: { delta: "Hi" } },
      { type: "text-delta", id: "t", delta: "Hi" },
    ]);
    expect(wrapped.modelId).toBe("probe");
  });

  it("passes raw parts on in their place inside an LLM call, and the publisher restores them", async () => {
    const wrapped = withRawChunks(model());
    const result = await runInLLMCall({ retryCount: 0, maxRetries: undefined }, () =>
      wrapped.doStream({ includeRawChunks: true }),
    );
    expect(result.request).toEqual({ body: "prompt" });
    const [passed, text] = (await parts(result.stream)) as Array<{
      type: string;
      kind?: string;
      providerMetadata?: object;
    }>;
    expect(passed?.type).toBe("custom");
    expect(text?.type).toBe("text-delta");
    // Core turns the custom part into a chunk with `kind` and `providerMetadata` in its payload.
    const chunk = {
      type: "custom",
      runId: "r",
      from: "AGENT",
      payload: { kind: passed?.kind, providerMetadata: passed?.providerMetadata },
    };
    expect(restoreRawChunk(chunk)).toEqual({ type: "raw", runId: "r", from: "AGENT", payload: { delta: "Hi" } });
    const other = { type: "custom", payload: { kind: "someone-else" } };
    expect(restoreRawChunk(other)).toBe(other);
  });

  it("asks for nothing the call did not ask for", async () => {
    const wrapped = withRawChunks(model());
    const result = await runInLLMCall({ retryCount: 0, maxRetries: undefined }, () => wrapped.doStream({}));
    expect(((await parts(result.stream))[0] as { type: string }).type).toBe("raw");
  });
});
