import { randomBytes } from "node:crypto";
import { functionCallBody, silentLogger } from "@mastra/inngest-testing/helpers";
import { Inngest } from "inngest";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { signBody } from "./internal/signing.ts";
import { type DevServer, startDevServer } from "./start-dev-server.ts";
import { type ServedApp, serveTestApp } from "./test/test-app.ts";

const signingKey = `signkey-test-${randomBytes(32).toString("hex")}`;
const otherKey = `signkey-test-${randomBytes(32).toString("hex")}`;

describe("cloud mode: the engine signs its calls", () => {
  let engine: DevServer;
  let app: ServedApp;
  let calls = 0;

  beforeAll(async () => {
    engine = await startDevServer({ signingKey, timeScale: 0.0001 });
    // isDev false: the SDK verifies every call's signature, as in production.
    const inngest = new Inngest({ id: "cloud", isDev: false, signingKey, baseUrl: engine.url, logger: silentLogger });
    const fn = inngest.createFunction({ id: "hello", triggers: [{ event: "cloud/hello" }] }, async ({ step }) => {
      calls++;
      return await step.run("greet", () => "hi");
    });
    app = await serveTestApp("node", inngest, [fn]);
    await engine.syncApp(app.url);
  });

  afterAll(async () => {
    await app?.close();
    await engine?.close();
  });

  it("runs a function whose app checks signatures", async () => {
    const [eventId] = await engine.send({ name: "cloud/hello" });
    const [run] = engine.runsForEvent(eventId ?? "");
    const done = await engine.waitForRun(run?.id ?? "");
    expect(done.status).toBe("Completed");
    expect(done.output).toBe("hi");
  });

  const body = functionCallBody("cloud/hello", { data: {}, runId: "01J00000000000000000000000" });
  const callUrl = (): string => `${app.url}?fnId=cloud-hello&stepId=step`;

  it("the app rejects an unsigned call with 401 and runs nothing", async () => {
    const before = calls;
    const response = await fetch(callUrl(), { method: "POST", headers: { "content-type": "application/json" }, body });
    expect(response.status).toBe(401);
    expect(calls).toBe(before);
  });

  it("the app rejects a signed call whose body was tampered with, or signed with another key", async () => {
    const before = calls;
    const signature = signBody(body, signingKey);
    const tampered = body.replace('"data":{}', '"data":{"admin":true}');
    const tamperedResponse = await fetch(callUrl(), {
      method: "POST",
      headers: { "content-type": "application/json", "x-inngest-signature": signature },
      body: tampered,
    });
    expect(tamperedResponse.status).toBe(401);
    const foreign = await fetch(callUrl(), {
      method: "POST",
      headers: { "content-type": "application/json", "x-inngest-signature": signBody(body, otherKey) },
      body,
    });
    expect(foreign.status).toBe(401);
    expect(calls).toBe(before);
  });

  it("the app accepts the same call signed as the engine signs it", async () => {
    const response = await fetch(callUrl(), {
      method: "POST",
      headers: { "content-type": "application/json", "x-inngest-signature": signBody(body, signingKey) },
      body,
    });
    expect(response.status).toBe(206);
  });

  it("the engine refuses a sync whose bearer is not derived from its signing key", async () => {
    const response = await fetch(`${engine.url}/fn/register`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: "Bearer nope" },
      body: JSON.stringify({ appName: "intruder", url: "http://127.0.0.1:1/api/inngest", functions: [] }),
    });
    expect(response.status).toBe(401);
    expect(engine.apps().map((synced) => synced.name)).not.toContain("intruder");
  });
});
