import { silentLogger } from "@mastra/inngest-testing/helpers";
import { Inngest, type InngestFunction } from "inngest";

/** Records what runs really did: when each started, and how many ran at once per group. */
export class RunTracker {
  /** Labels in the order their first step started. */
  readonly started: string[] = [];
  /** Real start time per label. */
  readonly startedAt: Map<string, number> = new Map();
  readonly #active = new Map<string, number>();
  readonly #peak = new Map<string, number>();
  readonly #gates = new Map<string, () => void>();

  /** Marks `label` started, holds `group` for `holdMs` real ms, then lets it go. */
  async hold(group: string, label: string, holdMs: number): Promise<void> {
    this.started.push(label);
    this.startedAt.set(label, Date.now());
    const active = (this.#active.get(group) ?? 0) + 1;
    this.#active.set(group, active);
    this.#peak.set(group, Math.max(this.#peak.get(group) ?? 0, active));
    await new Promise((resolve) => setTimeout(resolve, holdMs));
    this.#active.set(group, (this.#active.get(group) ?? 1) - 1);
  }

  /** Marks `label` started and waits until {@link open} is called for it. */
  async gate(label: string): Promise<void> {
    this.started.push(label);
    this.startedAt.set(label, Date.now());
    await new Promise<void>((resolve) => this.#gates.set(label, resolve));
  }

  /** Lets a gated run go on. */
  open(label: string): void {
    this.#gates.get(label)?.();
  }

  /** The most runs of `group` that were inside {@link hold} at once. */
  peak(group: string): number {
    return this.#peak.get(group) ?? 0;
  }
}

/**
 * One function per flow-control option, written against the real v4 SDK. Test support only: not
 * part of the package's public surface.
 */
export function createFlowControlApp(
  appId: string,
  baseUrl: string,
  tracker: RunTracker,
): { inngest: Inngest.Any; functions: InngestFunction.Any[] } {
  const inngest = new Inngest({ id: appId, isDev: true, baseUrl, logger: silentLogger });
  type Data = { label: string; user?: string; holdMs?: number; gate?: boolean };
  const work = (group: string) => async (data: Data) => {
    if (data.gate === true) {
      await tracker.gate(data.label);
    } else {
      await tracker.hold(group, data.label, data.holdMs ?? 60);
    }
    return data.label;
  };

  const serial = inngest.createFunction(
    { id: "serial", concurrency: 1, triggers: [{ event: "flow/serial" }] },
    async ({ event, step }) => await step.run("work", () => work("serial")(event.data as Data)),
  );
  const perUser = inngest.createFunction(
    { id: "per-user", concurrency: { limit: 1, key: "event.data.user" }, triggers: [{ event: "flow/per-user" }] },
    async ({ event, step }) => {
      const data = event.data as Data;
      return await step.run("work", () => work(`per-user:${data.user}`)(data));
    },
  );
  const sharedA = inngest.createFunction(
    {
      id: "shared-a",
      concurrency: { limit: 1, key: '"shared"', scope: "env" },
      triggers: [{ event: "flow/shared" }],
    },
    async ({ event, step }) => await step.run("work", () => work("shared")(event.data as Data)),
  );
  const sharedB = inngest.createFunction(
    { id: "shared-b", concurrency: { limit: 1, key: '"shared"', scope: "env" }, triggers: [{ event: "flow/shared" }] },
    async ({ event, step }) => await step.run("work", () => work("shared")(event.data as Data)),
  );
  const sleeper = inngest.createFunction(
    { id: "sleeper", concurrency: 1, triggers: [{ event: "flow/sleeper" }] },
    async ({ event, step }) => {
      const data = event.data as Data;
      await step.run("before", () => tracker.hold("sleeper", `${data.label}:before`, 10));
      await step.sleep("nap", "1m");
      await step.run("after", () => tracker.hold("sleeper", `${data.label}:after`, 10));
      return data.label;
    },
  );
  const prioritized = inngest.createFunction(
    {
      id: "prioritized",
      concurrency: 1,
      priority: { run: "event.data.priority" },
      triggers: [{ event: "flow/prioritized" }],
    },
    async ({ event, step }) => await step.run("work", () => work("prioritized")(event.data as Data)),
  );
  const throttled = inngest.createFunction(
    { id: "throttled", throttle: { limit: 1, period: "10s" }, triggers: [{ event: "flow/throttled" }] },
    async ({ event, step }) => await step.run("work", () => work("throttled")({ ...(event.data as Data), holdMs: 1 })),
  );
  const bursty = inngest.createFunction(
    {
      id: "bursty",
      throttle: { limit: 1, period: "10s", burst: 2, key: "event.data.user" },
      triggers: [{ event: "flow/bursty" }],
    },
    async ({ event, step }) => await step.run("work", () => work("bursty")({ ...(event.data as Data), holdMs: 1 })),
  );
  const rateLimited = inngest.createFunction(
    {
      id: "rate-limited",
      rateLimit: { limit: 2, period: "1h", key: "event.data.user" },
      triggers: [{ event: "flow/rate-limited" }],
    },
    async ({ event }) => (event.data as Data).label,
  );
  const idempotent = inngest.createFunction(
    { id: "idempotent", idempotency: "event.data.user", triggers: [{ event: "flow/idempotent" }] },
    async ({ event }) => (event.data as Data).label,
  );
  const debounced = inngest.createFunction(
    { id: "debounced", debounce: { period: "10s", key: "event.data.user" }, triggers: [{ event: "flow/debounced" }] },
    async ({ event }) => (event.data as Data).label,
  );
  const debouncedWithTimeout = inngest.createFunction(
    {
      id: "debounced-timeout",
      debounce: { period: "10s", timeout: "30s" },
      triggers: [{ event: "flow/debounced-timeout" }],
    },
    async ({ event }) => (event.data as Data).label,
  );
  const batched = inngest.createFunction(
    { id: "batched", batchEvents: { maxSize: 3, timeout: "10s" }, triggers: [{ event: "flow/batched" }] },
    async ({ events }) => events.map((each) => (each.data as Data).label),
  );
  const batchedByKey = inngest.createFunction(
    {
      id: "batched-key",
      batchEvents: { maxSize: 2, timeout: "10s", key: "event.data.user", if: "event.data.skip != true" },
      triggers: [{ event: "flow/batched-key" }],
    },
    async ({ events }) => events.map((each) => (each.data as Data).label),
  );
  const singleSkip = inngest.createFunction(
    {
      id: "single-skip",
      singleton: { mode: "skip", key: "event.data.user" },
      triggers: [{ event: "flow/single-skip" }],
    },
    async ({ event, step }) =>
      await step.run("work", () => work("single-skip")({ ...(event.data as Data), gate: true })),
  );
  const singleCancel = inngest.createFunction(
    { id: "single-cancel", singleton: { mode: "cancel" }, triggers: [{ event: "flow/single-cancel" }] },
    async ({ event, step }) => {
      await step.waitForEvent("hold", { event: "flow/never", timeout: "1d" });
      return (event.data as Data).label;
    },
  );
  const finishTimeout = inngest.createFunction(
    { id: "finish-timeout", timeouts: { finish: "30s" }, triggers: [{ event: "flow/finish-timeout" }] },
    async ({ step }) => {
      await step.run("first", () => "first");
      await step.sleep("long", "1h");
      return await step.run("never", () => "never");
    },
  );
  const startTimeout = inngest.createFunction(
    { id: "start-timeout", concurrency: 1, timeouts: { start: "5s" }, triggers: [{ event: "flow/start-timeout" }] },
    async ({ event, step }) => await step.run("work", () => work("start-timeout")(event.data as Data)),
  );
  const cron = inngest.createFunction({ id: "cron", triggers: [{ cron: "* * * * *" }] }, async ({ event }) => ({
    name: event.name,
    cron: (event.data as { cron?: string }).cron,
  }));

  return {
    inngest,
    functions: [
      serial,
      perUser,
      sharedA,
      sharedB,
      sleeper,
      prioritized,
      throttled,
      bursty,
      rateLimited,
      idempotent,
      debounced,
      debouncedWithTimeout,
      batched,
      batchedByKey,
      singleSkip,
      singleCancel,
      finishTimeout,
      startTimeout,
      cron,
    ],
  };
}
