import { silentLogger } from "@mastra/inngest-testing/helpers";
import { Inngest, referenceFunction } from "inngest";
import { metadataMiddleware } from "inngest/experimental";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type DevServer, startDevServer } from "./start-dev-server.ts";
import { type ServedApp, serveTestApp } from "./test/test-app.ts";

/**
 * What a function's context holds as on Inngest: the event's `user` (empty when none was sent) and
 * `meta`, the job id, the message of an invoke of a missing function; and the retry interval.
 * @see issue 22
 */
describe("run context", () => {
  let engine: DevServer;
  let app: ServedApp;
  const attempts: number[] = [];
  const jobIds: (string | undefined)[] = [];

  beforeAll(async () => {
    engine = await startDevServer({ retryIntervalMs: 20 });
    const inngest = new Inngest({
      id: "context",
      isDev: true,
      baseUrl: engine.url,
      logger: silentLogger,
      middleware: [metadataMiddleware()],
    });
    const echo = inngest.createFunction(
      { id: "echo", triggers: [{ event: "context/echo" }] },
      async ({ event, jobId }) => {
        jobIds.push(jobId);
        // The v4 SDK types events without user, though Inngest sends it.
        const received = event as { user?: unknown; meta?: unknown };
        return { user: received.user ?? "absent", meta: received.meta ?? "absent" };
      },
    );
    const flaky = inngest.createFunction(
      { id: "flaky", retries: 2, triggers: [{ event: "context/flaky" }] },
      async ({ step, attempt, jobId }) =>
        await step.run("flaky", () => {
          attempts.push(Date.now());
          jobIds.push(jobId);
          if (attempt < 2) {
            throw new Error(`attempt ${attempt} fails`);
          }
          return attempt;
        }),
    );
    const invoker = inngest.createFunction(
      { id: "invoker", retries: 0, triggers: [{ event: "context/invoke-missing" }] },
      async ({ step }) => {
        try {
          await step.invoke("missing", { function: referenceFunction({ functionId: "nowhere" }), data: {} });
          return "invoked";
        } catch (error) {
          return { name: (error as Error).name, message: (error as Error).message };
        }
      },
    );
    const tagger = inngest.createFunction(
      { id: "tagger", triggers: [{ event: "context/tag" }] },
      async ({ event, step }) => {
        const { target } = event.data as { target: string };
        await step.metadata("tag").run(target).set({ reviewed: true });
        return "tagged";
      },
    );
    app = await serveTestApp("node", inngest, [echo, flaky, invoker, tagger]);
    await engine.syncApp(app.url);
  });

  afterAll(async () => {
    await app?.close();
    await engine?.close();
  });

  async function runOf(body: unknown) {
    const response = await fetch(`${engine.url}/e/key`, { method: "POST", body: JSON.stringify(body) });
    const { ids } = (await response.json()) as { ids: string[] };
    const [run] = engine.runsForEvent(ids[0] ?? "");
    return await engine.waitForRun(run?.id ?? "", { timeoutMs: 10_000 });
  }

  it("gives functions user: {} when none was sent, and the event's meta as sent", async () => {
    expect((await runOf({ name: "context/echo", data: {} })).output).toEqual({ user: {}, meta: "absent" });
    const meta = { sessions: { chat: "c-1" } };
    const done = await runOf({ name: "context/echo", data: {}, user: { id: "u-1" }, meta });
    expect(done.output).toEqual({ user: { id: "u-1" }, meta });
    expect(jobIds.at(-1)).toMatch(new RegExp(`^${done.id}:`));
  });

  it("waits the retry interval, not the backoff table, and keeps the job id across retries", async () => {
    jobIds.length = 0;
    const done = await runOf({ name: "context/flaky", data: {} });
    expect(done.output).toBe(2);
    expect(attempts).toHaveLength(3);
    // The table's first retry is 15 s; the interval is 20 ms.
    expect((attempts[2] ?? 0) - (attempts[0] ?? 0)).toBeLessThan(2_000);
    // The first attempt ran in the discovery call (checkpointing); the retries are calls of the step.
    expect(jobIds[1]).toBe(jobIds[2]);
    expect(jobIds[0]).not.toBe(jobIds[1]);
  });

  it("fails an invoke of a function that does not exist with Inngest's message", async () => {
    const done = await runOf({ name: "context/invoke-missing", data: {} });
    expect(done.output).toEqual({ name: "Error", message: "could not find function context-nowhere" });
  });

  it("stores metadata one run sets on another (POST /v1/runs/:id/metadata)", async () => {
    const target = await runOf({ name: "context/echo", data: {} });
    const tagger = await runOf({ name: "context/tag", data: { target: target.id } });
    expect(tagger.status).toBe("Completed");
    const [posted] = engine.run(target.id)?.metadata ?? [];
    expect(posted?.target).toMatchObject({ run_id: target.id });
    expect(JSON.stringify(posted?.metadata)).toContain('"reviewed":true');
  });
});
