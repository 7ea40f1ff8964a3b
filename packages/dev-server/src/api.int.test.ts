import { silentLogger } from "@mastra/inngest-testing/helpers";
import { Inngest } from "inngest";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type DevServer, startDevServer } from "./start-dev-server.ts";
import { type ServedApp, serveTestApp } from "./test/test-app.ts";
import { createScenarioApp, SideEffects } from "./test/test-scenarios.ts";

let engine: DevServer;
let app: ServedApp;

beforeAll(async () => {
  engine = await startDevServer({ timeScale: 0.0001 });
  const { inngest, functions } = createScenarioApp("api", engine.url, new SideEffects());
  app = await serveTestApp("node", inngest, functions);
  await engine.syncApp(app.url);
});

afterAll(async () => {
  await app?.close();
  await engine?.close();
});

interface EventReply {
  ids: string[];
  status: number;
  error?: string;
}

async function post(
  path: string,
  body: unknown,
  headers: Record<string, string> = {},
): Promise<{ status: number; json: EventReply }> {
  const response = await fetch(`${engine.url}${path}`, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: JSON.stringify(body),
  });
  return { status: response.status, json: (await response.json()) as EventReply };
}

describe("event API", () => {
  it("accepts one event or an array and answers with ids and status, as the SDK expects", async () => {
    const single = await post("/e/NO_EVENT_KEY_SET", { name: "test/conditional", data: { priority: "high" } });
    expect(single.status).toBe(200);
    expect(single.json).toEqual({ ids: [expect.any(String)], status: 200 });
    const many = await post("/e/any-key", [
      { name: "test/conditional", data: { priority: "low" } },
      { name: "test/conditional", data: { priority: "high" } },
    ]);
    expect(many.json.ids).toHaveLength(2);
    expect(new Set([single.json.ids[0], ...many.json.ids]).size).toBe(3);
  });

  it("starts runs once for a user-supplied id sent twice", async () => {
    const first = await post("/e/key", { id: "order-42", name: "test/steps", data: { n: 1 } });
    const second = await post("/e/key", { id: "order-42", name: "test/steps", data: { n: 1 } });
    expect(first.json.ids).toEqual(["order-42"]);
    expect(second.json.ids).toEqual(["order-42"]);
    expect(engine.runsForEvent("order-42")).toHaveLength(1);
  });

  it("gives a retried send with the same seed header the same ids and no second run", async () => {
    const seed = { "x-inngest-event-id-seed": "1795771813771,AAAAAAAAAAAAAA==" };
    const first = await post("/e/key", [{ name: "test/steps", data: { n: 2 } }], seed);
    const retry = await post("/e/key", [{ name: "test/steps", data: { n: 2 } }], seed);
    expect(retry.json.ids).toEqual(first.json.ids);
    expect(engine.runsForEvent(first.json.ids[0] ?? "")).toHaveLength(1);
  });

  it("rejects an event without a name with 400 and the SDK's error shape", async () => {
    const bad = await post("/e/key", [{ data: {} }]);
    expect(bad.status).toBe(400);
    expect(bad.json).toMatchObject({ status: 400, error: expect.stringContaining("name") });
  });

  it("works with the SDK's own inngest.send()", async () => {
    const client = new Inngest({ id: "sender", isDev: true, baseUrl: engine.url, logger: silentLogger });
    const { ids } = await client.send({ name: "test/steps", data: { n: 3 } });
    const [run] = engine.runsForEvent(ids[0] ?? "");
    expect((await engine.waitForRun(run?.id ?? "")).output).toEqual({ b: "A3B" });
  });
});

