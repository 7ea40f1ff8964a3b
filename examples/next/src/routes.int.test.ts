import { getRequestListener } from "@hono/node-server";
import { type DevServer, startDevServer } from "@mastra/inngest-dev-server";
import { type HttpTestServer, startHttpServer } from "@mastra/inngest-testing/helpers";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";

type RouteHandler = (request: Request, context: undefined) => Response | Promise<Response>;
type RouteModule = Partial<Record<"GET" | "POST" | "PUT", RouteHandler>>;

// The Inngest client reads its environment when it is created: the test points it at the engine it
// starts, and leaves out an API key so that the agent uses the scripted model.
const overridden = [
  "INNGEST_DEV",
  "INNGEST_BASE_URL",
  "INNGEST_API_BASE_URL",
  "INNGEST_EVENT_API_BASE_URL",
  "OPENAI_API_KEY",
];
let engine: DevServer;
let server: HttpTestServer | undefined;
let baseUrl: string;
let example: typeof import("./mastra.ts");

beforeAll(async () => {
  engine = await startDevServer();
  for (const name of overridden) {
    vi.stubEnv(name, undefined);
  }
  vi.stubEnv("INNGEST_DEV", engine.url);
  example = await import("./mastra.ts");
  // Next.js itself is not booted: each request becomes a web Request, handed to the exported
  // handler of its route module, as the App Router calls them.
  const routes = new Map<string, RouteModule>([
    ["/api/inngest", (await import("../app/api/inngest/route.ts")) as RouteModule],
    ["/api/chat", (await import("../app/api/chat/route.ts")) as RouteModule],
  ]);
  const fetch = async (request: Request): Promise<Response> => {
    const handler = routes.get(new URL(request.url).pathname)?.[request.method as keyof RouteModule];
    return handler === undefined ? new Response(null, { status: 404 }) : handler(request, undefined);
  };
  server = await startHttpServer(getRequestListener(fetch, { hostname: "127.0.0.1" }));
  baseUrl = server.origin;
  await engine.syncApp(`${baseUrl}/api/inngest`);
});

afterAll(async () => {
  await server?.close();
  await example?.durableAgent.pubsub.close();
  await engine?.close();
  vi.unstubAllEnvs();
});

describe("the Next.js example's route handlers", () => {
  it("register the agent's function when the engine syncs /api/inngest", () => {
    const [synced] = engine.apps();
    expect(synced?.url).toBe(`${baseUrl}/api/inngest`);
    expect(synced?.functionIds).toContain("next-example-agent-assistant");
  });

  it("stream the agent's text from POST /api/chat, from a run the engine completed", async () => {
    const response = await fetch(`${baseUrl}/api/chat`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ message: "Hi! What are you?" }),
    });
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toBe("text/plain; charset=utf-8");
    const runId = response.headers.get("x-run-id") ?? "";
    expect(await response.text()).toBe(example.scriptedAnswer);

    const engineRun = engine.runs().find((run) => (run.event.data as { runId?: string }).runId === runId);
    expect(engineRun, `the engine has no run for ${runId}`).toBeDefined();
    const run = await engine.waitForRun(engineRun?.id ?? "", { timeoutMs: 10_000 });
    expect(run.status).toBe("Completed");
    expect(run.steps.filter((step) => !step.discarded).map((step) => step.name)).toEqual(["llm:0", "map:0", "finish"]);
  });

  it("answer 400 to a chat request without a message", async () => {
    const response = await fetch(`${baseUrl}/api/chat`, { method: "POST", body: "not json" });
    expect(response.status).toBe(400);
  });
});
