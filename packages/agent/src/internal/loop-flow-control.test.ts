import { describe, expect, it } from "vitest";
import type { CreateInngestAgentOptions } from "../inngest-agent-options.ts";
import { loopFunctionOptions, threadConcurrencyKey } from "./loop-flow-control.ts";

const base = { agent: {}, inngest: {} } as unknown as CreateInngestAgentOptions;
const thread = { limit: 1, key: threadConcurrencyKey, scope: "env" };

describe("loopFunctionOptions", () => {
  it("puts the thread's constraint first, with one of the caller's own beside it", () => {
    expect(loopFunctionOptions(base)).toEqual({ concurrency: [thread] });
    expect(
      loopFunctionOptions({
        ...base,
        functionOptions: { retries: 1, concurrency: 5, throttle: { limit: 2, period: "1m" } },
      }),
    ).toEqual({ retries: 1, concurrency: [thread, { limit: 5 }], throttle: { limit: 2, period: "1m" } });
  });

  it("leaves the options as given with serializeThreads: false", () => {
    const functionOptions = {
      concurrency: [{ limit: 1 }, { limit: 2, key: "event.data.runId" }],
    } as CreateInngestAgentOptions["functionOptions"];
    expect(loopFunctionOptions({ ...base, serializeThreads: false, functionOptions })).toBe(functionOptions);
  });

  it.each([
    [{ retries: 21 }, "functionOptions.retries must be an integer from 0 to 20, got 21"],
    [{ concurrency: -1 }, "functionOptions.concurrency.limit must be an integer from 0, got -1"],
    [
      { concurrency: { limit: 1, scope: "world" } },
      'functionOptions.concurrency.scope must be "fn", "env" or "account"',
    ],
    [
      { concurrency: [{ limit: 1 }, { limit: 2 }] },
      "functionOptions.concurrency must be at most one constraint while serializeThreads is on",
    ],
    [{ throttle: { limit: 0, period: "1m" } }, "functionOptions.throttle.limit must be an integer from 1, got 0"],
    [
      { throttle: { limit: 1, period: "a minute" } },
      'functionOptions.throttle.period must be a time string such as "30s"',
    ],
    [{ throttle: { limit: 1, period: "1m", key: "" } }, "functionOptions.throttle.key must be a non-empty string"],
    [{ rateLimit: { limit: 1 } }, "functionOptions.rateLimit.period must be a time string"],
    [{ priority: { run: 5 } }, "functionOptions.priority.run must be a non-empty string, got 5"],
    [{ timeouts: { finish: 30 } }, "functionOptions.timeouts.finish must be a time string"],
    [{ debounce: { period: "1s" } }, "functionOptions.debounce is not supported: it drops or merges runs"],
    [{ singleton: { mode: "skip" } }, "functionOptions.singleton is not supported"],
    [{ idempotency: "event.data.runId" }, "functionOptions.idempotency is not supported"],
  ])("refuses %j, naming the field", (functionOptions, message) => {
    expect(() => loopFunctionOptions({ ...base, functionOptions } as CreateInngestAgentOptions)).toThrow(message);
  });
});
