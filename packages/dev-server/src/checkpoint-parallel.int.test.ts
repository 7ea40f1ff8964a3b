import { getRequestListener } from "@hono/node-server";
import { silentLogger, startHttpServer } from "@mastra/inngest-testing/helpers";
import { Hono } from "hono";
import { Inngest } from "inngest";
import { serve } from "inngest/hono";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type DevServer, startDevServer } from "./start-dev-server.ts";

/**
 * After parallel steps, the engine returns the run to immediate execution, as Inngest's executor
 * does (`maybeResetForceStepPlan`) and as inngest-js's own test "resumes checkpointing after
 * parallelism" expects: the steps after a `Promise.all` run eagerly and are checkpointed, with no
 * planning round trip each.
 */
describe("checkpointing after parallel steps", () => {
  let engine: DevServer;
  let app: { url: string; close(): Promise<void> };
  const counts = new Map<string, number>();
  const bodies: { disableImmediateExecution: boolean; stepId: string }[] = [];

  beforeAll(async () => {
    engine = await startDevServer({ mode: "checkpoint" });
    const inngest = new Inngest({ id: "resume-checkpointing", isDev: true, baseUrl: engine.url, logger: silentLogger });
    const track = (name: string): string => {
      counts.set(name, (counts.get(name) ?? 0) + 1);
      return name;
    };
    const fn = inngest.createFunction(
      { id: "fn", retries: 0, triggers: [{ event: "test/resume" }] },
      async ({ step }) => {
        await step.run("seq-1", () => track("seq-1"));
        await step.run("seq-2", () => track("seq-2"));
        await Promise.all([step.run("par-1", () => track("par-1")), step.run("par-2", () => track("par-2"))]);
        await step.run("after-1", () => track("after-1"));
        await step.run("after-2", () => track("after-2"));
        await step.run("after-3", () => track("after-3"));
        return "done";
      },
    );
    const handler = serve({ client: inngest, functions: [fn] });
    const hono = new Hono();
    hono.on(["GET", "PUT", "POST"], "/api/inngest", async (context) => {
      if (context.req.method === "POST") {
        // Records what the engine asked for; the SDK's handler reads the same body after.
        const body = (await context.req.raw.clone().json()) as { ctx?: { disable_immediate_execution?: boolean } };
        bodies.push({
          disableImmediateExecution: body.ctx?.disable_immediate_execution === true,
          stepId: context.req.query("stepId") ?? "",
        });
      }
      return handler(context);
    });
    app = await startHttpServer(getRequestListener(hono.fetch, { hostname: "127.0.0.1" }));
    await engine.syncApp(`${app.url}`);
  });

  afterAll(async () => {
    await app?.close();
    await engine?.close();
  });

  it("runs the steps after Promise.all eagerly, each once, with checkpoints", async () => {
    const [eventId] = await engine.send({ name: "test/resume" });
    const [started] = engine.runsForEvent(eventId ?? "");
    const run = await engine.waitForRun(started?.id ?? "", { timeoutMs: 15_000 });
    expect(run.error).toBeUndefined();
    expect(run.status).toBe("Completed");
    expect(run.output).toBe("done");
    for (const name of ["seq-1", "seq-2", "par-1", "par-2", "after-1", "after-2", "after-3"]) {
      expect(counts.get(name), name).toBe(1);
    }
    const after = run.steps.filter((step) => step.name.startsWith("after-"));
    expect(after.map((step) => step.reportedBy)).toEqual(["checkpoint", "checkpoint", "checkpoint"]);
    // One discovery up to the Promise.all, one call per parallel step, one discovery to the end.
    expect(run.counters.serveCalls).toBe(4);
    expect(bodies.map((body) => body.disableImmediateExecution)).toEqual([false, true, true, false]);
    expect(bodies.at(-1)?.stepId).toBe("step");
  });
});
