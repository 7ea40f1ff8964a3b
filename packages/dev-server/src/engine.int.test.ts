import { until } from "@mastra/inngest-testing/helpers";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunView } from "./internal/run-view.ts";
import { type DevServer, type ExecutionMode, startDevServer } from "./start-dev-server.ts";
import { type ServedApp, serveTestApp, type TestFramework } from "./test/test-app.ts";
import { createScenarioApp, SideEffects } from "./test/test-scenarios.ts";

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

const modes: ExecutionMode[] = ["checkpoint", "classic"];
const frameworks: TestFramework[] = ["node", "hono", "express"];

describe.each(modes)("engine in %s mode", (mode) => {
  describe.each(frameworks)("with inngest/%s", (framework) => {
    let engine: DevServer;
    let app: ServedApp;
    const effects = new SideEffects();
    const appId = `scenarios-${framework}`;

    beforeAll(async () => {
      // One hour of engine time passes in 0.36 s of real time.
      engine = await startDevServer({ mode, timeScale: 0.0001 });
      const { inngest, functions } = createScenarioApp(appId, engine.url, effects);
      app = await serveTestApp(framework, inngest, functions);
      await engine.syncApp(app.url);
    });

    afterAll(async () => {
      await app?.close();
      await engine?.close();
    });

    async function start(name: string, data: Record<string, unknown> = {}): Promise<RunView> {
      const [eventId] = await engine.send({ name, data });
      const run = engine.runsForEvent(eventId ?? "")[0];
      if (run === undefined) {
        throw new Error(`no run started for ${name}`);
      }
      return run;
    }

    async function finish(name: string, data: Record<string, unknown> = {}): Promise<RunView> {
      return await engine.waitForRun((await start(name, data)).id, { timeoutMs: 15_000 });
    }

    it("syncs every function of the app", () => {
      const [synced] = engine.apps();
      expect(synced?.name).toBe(appId);
      expect(synced?.functionIds).toContain(`${appId}-steps`);
      expect(synced?.functionIds).toContain(`${appId}-failing-failure`);
    });

    it("runs steps in order, each once, and keeps the output", async () => {
      const run = await finish("test/steps", { n: 7 });
      expect(run.status).toBe("Completed");
      expect(run.output).toEqual({ b: "A7B" });
      expect(run.steps.map((step) => [step.name, step.attempt, step.outcome])).toEqual([
        ["a", 0, "ok"],
        ["b", 0, "ok"],
      ]);
      expect(effects.count("steps:a")).toBe(1);
      if (mode === "checkpoint") {
        // The SDK ran both steps in one call and checkpointed each.
        expect(run.counters.serveCalls).toBe(1);
        expect(run.counters.checkpointPosts).toBe(2);
        expect(run.steps.every((step) => step.reportedBy === "checkpoint")).toBe(true);
      } else {
        expect(run.counters.checkpointPosts).toBe(0);
        expect(run.counters.serveCalls).toBe(3);
      }
      expect(run.counters.memoizedBytes).toBeGreaterThan(0);
    });

    it("runs parallel steps once each, then continues", async () => {
      const run = await finish("test/parallel");
      expect(run.status).toBe("Completed");
      expect(run.output).toBe("p1+p2+p3");
      for (const name of ["p1", "p2", "p3", "after"]) {
        expect(effects.count(`parallel:${name}`)).toBe(1);
      }
      expect(run.steps.map((step) => step.name).sort()).toEqual(["after", "p1", "p2", "p3"]);
    });

    it("runs a loop with a repeated step id as distinct steps", async () => {
      const run = await finish("test/loop");
      expect(run.output).toBe(6);
      expect(run.steps.map((step) => step.name)).toEqual(["loop", "loop", "loop"]);
      expect(new Set(run.steps.map((step) => step.hashedId)).size).toBe(3);
    });

    it("sleeps and sleeps until a date, on the scaled clock", async () => {
      const run = await finish("test/sleeps");
      expect(run.status).toBe("Completed");
      expect(run.output).toBe("awake");
    });

    it("resumes a waitForEvent with match only on the matching event", async () => {
      const run = await start("test/wait-match", { id: "order-1" });
      await until(() => (engine.run(run.id)?.blockedOn.length ? true : undefined));
      await engine.send({ name: "test/approve", data: { id: "order-2", ok: false } });
      await sleep(50);
      expect(engine.run(run.id)?.status).toBe("Running");
      await engine.send({ name: "test/approve", data: { id: "order-1", ok: true } });
      const done = await engine.waitForRun(run.id);
      expect(done.output).toEqual({ id: "order-1", ok: true });
    });

    it("resumes a waitForEvent with if only when the condition holds", async () => {
      const run = await start("test/wait-if");
      await until(() => (engine.run(run.id)?.blockedOn.length ? true : undefined));
      await engine.send([
        { name: "test/number", data: { n: 2 } },
        { name: "test/number", data: { n: 5 } },
      ]);
      expect((await engine.waitForRun(run.id)).output).toEqual({ n: 5 });
    });

    it("times a wait out, and a wait sees no event sent before it was registered", async () => {
      const run = await start("test/wait-timeout");
      // Sent while the run still sleeps before its wait: it must not resume the later wait.
      await engine.send({ name: "test/late", data: {} });
      const done = await engine.waitForRun(run.id);
      expect(done.output).toEqual({ received: false });
    });

    it("invokes another function and memoizes its result", async () => {
      const run = await finish("test/parent");
      expect(run.output).toEqual({ doubled: 42 });
      const childRun = engine
        .runs()
        .find(
          (candidate) =>
            candidate.functionId === `${appId}-child` && candidate.event.name === "inngest/function.invoked",
        );
      expect(childRun?.status).toBe("Completed");
    });

    it("sends events from a step, which trigger other functions", async () => {
      const run = await finish("test/emit");
      expect(run.output).toEqual({ count: 1 });
      const emitted = await until(() => engine.events().find((event) => event.name === "test/emitted"));
      const [listenerRun] = engine.runsForEvent(emitted.id);
      expect(listenerRun).toBeDefined();
      expect((await engine.waitForRun(listenerRun?.id ?? "")).output).toEqual({ from: "emitter" });
    });

    it("retries a failing step with backoff up to the synced retries, then fails and runs onFailure", async () => {
      const before = effects.count("failing:step");
      const run = await finish("test/failing");
      expect(run.status).toBe("Failed");
      expect(effects.count("failing:step") - before).toBe(3);
      const attempts = run.steps.filter((step) => step.name === "always-throws");
      expect(attempts.map((step) => [step.attempt, step.outcome])).toEqual([
        [0, "error"],
        [1, "error"],
        [2, "failed"],
      ]);
      const failed = await until(() =>
        engine
          .events()
          .find(
            (event) =>
              event.name === "inngest/function.failed" && (event.data as { run_id?: string }).run_id === run.id,
          ),
      );
      const [failureRun] = engine.runsForEvent(failed.id);
      const handled = await engine.waitForRun(failureRun?.id ?? "");
      expect(handled.functionId).toBe(`${appId}-failing-failure`);
      expect(handled.output).toEqual({ message: "boom", original: "test/failing" });
    });

    it("retries a step that throws once, and it succeeds on attempt 1", async () => {
      const run = await finish("test/flaky");
      expect(run.output).toBe("recovered");
      expect(run.steps.map((step) => [step.attempt, step.outcome])).toEqual([
        [0, "error"],
        [1, "ok"],
      ]);
    });

    it("does not retry a NonRetriableError", async () => {
      const before = effects.count("non-retriable");
      const run = await finish("test/non-retriable");
      expect(run.status).toBe("Failed");
      expect(effects.count("non-retriable") - before).toBe(1);
    });

    it("honours RetryAfterError", async () => {
      const run = await finish("test/retry-after");
      expect(run.output).toBe("done");
      expect(run.steps.map((step) => step.attempt)).toEqual([0, 1]);
    });

    it("cancels a run on its cancelOn event; it runs no further step", async () => {
      const run = await start("test/cancellable", { id: "c-1" });
      await until(() => (engine.run(run.id)?.blockedOn.length ? true : undefined));
      await engine.send({ name: "test/cancel", data: { id: "someone-else" } });
      await sleep(30);
      expect(engine.run(run.id)?.status).toBe("Running");
      await engine.send({ name: "test/cancel", data: { id: "c-1" } });
      const done = await engine.waitForRun(run.id);
      expect(done.status).toBe("Cancelled");
      await sleep(100);
      expect(effects.count("cancellable:never")).toBe(0);
      expect(engine.events().some((event) => event.name === "inngest/function.cancelled")).toBe(true);
    });

    it("cancels a run through the REST API", async () => {
      const run = await start("test/cancellable", { id: "c-2" });
      await until(() => (engine.run(run.id)?.blockedOn.length ? true : undefined));
      const response = await fetch(`${engine.url}/v1/runs/${run.id}`, { method: "DELETE" });
      expect(response.status).toBe(200);
      expect((await engine.waitForRun(run.id)).status).toBe("Cancelled");
    });

    it("starts a run only when the trigger's if holds", async () => {
      const [low] = await engine.send({ name: "test/conditional", data: { priority: "low" } });
      const [high] = await engine.send({ name: "test/conditional", data: { priority: "high" } });
      expect(engine.runsForEvent(low ?? "")).toHaveLength(0);
      const [run] = engine.runsForEvent(high ?? "");
      expect((await engine.waitForRun(run?.id ?? "")).output).toBe("high");
    });
  });
});
