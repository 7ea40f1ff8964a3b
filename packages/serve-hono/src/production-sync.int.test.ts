import { randomBytes } from "node:crypto";
import { request as httpRequest } from "node:http";
import { getRequestListener } from "@hono/node-server";
import { Mastra } from "@mastra/core/mastra";
import { type DevServer, startDevServer } from "@mastra/inngest-dev-server";
import { type HttpTestServer, silentLogger, startHttpServer } from "@mastra/inngest-testing/helpers";
import { Hono } from "hono";
import { Inngest, type RegisterOptions } from "inngest";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { serve } from "./serve.ts";

// The sync PUT is unsigned by the SDK's default, and without serveOrigin the SDK registers the URL
// of the request: a forged Host header would point Inngest at another server. In production the
// guard makes the app pin its origin (or refuse unsigned syncs); these tests send the forged sync.
const signingKey = `signkey-test-${randomBytes(32).toString("hex")}`;
const attackerHost = "attacker.example";
const publicOrigin = "https://app.example.com";

/** An unsigned sync PUT to the app, as anyone who can reach it could send, with a forged Host. */
function forgedSync(server: HttpTestServer): Promise<number> {
  return new Promise((resolve, reject) => {
    const outgoing = httpRequest(
      {
        host: "127.0.0.1",
        port: server.port,
        path: "/api/inngest",
        method: "PUT",
        headers: { host: attackerHost, "x-inngest-server-kind": "cloud" },
      },
      (response) => {
        response.resume();
        response.on("end", () => resolve(response.statusCode ?? 0));
      },
    );
    outgoing.on("error", reject);
    outgoing.end();
  });
}

describe("an unsigned sync PUT with a forged Host header, against a cloud-mode app", () => {
  let engine: DevServer;
  const servers: HttpTestServer[] = [];

  beforeAll(async () => {
    engine = await startDevServer({ signingKey, timeScale: 0.001 });
  });

  afterEach(() => {
    vi.unstubAllEnvs();
  });

  afterAll(async () => {
    await Promise.allSettled(servers.map((server) => server.close()));
    await engine?.close();
  });

  /** Serves one function from a cloud-mode client of app `id`, created while NODE_ENV is `nodeEnvironment`. */
  async function startApp(id: string, nodeEnvironment: string, registerOptions: RegisterOptions) {
    vi.stubEnv("NODE_ENV", nodeEnvironment);
    vi.stubEnv("INNGEST_SERVE_ORIGIN", undefined);
    vi.stubEnv("INNGEST_ENABLE_UNAUTHED_SYNC", undefined);
    const inngest = new Inngest({ id, isDev: false, signingKey, baseUrl: engine.url, logger: silentLogger });
    const ping = inngest.createFunction({ id: "ping", triggers: [{ event: "test/ping" }] }, async () => "pong");
    const handler = serve({ mastra: new Mastra({ logger: false }), inngest, functions: [ping], registerOptions });
    const app = new Hono();
    app.on(["GET", "POST", "PUT"], "/api/inngest", (context) => handler(context));
    const server = await startHttpServer(getRequestListener(app.fetch, { hostname: "127.0.0.1" }));
    servers.push(server);
    return server;
  }

  const registeredUrl = (id: string) => engine.apps().find((app) => app.name === id)?.url;

  it("registers the forged origin when nothing pins it (outside production, where the guard does not run)", async () => {
    const server = await startApp("unpinned-app", "development", {});

    expect(await forgedSync(server)).toBe(200);
    expect(registeredUrl("unpinned-app")).toBe(`http://${attackerHost}/api/inngest`);
  });

  it("in production, refuses to create that handler", () => {
    vi.stubEnv("NODE_ENV", "production");
    const inngest = new Inngest({ id: "refused-app", isDev: false, signingKey, logger: silentLogger });

    expect(() => serve({ mastra: new Mastra({ logger: false }), inngest })).toThrow(
      expect.objectContaining({
        name: "MastraInngestError",
        code: "UNSAFE_IN_PRODUCTION",
        message: expect.stringContaining("set registerOptions.serveOrigin"),
      }),
    );
  });

  it("in production with serveOrigin, registers the app's own origin whatever the Host header says", async () => {
    const server = await startApp("pinned-app", "production", { serveOrigin: publicOrigin });

    expect(await forgedSync(server)).toBe(200);
    expect(registeredUrl("pinned-app")).toBe(`${publicOrigin}/api/inngest`);
  });

  it("in production with enableUnauthedSync: false, answers the unsigned sync with 401 and registers nothing", async () => {
    const server = await startApp("signed-sync-app", "production", { enableUnauthedSync: false });

    expect(await forgedSync(server)).toBe(401);
    expect(registeredUrl("signed-sync-app")).toBeUndefined();
  });
});
