import { silentLogger, until } from "@mastra/inngest-testing/helpers";
import { Inngest } from "inngest";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connectEngine } from "./connect-engine.ts";
import { type DevServer, startDevServer } from "./start-dev-server.ts";
import { serveTestApp } from "./test/test-app.ts";

async function runThrough(
  engineUrl: string,
  sync: (url: string) => Promise<void>,
  connection: Awaited<ReturnType<typeof connectEngine>>,
): Promise<string> {
  const inngest = new Inngest({ id: "connect", isDev: true, baseUrl: engineUrl, logger: silentLogger });
  const fn = inngest.createFunction({ id: "echo", triggers: [{ event: "connect/echo" }] }, async ({ event, step }) =>
    step.run("echo", () => (event.data as { word: string }).word),
  );
  const app = await serveTestApp("node", inngest, [fn]);
  try {
    await sync(app.url);
    const [eventId] = await connection.send({ name: "connect/echo", data: { word: "hello" } });
    const runs = await until(
      async () => {
        const started = await connection.runsForEvent(eventId ?? "");
        return started.length > 0 ? started : undefined;
      },
      { timeoutMs: 2_000, intervalMs: 20 },
    );
    const run = await connection.waitForRun(runs[0]?.run_id ?? "");
    expect(run.status).toBe("Completed");
    return String(run.output);
  } finally {
    await app.close();
  }
}

describe("connectEngine", () => {
  let external: DevServer;

  beforeAll(async () => {
    external = await startDevServer();
  });

  afterAll(async () => {
    await external?.close();
  });

  it("uses the engine at INNGEST_BASE_URL when it is set, through the REST API only", async () => {
    const connection = await connectEngine({ environment: { INNGEST_BASE_URL: `${external.url}/` } });
    expect(connection.external).toBe(true);
    expect(connection.devServer).toBeUndefined();
    expect(connection.url).toBe(external.url);
    expect(await runThrough(connection.url, (url) => connection.syncApp(url), connection)).toBe("hello");
    expect(external.runs()).toHaveLength(1);
    await connection.close();
    // The external engine is not ours to stop.
    expect((await fetch(`${external.url}/dev`)).status).toBe(200);
  });

  it("starts a local dev server when INNGEST_BASE_URL is not set", async () => {
    const connection = await connectEngine({ environment: {} });
    try {
      expect(connection.external).toBe(false);
      expect(connection.devServer).toBeDefined();
      expect(await runThrough(connection.url, (url) => connection.syncApp(url), connection)).toBe("hello");
    } finally {
      await connection.close();
    }
  });
});