describe("REST inspection", () => {
  it("serves GET /v1/runs/:id and GET /v1/events/:id/runs in Inngest's shapes", async () => {
    const [eventId] = await engine.send({ name: "test/steps", data: { n: 9 } });
    const [run] = engine.runsForEvent(eventId ?? "");
    await engine.waitForRun(run?.id ?? "");
    const runResponse = await (await fetch(`${engine.url}/v1/runs/${run?.id}`)).json();
    expect(runResponse.data).toMatchObject({
      run_id: run?.id,
      status: "Completed",
      output: { b: "A9B" },
      function_id: "api-steps",
      event_id: eventId,
      run_started_at: expect.any(String),
      ended_at: expect.any(String),
    });
    const eventRuns = await (await fetch(`${engine.url}/v1/events/${eventId}/runs`)).json();
    expect(eventRuns.data.map((entry: { run_id: string }) => entry.run_id)).toEqual([run?.id]);
    expect((await fetch(`${engine.url}/v1/runs/unknown`)).status).toBe(404);
  });

  it("counts serve calls, checkpoint posts, steps, memoized bytes and engine CPU", async () => {
    const counters = engine.counters();
    expect(counters.serveCalls).toBeGreaterThan(0);
    expect(counters.checkpointPosts).toBeGreaterThan(0);
    expect(counters.stepsExecuted).toBeGreaterThan(0);
    expect(counters.memoizedBytes).toBeGreaterThan(0);
    expect(counters.engineCpuMicros).toBeGreaterThan(0);
    expect(counters.runsStarted).toBeGreaterThan(0);
  });
});

describe("sync", () => {
  it("replaces an app's functions on re-sync", async () => {
    const isolated = await startDevServer();
    const first = new Inngest({ id: "resync", isDev: true, baseUrl: isolated.url, logger: silentLogger });
    const one = first.createFunction({ id: "one", triggers: [{ event: "x/one" }] }, async () => 1);
    const served = await serveTestApp("node", first, [one]);
    try {
      expect((await isolated.syncApp(served.url)).functionIds).toEqual(["resync-one"]);
      await served.close();
      const second = new Inngest({ id: "resync", isDev: true, baseUrl: isolated.url, logger: silentLogger });
      const two = second.createFunction({ id: "two", triggers: [{ event: "x/two" }] }, async () => 2);
      const reserved = await serveTestApp("node", second, [two]);
      try {
        expect((await isolated.syncApp(reserved.url)).functionIds).toEqual(["resync-two"]);
        const [eventId] = await isolated.send({ name: "x/one" });
        expect(isolated.runsForEvent(eventId ?? "")).toHaveLength(0);
      } finally {
        await reserved.close();
      }
    } finally {
      await isolated.close();
    }
  });

  it("fails a sync with the app's answer when the app is unreachable", async () => {
    await expect(engine.syncApp("http://127.0.0.1:1/api/inngest")).rejects.toThrow(/could not reach .* to sync it/);
  });
});

describe("retention", () => {
  it("keeps at most `retention` finished runs and events, so a long-lived engine does not grow", async () => {
    const small = await startDevServer({ retention: 5 });
    const client = new Inngest({ id: "retention", isDev: true, baseUrl: small.url, logger: silentLogger });
    const fn = client.createFunction({ id: "quick", triggers: [{ event: "r/quick" }] }, async () => "ok");
    const served = await serveTestApp("node", client, [fn]);
    try {
      await small.syncApp(served.url);
      for (let index = 0; index < 20; index++) {
        const [eventId] = await small.send({ name: "r/quick", data: { index } });
        const [run] = small.runsForEvent(eventId ?? "");
        await small.waitForRun(run?.id ?? "");
      }
      expect(small.runs().length).toBeLessThanOrEqual(5);
      expect(small.events().length).toBeLessThanOrEqual(5);
      expect(small.counters().runsStarted).toBe(20);
    } finally {
      await served.close();
      await small.close();
    }
  });
});

describe("close()", () => {
  it("stops a run in flight: no call is retried or started after the engine closed", async () => {
    const closing = await startDevServer({ timeScale: 0.0001 });
    const client = new Inngest({ id: "closing", isDev: true, baseUrl: closing.url, logger: silentLogger });
    const slow = client.createFunction({ id: "slow", triggers: [{ event: "c/slow" }] }, async ({ step }) => {
      await step.run("wait", () => new Promise((resolve) => setTimeout(resolve, 200)));
      await step.run("after", () => "done");
    });
    const served = await serveTestApp("node", client, [slow]);
    await closing.syncApp(served.url);
    await closing.send({ name: "c/slow" });
    await new Promise((resolve) => setTimeout(resolve, 50));
    await served.close();
    await closing.close();
    const callsAtClose = closing.counters().serveCalls;
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(closing.counters().serveCalls).toBe(callsAtClose);
  });
});
