import type { MastraModelOutput } from "@mastra/core/stream";

/** How a promise of `output` ended, within the harness's patience. */
export type Settled =
  | { status: "resolved"; value: unknown }
  | { status: "rejected"; message: string }
  | { status: "pending" };

/** What one stream of a run showed: what a user's code would read and check. */
export interface SegmentObservation {
  /** The chunk types of `fullStream`, in order; `"<hang>"` last when it did not end in time. */
  chunkTypes: string[];
  text: Settled;
  finishReason: Settled;
  usage: Settled;
  object: Settled;
  /** `[toolName, args]` of each tool call. */
  toolCalls: Settled;
  /** The result of each tool result. */
  toolResults: Settled;
  /** Each callback call: its name and the sorted keys of its payload (`onChunk`: the chunk type). */
  callbacks: string[];
}

/** What a scenario showed on one side: its streams (the first, and the continued one), and the model calls. */
export interface RunObservation {
  segments: SegmentObservation[];
  modelCalls: number;
  /** The memory thread's messages after the run, as `role: text`. */
  memory?: string[];
}

/** Records callback calls as the harness compares them. */
export class CallbackRecorder {
  readonly calls: string[] = [];

  /** The callbacks to pass to `stream()`, `resume()` or the plain agent's continuation. */
  callbacks(): Record<string, (payload: unknown) => void> {
    const record =
      (name: string) =>
      (payload: unknown): void => {
        this.calls.push(`${name}(${payloadKeys(payload)})`);
      };
    return {
      onChunk: (chunk: unknown) => {
        this.calls.push(`onChunk:${(chunk as { type?: string }).type}`);
      },
      onStepFinish: record("onStepFinish"),
      onFinish: record("onFinish"),
      onError: record("onError"),
      onAbort: record("onAbort"),
    };
  }
}

function payloadKeys(payload: unknown): string {
  return typeof payload === "object" && payload !== null ? Object.keys(payload).sort().join(",") : typeof payload;
}

/** Waits for `promise` up to `ms`; never throws. */
export async function settle(promise: PromiseLike<unknown> | unknown, ms = 3_000): Promise<Settled> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<Settled>((resolve) => {
    timer = setTimeout(() => resolve({ status: "pending" }), ms);
  });
  const outcome = Promise.resolve(promise).then(
    (value): Settled => ({ status: "resolved", value }),
    (error: unknown): Settled => ({
      status: "rejected",
      message: error instanceof Error ? error.message : String(error),
    }),
  );
  try {
    return await Promise.race([outcome, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Reads a stream to its end (or until `onChunk` returns, or patience runs out) and then settles the
 * output's promises, the way a user's code would await them.
 */
export async function observeSegment(
  output: MastraModelOutput<unknown>,
  recorder: CallbackRecorder,
  onChunk?: (type: string) => void,
  patienceMs = 8_000,
): Promise<SegmentObservation> {
  const chunkTypes: string[] = [];
  const reader = output.fullStream.getReader();
  const deadline = Date.now() + patienceMs;
  for (;;) {
    const next = await settle(reader.read(), Math.max(1, deadline - Date.now()));
    if (next.status !== "resolved") {
      chunkTypes.push(next.status === "pending" ? "<hang>" : "<stream error>");
      break;
    }
    const { done, value } = next.value as { done: boolean; value: { type: string } };
    if (done) {
      break;
    }
    chunkTypes.push(value.type);
    onChunk?.(value.type);
  }
  reader.releaseLock();
  const [text, finishReason, usage, object, toolCalls, toolResults] = await Promise.all([
    settle(output.text),
    settle(output.finishReason),
    settle(output.usage),
    settle(output.object),
    settle(output.toolCalls),
    settle(output.toolResults),
  ]);
  return {
    chunkTypes,
    text,
    finishReason,
    usage,
    object,
    toolCalls: project(toolCalls, (chunk) => [chunk.payload?.toolName, chunk.payload?.args]),
    toolResults: project(toolResults, (chunk) => withoutTaskIds(chunk.payload?.result)),
    callbacks: recorder.calls.splice(0),
  };
}

/** A background dispatch's acknowledgement names a task id each run draws at random. */
function withoutTaskIds(result: unknown): unknown {
  return typeof result === "string" ? result.replace(/Task ID: [0-9a-f-]{36}/g, "Task ID: <task>") : result;
}

type ToolChunk = { payload?: { toolName?: string; args?: unknown; result?: unknown } };

function project(settled: Settled, pick: (chunk: ToolChunk) => unknown): Settled {
  if (settled.status !== "resolved" || !Array.isArray(settled.value)) {
    return settled;
  }
  return { status: "resolved", value: (settled.value as ToolChunk[]).map(pick) };
}
