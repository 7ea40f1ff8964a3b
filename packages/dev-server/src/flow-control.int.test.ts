import { until } from "@mastra/inngest-testing/helpers";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunView } from "./internal/run-view.ts";
import { type DevServer, type EventInput, startDevServer } from "./start-dev-server.ts";
import { createFlowControlApp, RunTracker } from "./test/flow-control-app.ts";
import { type ServedApp, serveTestApp } from "./test/test-app.ts";

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Flow control against the semantics the SDK documents on each option (`InngestFunction.Options`):
 * one engine at a time scale of 0.01, so "10s" is 100 real ms.
 * @see issue 22
 */
describe("flow control", () => {
  let engine: DevServer;
  let app: ServedApp;
  const tracker = new RunTracker();
  const appId = "flow";

  beforeAll(async () => {
    engine = await startDevServer({ timeScale: 0.01 });
    const { inngest, functions } = createFlowControlApp(appId, engine.url, tracker);
    app = await serveTestApp("node", inngest, functions);
    await engine.syncApp(app.url);
  });

  afterAll(async () => {
    await app?.close();
    await engine?.close();
  });

  async function sendAll(name: string, data: Record<string, unknown>[]): Promise<string[]> {
    return await engine.send(data.map((each): EventInput => ({ name, data: each })));
  }

  function runsOf(eventIds: string[]): RunView[] {
    return eventIds.flatMap((eventId) => engine.runsForEvent(eventId));
  }

  async function finishAll(runs: RunView[]): Promise<RunView[]> {
    return await Promise.all(runs.map((run) => engine.waitForRun(run.id, { timeoutMs: 20_000 })));
  }

  describe("concurrency", () => {
    it("runs one at a time at limit 1, the queued runs starting in the order they came", async () => {
      const before = engine.counters().runsQueued;
      const ids = await sendAll("flow/serial", [{ label: "s1" }, { label: "s2" }, { label: "s3" }]);
      const runs = runsOf(ids);
      expect(runs).toHaveLength(3);
      await until(() => engine.run(runs[2]?.id ?? "")?.flowControl.waitingFor === "concurrency");
      const done = await finishAll(runs);
      expect(done.map((run) => run.status)).toEqual(["Completed", "Completed", "Completed"]);
      expect(tracker.peak("serial")).toBe(1);
      expect(tracker.started.filter((label) => label.startsWith("s"))).toEqual(["s1", "s2", "s3"]);
      expect(done.map((run) => run.flowControl.queued)).toEqual([0, 1, 1]);
      expect(engine.counters().runsQueued - before).toBe(2);
    });

    it("limits per key: one run per user at once, users side by side", async () => {
      const ids = await sendAll("flow/per-user", [
        { label: "a1", user: "a", holdMs: 300 },
        { label: "a2", user: "a", holdMs: 300 },
        { label: "b1", user: "b", holdMs: 300 },
      ]);
      const done = await finishAll(runsOf(ids));
      expect(done.every((run) => run.status === "Completed")).toBe(true);
      expect(tracker.peak("per-user:a")).toBe(1);
      // b1 did not wait behind a1: it started while a1 held user a's slot.
      const [a1, a2, b1] = ["a1", "a2", "b1"].map((label) => tracker.startedAt.get(label) ?? 0);
      expect((b1 ?? 0) - (a1 ?? 0)).toBeLessThan(250);
      expect((a2 ?? 0) - (a1 ?? 0)).toBeGreaterThanOrEqual(290);
      expect(done.find((run) => (run.event.data as { label: string }).label === "b1")?.flowControl.queued).toBe(0);
    });

    it("shares an env-scoped key between functions", async () => {
      const ids = await sendAll("flow/shared", [{ label: "x1" }, { label: "x2" }]);
      const runs = runsOf(ids);
      expect(new Set(runs.map((run) => run.functionId))).toEqual(new Set([`${appId}-shared-a`, `${appId}-shared-b`]));
      await finishAll(runs);
      expect(runs).toHaveLength(4);
      expect(tracker.peak("shared")).toBe(1);
    });

    it("gives the slot back while a run sleeps: the next run starts before the first wakes", async () => {
      const ids = await sendAll("flow/sleeper", [{ label: "z1" }, { label: "z2" }]);
      const done = await finishAll(runsOf(ids));
      expect(done.map((run) => run.status)).toEqual(["Completed", "Completed"]);
      const order = tracker.started.filter((label) => label.startsWith("z"));
      expect(order.slice(0, 2)).toEqual(["z1:before", "z2:before"]);
      expect(tracker.peak("sleeper")).toBe(1);
    });

    it("starts queued runs by priority, then in order", async () => {
      const [blockerId] = await engine.send({ name: "flow/prioritized", data: { label: "p0", gate: true } });
      await until(() => tracker.started.includes("p0"));
      const ids = await sendAll("flow/prioritized", [
        { label: "low", priority: -100 },
        { label: "none" },
        { label: "high", priority: 300 },
        { label: "capped", priority: 9000 },
      ]);
      const runs = runsOf(ids);
      await until(() => runs.every((run) => engine.run(run.id)?.flowControl.waitingFor === "concurrency"));
      tracker.open("p0");
      await finishAll([...runsOf([blockerId ?? ""]), ...runs]);
      expect(tracker.started.slice(tracker.started.indexOf("p0") + 1, tracker.started.indexOf("p0") + 5)).toEqual([
        "capped",
        "high",
        "none",
        "low",
      ]);
      expect(engine.run(runs[3]?.id ?? "")?.flowControl.priority).toBe(600);
    });
  });

  describe("throttle", () => {
    it("spaces run starts evenly over the period, queuing the rest", async () => {
      const before = engine.counters().runsThrottled;
      const ids = await sendAll("flow/throttled", [{ label: "t1" }, { label: "t2" }, { label: "t3" }]);
      const runs = runsOf(ids);
      expect(runs).toHaveLength(3);
      expect(engine.run(runs[2]?.id ?? "")?.flowControl.waitingFor).toBe("throttle");
      const done = await finishAll(runs);
      expect(done.every((run) => run.status === "Completed")).toBe(true);
      const [t1, t2, t3] = done.map((run) => run.flowControl.firstCallAt ?? 0);
      // limit 1 per "10s" is one start per 100 real ms here.
      expect((t2 ?? 0) - (t1 ?? 0)).toBeGreaterThanOrEqual(95);
      expect((t3 ?? 0) - (t1 ?? 0)).toBeGreaterThanOrEqual(195);
      expect(tracker.started.filter((label) => label.startsWith("t"))).toEqual(["t1", "t2", "t3"]);
      expect(engine.counters().runsThrottled - before).toBe(2);
      expect(done[2]?.flowControl.throttledMs).toBeGreaterThanOrEqual(190);
    });

    it("lets a burst start at once, per key", async () => {
      const ids = await sendAll("flow/bursty", [
        { label: "u1", user: "u" },
        { label: "u2", user: "u" },
        { label: "u3", user: "u" },
        { label: "v1", user: "v" },
      ]);
      const done = await finishAll(runsOf(ids));
      expect(done.map((run) => run.flowControl.throttledMs > 0)).toEqual([false, false, true, false]);
    });
  });

  describe("rate limit and idempotency", () => {
    it("skips runs over the limit per key; no run exists for them", async () => {
      const before = engine.counters().runsSkipped;
      const ids = await sendAll("flow/rate-limited", [
        { label: "r1", user: "r" },
        { label: "r2", user: "r" },
        { label: "r3", user: "r" },
        { label: "q1", user: "q" },
      ]);
      expect(ids.map((id) => engine.runsForEvent(id).length)).toEqual([1, 1, 0, 1]);
      expect(engine.counters().runsSkipped - before).toBe(1);
    });

    it("runs once per idempotency key in 24 hours", async () => {
      const ids = await sendAll("flow/idempotent", [
        { label: "i1", user: "i" },
        { label: "i2", user: "i" },
        { label: "j1", user: "j" },
      ]);
      expect(ids.map((id) => engine.runsForEvent(id).length)).toEqual([1, 0, 1]);
    });
  });

  describe("debounce", () => {
    it("starts one run per key after the period, with the last event", async () => {
      const before = engine.counters().eventsDebounced;
      const ids = await sendAll("flow/debounced", [
        { label: "d1", user: "d" },
        { label: "d2", user: "d" },
        { label: "e1", user: "e" },
      ]);
      await sleep(40);
      await engine.send({ name: "flow/debounced", data: { label: "d3", user: "d" } });
      expect(ids.flatMap((id) => engine.runsForEvent(id))).toHaveLength(0);
      const runs = await until(() => {
        const found = engine.runs().filter((run) => run.functionId === `${appId}-debounced`);
        return found.length === 2 ? found : undefined;
      });
      const done = await finishAll(runs);
      expect(done.map((run) => run.output).sort()).toEqual(["d3", "e1"]);
      expect(done.map((run) => [run.output, run.flowControl.debounced]).sort()).toEqual([
        ["d3", 2],
        ["e1", 0],
      ]);
      expect(engine.counters().eventsDebounced - before).toBe(2);
    });

    it("starts the run by the timeout while events keep coming", async () => {
      const sentAt = Date.now();
      let started: RunView | undefined;
      for (let index = 0; index < 40 && started === undefined; index++) {
        await engine.send({ name: "flow/debounced-timeout", data: { label: `k${index}` } });
        await sleep(25);
        started = engine.runs().find((run) => run.functionId === `${appId}-debounced-timeout`);
      }
      expect(started).toBeDefined();
      // "30s" is 300 real ms: the run started then, though events came every 25 ms.
      expect((started?.startedAt ?? 0) - sentAt).toBeGreaterThanOrEqual(280);
      expect((started?.startedAt ?? 0) - sentAt).toBeLessThan(800);
    });
  });

  describe("batchEvents", () => {
    it("delivers full batches at once and the rest after the timeout, as events", async () => {
      const before = engine.counters().eventsBatched;
      const ids = await sendAll(
        "flow/batched",
        ["b1", "b2", "b3", "b4", "b5", "b6", "b7"].map((label) => ({ label })),
      );
      const full = runsOf(ids);
      expect(full).toHaveLength(6);
      expect(new Set(full.map((run) => run.id)).size).toBe(2);
      const rest = await until(() => engine.runsForEvent(ids[6] ?? "")[0]);
      const done = await finishAll([...new Map(full.map((run) => [run.id, run])).values(), rest]);
      expect(done.map((run) => run.output)).toEqual([["b1", "b2", "b3"], ["b4", "b5", "b6"], ["b7"]]);
      expect(done[0]?.events).toHaveLength(3);
      expect(engine.counters().eventsBatched - before).toBe(7);
    });

    it("batches per key, and runs events the if excludes alone at once", async () => {
      const ids = await sendAll("flow/batched-key", [
        { label: "m1", user: "m", skip: false },
        { label: "n1", user: "n", skip: false },
        { label: "m2", user: "m", skip: false },
        { label: "alone", user: "m", skip: true },
      ]);
      const done = await finishAll([...new Map(runsOf(ids).map((run) => [run.id, run])).values()]);
      expect(done.map((run) => run.output)).toEqual([["m1", "m2"], ["alone"]]);
      const rest = await until(() => engine.runsForEvent(ids[1] ?? "")[0]);
      expect((await engine.waitForRun(rest.id)).output).toEqual(["n1"]);
    });
  });

  describe("singleton", () => {
    it("skips a new run while one with the same key is active", async () => {
      const before = engine.counters().runsSkipped;
      const [first] = await sendAll("flow/single-skip", [{ label: "g1", user: "g" }]);
      await until(() => tracker.started.includes("g1"));
      const ids = await sendAll("flow/single-skip", [
        { label: "g2", user: "g" },
        { label: "h1", user: "h" },
      ]);
      expect(ids.map((id) => engine.runsForEvent(id).length)).toEqual([0, 1]);
      expect(engine.counters().runsSkipped - before).toBe(1);
      tracker.open("g1");
      await until(() => tracker.started.includes("h1"));
      tracker.open("h1");
      await finishAll(runsOf([first ?? "", ...ids]));
      const [again] = await sendAll("flow/single-skip", [{ label: "g3", user: "g" }]);
      expect(engine.runsForEvent(again ?? "")).toHaveLength(1);
      await until(() => tracker.started.includes("g3"));
      tracker.open("g3");
    });

    it("cancels the active run for the new one in cancel mode", async () => {
      const [first] = await sendAll("flow/single-cancel", [{ label: "c1" }]);
      const [firstRun] = runsOf([first ?? ""]);
      await until(() => ((engine.run(firstRun?.id ?? "")?.blockedOn.length ?? 0) > 0 ? true : undefined));
      const [second] = await sendAll("flow/single-cancel", [{ label: "c2" }]);
      expect(engine.run(firstRun?.id ?? "")?.status).toBe("Cancelled");
      const [secondRun] = runsOf([second ?? ""]);
      expect(secondRun?.status).toBe("Running");
      engine.cancelRun(secondRun?.id ?? "");
    });
  });

  describe("timeouts", () => {
    it("cancels a run still going after timeouts.finish", async () => {
      const before = engine.counters().runsTimedOut;
      const [id] = await sendAll("flow/finish-timeout", [{}]);
      const [run] = runsOf([id ?? ""]);
      const done = await engine.waitForRun(run?.id ?? "", { timeoutMs: 5_000 });
      expect(done.status).toBe("Cancelled");
      expect(done.steps.map((step) => step.name)).toEqual(["first"]);
      expect(engine.counters().runsTimedOut - before).toBe(1);
      const cancelled = await until(() =>
        engine.events().find((event) => event.name === "inngest/function.cancelled" && event.data.run_id === run?.id),
      );
      expect(cancelled).toBeDefined();
    });

    it("cancels a run that waited in the queue longer than timeouts.start", async () => {
      const ids = await sendAll("flow/start-timeout", [{ label: "w1", gate: true }, { label: "w2" }]);
      const [blocker, queued] = runsOf(ids);
      const done = await engine.waitForRun(queued?.id ?? "", { timeoutMs: 5_000 });
      expect(done.status).toBe("Cancelled");
      expect(done.steps).toEqual([]);
      expect(tracker.started).not.toContain("w2");
      await until(() => tracker.started.includes("w1"));
      tracker.open("w1");
      expect((await engine.waitForRun(blocker?.id ?? "")).status).toBe("Completed");
    });
  });

  it("fires cron triggers on the engine's clock", async () => {
    // "* * * * *" is every 600 real ms at this scale.
    const runs = await until(
      () => {
        const found = engine.runs().filter((run) => run.functionId === `${appId}-cron`);
        return found.length >= 2 ? found : undefined;
      },
      { timeoutMs: 5_000 },
    );
    const done = await engine.waitForRun(runs[0]?.id ?? "");
    expect(done.output).toEqual({ name: "inngest/scheduled.timer", cron: "* * * * *" });
  });

  it.each([
    [{ somethingNew: { on: true } }, "the option somethingNew is not supported"],
    [{ concurrency: [{ limit: 1 }, { limit: 2 }, { limit: 3 }] }, "concurrency must be at most two constraints"],
    [{ concurrency: { limit: 1, scope: "planet" } }, 'concurrency.scope must be "fn", "env" or "account"'],
    [{ throttle: { limit: 1, period: "soon" } }, "throttle.period must be a time string"],
    [{ singleton: { mode: "queue" } }, 'singleton.mode must be "skip" or "cancel"'],
    [{ batchEvents: { maxSize: 0, timeout: "1s" } }, "batchEvents.maxSize must be an integer of at least 1"],
    [{ priority: { run: "event.data.(" } }, "priority.run must be a supported expression"],
    [{ triggers: [{ cron: "every tuesday" }] }, 'cron "every tuesday" is not a valid cron expression'],
    [{ triggers: [{ cron: "* * * * *", jitter: "10s" }] }, "the cron trigger option jitter is not supported"],
  ])("fails a sync whose function has %j, naming the field", async (options, message) => {
    const response = await fetch(`${engine.url}/fn/register`, {
      method: "POST",
      body: JSON.stringify({
        appName: "invalid",
        url: "http://127.0.0.1:9/api/inngest",
        functions: [
          {
            id: "invalid-fn",
            triggers: [{ event: "flow/none" }],
            steps: { step: { runtime: { url: "http://127.0.0.1:9/api/inngest" } } },
            ...options,
          },
        ],
      }),
    });
    expect(response.status).toBe(400);
    const body = (await response.json()) as { error: string };
    expect(body.error).toContain("function invalid-fn");
    expect(body.error).toContain(message);
    expect(engine.apps().map((synced) => synced.name)).not.toContain("invalid");
  });

  describe("in classic mode, a call per step", () => {
    let classic: DevServer;
    let classicApp: ServedApp;
    const classicTracker = new RunTracker();

    beforeAll(async () => {
      classic = await startDevServer({ mode: "classic", timeScale: 0.01 });
      const { inngest, functions } = createFlowControlApp(appId, classic.url, classicTracker);
      classicApp = await serveTestApp("node", inngest, functions);
      await classic.syncApp(classicApp.url);
    });

    afterAll(async () => {
      await classicApp?.close();
      await classic?.close();
    });

    it("holds a run's slot between its calls, so runs at limit 1 never overlap", async () => {
      const ids = await classic.send(["c1", "c2", "c3"].map((label) => ({ name: "flow/sleeper", data: { label } })));
      const runs = ids.flatMap((id) => classic.runsForEvent(id));
      const done = await Promise.all(runs.map((run) => classic.waitForRun(run.id, { timeoutMs: 20_000 })));
      expect(done.map((run) => run.status)).toEqual(["Completed", "Completed", "Completed"]);
      expect(done.every((run) => run.counters.serveCalls >= 3)).toBe(true);
      expect(classicTracker.peak("sleeper")).toBe(1);
    });
  });
});
