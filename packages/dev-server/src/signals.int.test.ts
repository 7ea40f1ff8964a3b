import { silentLogger, until } from "@mastra/inngest-testing/helpers";
import { Inngest } from "inngest";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunView } from "./internal/run-view.ts";
import { type DevServer, type ExecutionMode, startDevServer } from "./start-dev-server.ts";
import { type ServedApp, serveTestApp } from "./test/test-app.ts";

/**
 * `step.waitForSignal()` and `step.sendSignal()` / `inngest.sendSignal()` (`POST /v1/signals`), as
 * the SDK documents them: the wait resolves with `{ signal, data }` or null at its timeout; one
 * run waits for a signal at a time, `onConflict` decides what a second wait does.
 * @see issue 22
 */
describe.each<ExecutionMode>(["checkpoint", "classic"])("signals in %s mode", (mode) => {
  let engine: DevServer;
  let app: ServedApp;
  let inngest: Inngest.Any;

  beforeAll(async () => {
    engine = await startDevServer({ mode, timeScale: 0.01 });
    inngest = new Inngest({ id: `signals-${mode}`, isDev: true, baseUrl: engine.url, logger: silentLogger });
    const waiter = inngest.createFunction(
      { id: "waiter", triggers: [{ event: "signals/wait" }] },
      async ({ event, step }) => {
        const { signal, onConflict } = event.data as { signal: string; onConflict: "replace" | "fail" };
        return await step.waitForSignal("wait", { signal, timeout: "1m", onConflict });
      },
    );
    const sender = inngest.createFunction(
      { id: "sender", triggers: [{ event: "signals/send" }] },
      async ({ event, step }) => {
        const { signal } = event.data as { signal: string };
        return await step.sendSignal("send", { signal, data: { from: "sender" } });
      },
    );
    app = await serveTestApp("node", inngest, [waiter, sender]);
    await engine.syncApp(app.url);
  });

  afterAll(async () => {
    await app?.close();
    await engine?.close();
  });

  async function startWaiting(signal: string, onConflict: "replace" | "fail" = "replace"): Promise<RunView> {
    const [eventId] = await engine.send({ name: "signals/wait", data: { signal, onConflict } });
    const [run] = engine.runsForEvent(eventId ?? "");
    await until(() => ((engine.run(run?.id ?? "")?.blockedOn.length ?? 0) > 0 ? true : undefined));
    return run as RunView;
  }

  it("resumes the waiting run with the signal's data, sent from the client", async () => {
    const run = await startWaiting(`order-${mode}-1`);
    const sent = await inngest.sendSignal({ signal: `order-${mode}-1`, data: { ok: true } });
    expect(sent.runId).toBe(run.id);
    const done = await engine.waitForRun(run.id);
    expect(done.output).toEqual({ signal: `order-${mode}-1`, data: { ok: true } });
  });

  it("resumes it from step.sendSignal() in another run", async () => {
    const run = await startWaiting(`order-${mode}-2`);
    const [senderEvent] = await engine.send({ name: "signals/send", data: { signal: `order-${mode}-2` } });
    const [senderRun] = engine.runsForEvent(senderEvent ?? "");
    expect((await engine.waitForRun(senderRun?.id ?? "")).output).toEqual({ runId: run.id });
    expect((await engine.waitForRun(run.id)).output).toEqual({
      signal: `order-${mode}-2`,
      data: { from: "sender" },
    });
  });

  it("answers a signal nobody waits for with no run", async () => {
    expect(await inngest.sendSignal({ signal: `nobody-${mode}`, data: {} })).toEqual({ runId: undefined });
  });

  it("times a wait out with null", async () => {
    const run = await startWaiting(`late-${mode}`);
    // "1m" is 600 real ms at this scale.
    const done = await engine.waitForRun(run.id, { timeoutMs: 5_000 });
    expect(done.output).toBeNull();
  });

  it("lets a second wait replace the first, or fails the second run with onConflict: fail", async () => {
    const first = await startWaiting(`shared-${mode}`);
    const second = await startWaiting(`shared-${mode}`, "replace");
    expect((await inngest.sendSignal({ signal: `shared-${mode}`, data: 1 })).runId).toBe(second.id);
    expect(engine.run(first.id)?.status).toBe("Running");
    const third = await startWaiting(`shared-${mode}`);
    const [eventId] = await engine.send({
      name: "signals/wait",
      data: { signal: `shared-${mode}`, onConflict: "fail" },
    });
    const [failing] = engine.runsForEvent(eventId ?? "");
    const failed = await engine.waitForRun(failing?.id ?? "");
    expect(failed.status).toBe("Failed");
    expect(JSON.stringify(failed.error)).toContain("already waits for");
    expect((await inngest.sendSignal({ signal: `shared-${mode}`, data: 2 })).runId).toBe(third.id);
    engine.cancelRun(first.id);
  });
});
