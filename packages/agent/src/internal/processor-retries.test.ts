import { TripWire } from "@mastra/core/agent";
import { describe, expect, it } from "vitest";
import { type LLMCallScope, runInLLMCall } from "./llm-call-scope.ts";
import { processorDecision, withProcessorRetries } from "./processor-retries.ts";

/** A processor that rejects every step, asking for a retry, and records the retry counts it saw. */
function rejecting(retry: boolean) {
  const seen: unknown[] = [];
  const processor = {
    id: "judge",
    processOutputStep: async (args: { abort: (reason: string, options?: object) => never; retryCount?: number }) => {
      seen.push(args.retryCount);
      return args.abort("too short", { retry, metadata: { minimum: 10 } });
    },
  };
  return { processor, seen };
}

const abort = (reason: string, options?: { retry?: boolean; metadata?: unknown }): never => {
  throw new TripWire(reason, options, "judge");
};

function scope(retryCount: number, maxRetries: number | undefined): LLMCallScope {
  return { retryCount, maxRetries };
}

describe("withProcessorRetries", () => {
  it("leaves a processor as it is outside an LLM call of the loop", async () => {
    const { processor, seen } = rejecting(true);
    const [wrapped] = withProcessorRetries([processor]);
    await expect(wrapped?.processOutputStep({ abort, retryCount: 4 })).rejects.toThrow(TripWire);
    expect(seen).toEqual([4]);
    expect(wrapped?.id).toBe("judge");
  });

  it("records a retry within maxProcessorRetries, with the step's retry count passed on", async () => {
    const { processor, seen } = rejecting(true);
    const [wrapped] = withProcessorRetries([processor]);
    const call = scope(1, 2);
    const messageList = { marker: true };
    const result = await runInLLMCall(call, () =>
      Promise.resolve(wrapped?.processOutputStep({ abort, messageList } as never)),
    );
    expect(result).toBe(messageList);
    expect(seen).toEqual([1]);
    expect(processorDecision(call)).toEqual({
      kind: "retry",
      tripwire: { reason: "too short", retry: true, metadata: { minimum: 10 }, processorId: "judge" },
    });
  });

  it("ends the run when no retry is left, when none was asked for, or when none is allowed", async () => {
    for (const [retry, call] of [
      [true, scope(2, 2)],
      [false, scope(0, 2)],
      [true, scope(0, undefined)],
    ] as const) {
      const [wrapped] = withProcessorRetries([rejecting(retry).processor]);
      await runInLLMCall(call, () => Promise.resolve(wrapped?.processOutputStep({ abort } as never)));
      expect(processorDecision(call)?.kind).toBe("stop");
    }
  });

  it("skips the processors after the first that tripped, as the plain loop's runner does", async () => {
    const first = rejecting(true);
    const second = rejecting(true);
    const wrapped = withProcessorRetries([first.processor, second.processor]);
    const call = scope(0, 1);
    await runInLLMCall(call, async () => {
      for (const processor of wrapped) {
        await processor.processOutputStep({ abort } as never);
      }
    });
    expect([first.seen, second.seen]).toEqual([[0], []]);
  });

  it("decides from a processor workflow's tripwire result and passes the retry count in its input", async () => {
    const inputs: unknown[] = [];
    const workflow = {
      id: "combined",
      createRun: async () => ({
        start: async (options: { inputData?: Record<string, unknown> }) => {
          inputs.push(options.inputData);
          return { status: "tripwire", tripwire: { reason: "again", retry: true, processorId: "judge" } };
        },
      }),
    };
    const [wrapped = workflow] = withProcessorRetries([workflow]);
    const call = scope(1, 3);
    const result = await runInLLMCall(call, async () =>
      (await wrapped.createRun()).start({ inputData: { phase: "outputStep", retryCount: 0 } }),
    );
    expect(result.status).toBe("success");
    expect(inputs).toEqual([{ phase: "outputStep", retryCount: 1 }]);
    expect(processorDecision(call)).toEqual({
      kind: "retry",
      tripwire: { reason: "again", retry: true, processorId: "judge" },
    });
    // Other phases run as they are, even inside the scope.
    const streamed = await runInLLMCall(scope(0, 3), async () =>
      (await wrapped.createRun()).start({ inputData: { phase: "outputStream" } }),
    );
    expect(streamed.status).toBe("tripwire");
  });
});
