import { describe, expect, it } from "vitest";
import { structuredBeforeStepEnd } from "./run-model-output.ts";

type Chunk = { type: string; payload?: { stepResult?: { isContinued?: boolean } } };

const stepEnd = (isContinued: boolean): Chunk => ({ type: "step-finish", payload: { stepResult: { isContinued } } });

async function reorder(chunks: Chunk[]): Promise<string[]> {
  const stream = new ReadableStream<Chunk>({
    start(controller) {
      for (const chunk of chunks) {
        controller.enqueue(chunk);
      }
      controller.close();
    },
  }).pipeThrough(structuredBeforeStepEnd<Chunk>());
  const types: string[] = [];
  for await (const chunk of stream as unknown as AsyncIterable<Chunk>) {
    types.push(chunk.type === "step-finish" ? `step-finish(${chunk.payload?.stepResult?.isContinued})` : chunk.type);
  }
  return types;
}

describe("structuredBeforeStepEnd", () => {
  it("gives the object the run's finish brought before the last step's end, as the plain loop does", async () => {
    expect(
      await reorder([
        { type: "text-delta" },
        { type: "text-end" },
        stepEnd(false),
        { type: "finish" },
        { type: "object-result" },
      ]),
    ).toEqual(["text-delta", "text-end", "object-result", "step-finish(false)", "finish"]);
  });

  it("lets the end of a step the run continues after through at once", async () => {
    expect(await reorder([stepEnd(true), { type: "step-start" }, stepEnd(false), { type: "finish" }])).toEqual([
      "step-finish(true)",
      "step-start",
      "step-finish(false)",
      "finish",
    ]);
  });

  it("releases a held step end when something other than the finish follows it, or the stream ends", async () => {
    expect(await reorder([stepEnd(false), { type: "tool-call-approval" }])).toEqual([
      "step-finish(false)",
      "tool-call-approval",
    ]);
    expect(await reorder([stepEnd(false)])).toEqual(["step-finish(false)"]);
  });
});
