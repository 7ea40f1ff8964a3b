import { silentLogger } from "@mastra/inngest-testing/helpers";
import { Inngest, type InngestFunction, NonRetriableError, RetryAfterError } from "inngest";

/** Counts side effects by name, to prove how often user code really ran. */
export class SideEffects {
  readonly #counts = new Map<string, number>();
  /** Counts one more `name`. */
  hit(name: string): number {
    const count = (this.#counts.get(name) ?? 0) + 1;
    this.#counts.set(name, count);
    return count;
  }
  /** How often `name` ran. */
  count(name: string): number {
    return this.#counts.get(name) ?? 0;
  }
}

/**
 * An app with one function per engine feature, written against the real v4 SDK. Test support
 * only: not part of the package's public surface.
 */
export function createScenarioApp(
  appId: string,
  baseUrl: string,
  effects: SideEffects,
): { inngest: Inngest.Any; functions: InngestFunction.Any[] } {
  // Steps throw on purpose; their logs would only bury the test output.
  const inngest = new Inngest({ id: appId, isDev: true, baseUrl, logger: silentLogger });

  const steps = inngest.createFunction(
    { id: "steps", triggers: [{ event: "test/steps" }] },
    async ({ event, step }) => {
      const a = await step.run("a", () => {
        effects.hit("steps:a");
        return `A${event.data.n}`;
      });
      const b = await step.run("b", () => {
        effects.hit("steps:b");
        return `${a}B`;
      });
      return { b };
    },
  );

  const parallel = inngest.createFunction(
    { id: "parallel", triggers: [{ event: "test/parallel" }] },
    async ({ step }) => {
      const values = await Promise.all(
        ["p1", "p2", "p3"].map((name) =>
          step.run(name, () => {
            effects.hit(`parallel:${name}`);
            return name;
          }),
        ),
      );
      const after = await step.run("after", () => {
        effects.hit("parallel:after");
        return values.join("+");
      });
      return after;
    },
  );

  const loop = inngest.createFunction({ id: "loop", triggers: [{ event: "test/loop" }] }, async ({ step }) => {
    let total = 0;
    for (let index = 0; index < 3; index++) {
      total += await step.run("loop", () => {
        effects.hit("loop");
        return index + 1;
      });
    }
    return total;
  });

  const sleeps = inngest.createFunction({ id: "sleeps", triggers: [{ event: "test/sleeps" }] }, async ({ step }) => {
    await step.sleep("nap", "10m");
    await step.sleepUntil("until", new Date(Date.now() + 10 * 60 * 1000));
    return await step.run("woke", () => "awake");
  });

  const waitMatch = inngest.createFunction(
    { id: "wait-match", triggers: [{ event: "test/wait-match" }] },
    async ({ step }) => {
      const approval = await step.waitForEvent("approval", { event: "test/approve", match: "data.id", timeout: "1d" });
      return approval?.data ?? null;
    },
  );

  const waitIf = inngest.createFunction({ id: "wait-if", triggers: [{ event: "test/wait-if" }] }, async ({ step }) => {
    const big = await step.waitForEvent("big", { event: "test/number", if: "async.data.n > 3", timeout: "1d" });
    return big?.data ?? null;
  });

  const waitTimeout = inngest.createFunction(
    { id: "wait-timeout", triggers: [{ event: "test/wait-timeout" }] },
    async ({ step }) => {
      await step.sleep("before-wait", "1m");
      const late = await step.waitForEvent("late", { event: "test/late", timeout: "10m" });
      return { received: late !== null };
    },
  );

  const child = inngest.createFunction(
    { id: "child", triggers: [{ event: "test/child" }] },
    async ({ event, step }) => {
      return await step.run("double", () => (event.data as { n: number }).n * 2);
    },
  );

  const parent = inngest.createFunction({ id: "parent", triggers: [{ event: "test/parent" }] }, async ({ step }) => {
    const doubled = await step.invoke("call-child", { function: child, data: { n: 21 } });
    return { doubled };
  });

  const emitter = inngest.createFunction({ id: "emitter", triggers: [{ event: "test/emit" }] }, async ({ step }) => {
    const sent = await step.sendEvent("emit", { name: "test/emitted", data: { from: "emitter" } });
    return { count: sent.ids.length };
  });

  const listener = inngest.createFunction(
    { id: "listener", triggers: [{ event: "test/emitted" }] },
    async ({ event }) => {
      effects.hit("listener");
      return event.data;
    },
  );

  const failing = inngest.createFunction(
    {
      id: "failing",
      retries: 2,
      triggers: [{ event: "test/failing" }],
      onFailure: async ({ error, event }) => {
        effects.hit("on-failure");
        return { message: error.message, original: event.data.event.name };
      },
    },
    async ({ step }) => {
      await step.run("always-throws", () => {
        effects.hit("failing:step");
        throw new Error("boom");
      });
    },
  );

  const flaky = inngest.createFunction({ id: "flaky", triggers: [{ event: "test/flaky" }] }, async ({ step }) => {
    return await step.run("flaky-step", () => {
      if (effects.hit("flaky") === 1) {
        throw new Error("first attempt fails");
      }
      return "recovered";
    });
  });

  const nonRetriable = inngest.createFunction(
    { id: "non-retriable", triggers: [{ event: "test/non-retriable" }] },
    async ({ step }) => {
      await step.run("fatal", () => {
        effects.hit("non-retriable");
        throw new NonRetriableError("do not retry");
      });
    },
  );

  const retryAfter = inngest.createFunction(
    { id: "retry-after", triggers: [{ event: "test/retry-after" }] },
    async ({ step }) => {
      return await step.run("later", () => {
        if (effects.hit("retry-after") === 1) {
          throw new RetryAfterError("not yet", "10m");
        }
        return "done";
      });
    },
  );

  const cancellable = inngest.createFunction(
    {
      id: "cancellable",
      triggers: [{ event: "test/cancellable" }],
      cancelOn: [{ event: "test/cancel", match: "data.id" }],
    },
    async ({ step }) => {
      await step.run("first", () => effects.hit("cancellable:first"));
      await step.sleep("long", "1d");
      await step.run("never", () => effects.hit("cancellable:never"));
    },
  );

  const conditional = inngest.createFunction(
    { id: "conditional", triggers: [{ event: "test/conditional", if: "event.data.priority == 'high'" }] },
    async ({ event }) => event.data.priority,
  );

  const charge = inngest.createFunction({ id: "charge", triggers: [{ event: "test/charge" }] }, async ({ step }) => {
    const receipt = await step.run("charge", () => `receipt-${effects.hit("charge")}`);
    const mailed = await step.run("mail", () => effects.hit("mail"));
    return { receipt, mailed };
  });

  return {
    inngest,
    functions: [
      steps,
      parallel,
      loop,
      sleeps,
      waitMatch,
      waitIf,
      waitTimeout,
      child,
      parent,
      emitter,
      listener,
      failing,
      flaky,
      nonRetriable,
      retryAfter,
      cancellable,
      conditional,
      charge,
    ],
  };
}
