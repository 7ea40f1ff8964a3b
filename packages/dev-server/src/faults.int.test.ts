import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type DevServer, type ExecutionMode, startDevServer } from "./start-dev-server.ts";
import { type ServedApp, serveTestApp } from "./test/test-app.ts";
import { createScenarioApp, SideEffects } from "./test/test-scenarios.ts";

describe.each<ExecutionMode>(["checkpoint", "classic"])("fault injection in %s mode", (mode) => {
  let engine: DevServer;
  let app: ServedApp;
  const effects = new SideEffects();

  beforeAll(async () => {
    engine = await startDevServer({ mode, timeScale: 0.0001 });
    const { inngest, functions } = createScenarioApp("faults", engine.url, effects);
    app = await serveTestApp("node", inngest, functions);
    await engine.syncApp(app.url);
  });

  afterAll(async () => {
    await app?.close();
    await engine?.close();
  });

  async function runCharge(): Promise<{ id: string }> {
    const [eventId] = await engine.send({ name: "test/charge" });
    const run = engine.runsForEvent(eventId ?? "")[0];
    if (run === undefined) {
      throw new Error("no run");
    }
    return run;
  }

  it("crash after a named step: the step ran, its result was lost, and attempt 1 runs it again", async () => {
    const before = effects.count("charge");
    const fault = engine.faults.crashAfterStep({ functionId: "faults-charge", step: "charge" });
    const run = await engine.waitForRun((await runCharge()).id);
    expect(fault.triggered).toBe(1);
    expect(run.status).toBe("Completed");
    // The side effect happened twice: once in the lost attempt, once in the retry.
    expect(effects.count("charge") - before).toBe(2);
    const charges = run.steps.filter((step) => step.name === "charge");
    expect(charges.map((step) => [step.attempt, step.discarded])).toEqual([
      [0, true],
      [1, false],
    ]);
    expect(run.output).toEqual({ receipt: `receipt-${before + 2}`, mailed: expect.any(Number) });
    // The retry's attempt count belongs to the step that failed: the next step starts at 0 again.
    expect(run.steps.find((step) => step.name === "mail")?.attempt).toBe(0);
  });

  it("a crash stops the lost call there, as a dead process would: the next step runs once", async () => {
    const before = effects.count("mail");
    const fault = engine.faults.crashAfterStep({ functionId: "faults-charge", step: "charge" });
    const run = await engine.waitForRun((await runCharge()).id);
    expect(fault.triggered).toBe(1);
    expect(run.status).toBe("Completed");
    expect(effects.count("mail") - before).toBe(1);
    expect(run.steps.filter((step) => step.name === "mail").map((step) => step.discarded)).toEqual([false]);
  });

  it("a crash scoped to another run leaves this run alone", async () => {
    const fault = engine.faults.crashAfterStep({ runId: "some-other-run", step: "charge" });
    const run = await engine.waitForRun((await runCharge()).id);
    expect(fault.triggered).toBe(0);
    expect(run.steps.filter((step) => step.name === "charge")).toHaveLength(1);
    fault.remove();
  });

  it("duplicate delivery: the call reaches the app twice, the run keeps one result per step", async () => {
    const before = effects.count("charge");
    const fault = engine.faults.duplicateCalls({ functionId: "faults-charge" });
    const run = await engine.waitForRun((await runCharge()).id);
    expect(fault.triggered).toBe(1);
    expect(run.status).toBe("Completed");
    expect(effects.count("charge") - before).toBe(2);
    const kept = run.steps.filter((step) => step.name === "charge" && !step.discarded);
    expect(kept).toHaveLength(1);
    expect(run.steps.some((step) => step.name === "charge" && step.discarded)).toBe(true);
  });

  it("delayed calls hold the run back by the delay", async () => {
    const fault = engine.faults.delayCalls({ functionId: "faults-charge", delayMs: 150 });
    const started = Date.now();
    const run = await engine.waitForRun((await runCharge()).id);
    fault.remove();
    expect(run.status).toBe("Completed");
    expect(fault.triggered).toBeGreaterThanOrEqual(1);
    expect(Date.now() - started).toBeGreaterThanOrEqual(140 * fault.triggered);
  });
});
