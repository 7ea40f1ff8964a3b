import { randomBytes } from "node:crypto";
import { Agent } from "@mastra/core/agent";
import { Mastra } from "@mastra/core/mastra";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { functionCallBody } from "./function-call-body.ts";
import { scriptedModel } from "./scripted-model.ts";
import { textTurn } from "./scripted-model-script.ts";
import {
  callFunction,
  type ReadResponse,
  request,
  sendEvent,
  syncApp,
  syncInBand,
  waitForRunOfEvent,
} from "./serve-conformance-http.ts";
import type {
  ServeConformanceAgent,
  ServeConformanceClient,
  ServeConformanceEngine,
  ServeConformanceFunction,
  ServeConformanceServer,
  ServeConformanceSetup,
} from "./serve-conformance-types.ts";
import { silentLogger } from "./test-loggers.ts";

type Mode = "dev" | "cloud";

interface World {
  mode: Mode;
  engine: ServeConformanceEngine;
  server: ServeConformanceServer;
  appId: string;
  signingKey: string;
  signingKeyFallback: string;
  configAgent: ServeConformanceAgent;
  addedAgent: ServeConformanceAgent;
  ping: ServeConformanceFunction;
  /** Function bodies and model calls so far: what a refused call must not increase. */
  executions: () => number;
  sync: ReadResponse;
}

const testTimeoutMs = 30_000;
const pingEvent = "mastra-inngest-conformance/ping";
const configText = "Hello from the agent in the Mastra config.";
const addedText = "Hello from the agent added with addAgent.";

const signingKeyOf = (): string => `signkey-test-${randomBytes(32).toString("hex")}`;

/**
 * Registers vitest tests that serve a Mastra app through one framework on a real port and drive it
 * as Inngest does, against engines the caller starts. The app holds two durable agents (one in
 * `new Mastra({ agents })`, one added with `addAgent()`) and a user function passed as
 * `functions`. In dev mode: the sync PUT registers with the engine, the in-band registration lists
 * those three functions once each, the introspection GET counts them, both agents stream an answer
 * and the user function runs through the engine. In cloud mode (the engine signs its calls, the
 * app has `isDev: false` and the same signing key): the sync still works, introspection needs a
 * signature, an agent streams through signed calls, a call signed with the signing key or the
 * fallback key runs, and an unsigned, zeroed, stale, tampered or foreign-key call gets 401 and
 * runs nothing.
 *
 * @example
 * import { getRequestListener } from "@hono/node-server";
 * import { createInngestAgent } from "@mastra/inngest-agent";
 * import { signBody, startDevServer } from "@mastra/inngest-dev-server";
 * import { startHttpServer } from "@mastra/inngest-testing/helpers";
 * import { describeServeConformance } from "@mastra/inngest-testing/serve";
 * import { Hono } from "hono";
 * import { Inngest } from "inngest";
 * import { serve } from "./serve.ts";
 *
 * describeServeConformance({
 *   name: "hono",
 *   framework: "hono",
 *   createClient: (options) => new Inngest(options),
 *   createAgent: createInngestAgent,
 *   serve,
 *   mount: (handler) => {
 *     const app = new Hono().on(["GET", "POST", "PUT"], "/api/inngest", (context) => handler(context));
 *     return startHttpServer(getRequestListener(app.fetch));
 *   },
 *   startEngine: (options) => startDevServer({ ...options, timeScale: 0.001 }),
 *   signBody,
 * });
 */
export function describeServeConformance<TClient extends ServeConformanceClient, THandler>(
  setup: ServeConformanceSetup<TClient, THandler>,
): void {
  describe(`serve conformance: ${setup.name}`, () => {
    describe("dev mode", () => {
      const world = useWorld(setup, "dev");

      it("syncs through the engine: a PUT makes the app register with it", () => {
        const { sync } = world();
        expect(sync.status, sync.text).toBe(200);
        expect(sync.json.message).toBe("Successfully registered");
        expectFramework(setup, sync);
      });

      it(
        "registers the functions of an agent in the Mastra config, of one added with addAgent() and the user's, once each",
        async () => {
          const expected = expectedFunctionIds(world());
          const registered = await registeredFunctionIds(setup, world());
          expect(new Set(registered).size, "each function once").toBe(registered.length);
          for (const id of expected) {
            expect(registered).toContain(id);
          }
          // An Inngest function with onFailure registers a second function, <id>-failure.
          const unexpected = registered.filter((id) => !expected.includes(id.replace(/-failure$/, "")));
          expect(unexpected).toEqual([]);
        },
        testTimeoutMs,
      );

      it("answers the introspection GET with dev mode and the function count", async () => {
        const { server } = world();
        const introspection = await request(server.url);
        expect(introspection.status, introspection.text).toBe(200);
        expect(introspection.json.mode).toBe("dev");
        expect(introspection.json.function_count).toBe((await registeredFunctionIds(setup, world())).length);
        expectFramework(setup, introspection);
      });

      it(
        "streams the agent from the Mastra config through the engine",
        async () => {
          expect(await streamText(world().configAgent)).toBe(configText);
        },
        testTimeoutMs,
      );

      it(
        "streams the agent added with addAgent() through the engine",
        async () => {
          expect(await streamText(world().addedAgent)).toBe(addedText);
        },
        testTimeoutMs,
      );

      it(
        "runs the user's function, served beside the agents, through the engine",
        async () => {
          const { engine } = world();
          const eventId = await sendEvent(engine.url, pingEvent, {});
          const run = await waitForRunOfEvent(engine.url, eventId, testTimeoutMs - 5_000);
          expect(run.status).toBe("Completed");
          expect(run.output).toBe("pong");
        },
        testTimeoutMs,
      );
    });

    describe("cloud mode", () => {
      const world = useWorld(setup, "cloud");

      it("syncs with an engine that signs its calls (the unsigned sync PUT is the SDK's default)", () => {
        const { sync } = world();
        expect(sync.status, sync.text).toBe(200);
        expect(sync.json.message).toBe("Successfully registered");
      });

      it("refuses an unsigned introspection GET or in-band sync with 401, and answers signed ones", async () => {
        const { server, signingKey, appId } = world();
        const unsigned = await request(server.url);
        expect(unsigned.status).toBe(401);
        const unsignedSync = await syncInBand(server.url);
        expect(unsignedSync.status).toBe(401);
        expect(unsignedSync.json.functions).toBeUndefined();
        const signed = await request(server.url, {
          headers: { "x-inngest-signature": setup.signBody("", signingKey) },
        });
        expect(signed.status, signed.text).toBe(200);
        expect(signed.json.mode).toBe("cloud");
        expect(signed.json.authentication_succeeded).toBe(true);
        expect(signed.json.app_id).toBe(appId);
        expect(signed.json.function_count).toBe((await registeredFunctionIds(setup, world())).length);
        if (setup.framework !== undefined) {
          expect(signed.json.framework).toBe(setup.framework);
        }
      });

      it(
        "streams an agent through the engine, every call to the app signed and verified",
        async () => {
          expect(await streamText(world().configAgent)).toBe(configText);
        },
        testTimeoutMs,
      );

      it(
        "runs a call signed with the signing key, and one signed with the fallback key",
        async () => {
          const { server, signingKey, signingKeyFallback, executions } = world();
          const pingId = pingFunctionId(world());
          for (const key of [signingKey, signingKeyFallback]) {
            const before = executions();
            const body = functionCallBody(pingEvent);
            const response = await callFunction(server.url, pingId, body, setup.signBody(body, key));
            expect([200, 206], response.text).toContain(response.status);
            expect(executions()).toBe(before + 1);
          }
        },
        testTimeoutMs,
      );

      it(
        "refuses unsigned, zeroed, stale, tampered and foreign-key calls with 401, running nothing",
        async () => {
          const { server, signingKey, executions } = world();
          const pingId = pingFunctionId(world());
          const before = executions();
          const body = functionCallBody(pingEvent);
          const signature = setup.signBody(body, signingKey);
          const zeroed = signature.replace(/s=[0-9a-f]+/, `s=${"0".repeat(64)}`);
          const stale = setup.signBody(body, signingKey, Date.now() - 6 * 60 * 1_000);
          const foreign = setup.signBody(body, signingKeyOf());
          // A changed value, not an added duplicate key: JSON parsing keeps the last duplicate, and the
          // SDK checks the signature over the parsed body.
          const tampered = body.replace(/"probe":"[^"]*"/, '"probe":"tampered"');
          const attempts: [string, string, string | undefined][] = [
            ["unsigned", body, undefined],
            ["zeroed", body, zeroed],
            ["stale", body, stale],
            ["signed with another key", body, foreign],
            ["tampered", tampered, signature],
          ];
          expect(tampered).not.toBe(body);
          for (const [label, sent, header] of attempts) {
            const response = await callFunction(server.url, pingId, sent, header);
            expect(response.status, `${label}: ${response.text}`).toBe(401);
            expect(response.json.message, label).toBe("Unauthorized");
            expect(fingerprintHeaders(response), `${label}: no SDK details to an unauthenticated caller`).toEqual([]);
          }
          expect(executions()).toBe(before);
        },
        testTimeoutMs,
      );
    });
  });
}

function useWorld<TClient extends ServeConformanceClient, THandler>(
  setup: ServeConformanceSetup<TClient, THandler>,
  mode: Mode,
): () => World {
  let world: World | undefined;
  let engine: ServeConformanceEngine | undefined;
  let server: ServeConformanceServer | undefined;
  const agents: ServeConformanceAgent[] = [];

  beforeAll(async () => {
    const signingKey = signingKeyOf();
    const signingKeyFallback = signingKeyOf();
    engine = await setup.startEngine(mode === "cloud" ? { signingKey } : {});
    const appId = `conformance-${mode}`;
    const client = setup.createClient({
      id: appId,
      isDev: mode === "dev",
      ...(mode === "cloud" ? { signingKey, signingKeyFallback, eventKey: "conformance-event-key" } : {}),
      baseUrl: engine.url,
      logger: silentLogger,
    });
    let executions = 0;
    const onCall = (): void => {
      executions++;
    };
    const agent = (id: string, text: string): ServeConformanceAgent => {
      const created = setup.createAgent({
        agent: new Agent({
          id,
          name: id,
          instructions: "Greet the user.",
          model: scriptedModel([textTurn(text)], { onCall }) as never,
        }),
        inngest: client,
      });
      agents.push(created);
      return created;
    };
    const configAgent = agent("config-agent", configText);
    const addedAgent = agent("added-agent", addedText);
    const mastra = new Mastra({ agents: { configAgent: configAgent as never }, logger: false });
    mastra.addAgent(addedAgent as never);
    const ping = client.createFunction({ id: "ping", triggers: [{ event: pingEvent }] }, async ({ step }) => {
      executions++;
      return await step.run("pong", () => "pong");
    });
    const handler = setup.serve({ mastra, inngest: client, functions: [ping] });
    server = await setup.mount(handler);
    const sync = await syncApp(server.url, mode);
    world = {
      mode,
      engine,
      server,
      appId,
      signingKey,
      signingKeyFallback,
      configAgent,
      addedAgent,
      ping,
      executions: () => executions,
      sync,
    };
  }, testTimeoutMs);

  afterAll(async () => {
    await Promise.allSettled(agents.map((agent) => agent.pubsub?.close()));
    await server?.close();
    await engine?.close();
  }, testTimeoutMs);

  return () => {
    if (world === undefined) {
      throw new Error(`the ${mode}-mode app did not start; see the error of beforeAll`);
    }
    return world;
  };
}

function expectedFunctionIds(world: World): string[] {
  return [...world.configAgent.getInngestFunctions(), ...world.addedAgent.getInngestFunctions(), world.ping].map((fn) =>
    fn.id(world.appId),
  );
}

/** The functions the app registers, from an in-band sync (signed in cloud mode). */
async function registeredFunctionIds(
  setup: { signBody(body: string, signingKey: string): string },
  world: World,
): Promise<string[]> {
  const { server, mode, signingKey, appId } = world;
  const signature = mode === "cloud" ? setup.signBody(JSON.stringify({ url: server.url }), signingKey) : undefined;
  const registration = await syncInBand(server.url, signature);
  expect(registration.status, registration.text).toBe(200);
  expect(registration.json.app_id).toBe(appId);
  return (registration.json.functions as { id: string }[]).map((fn) => fn.id);
}

function pingFunctionId(world: World): string {
  return world.ping.id(world.appId);
}

function expectFramework(setup: { framework?: string }, response: ReadResponse): void {
  if (setup.framework !== undefined) {
    expect(response.headers.get("x-inngest-framework")).toBe(setup.framework);
  }
}

function fingerprintHeaders(response: ReadResponse): string[] {
  return [...response.headers.keys()].filter(
    (name) => name.toLowerCase().startsWith("x-inngest-") && name.toLowerCase() !== "x-inngest-sdk-handled",
  );
}

async function streamText(agent: ServeConformanceAgent): Promise<string> {
  const { output, cleanup } = await agent.stream("Hello!");
  try {
    return await output.text;
  } finally {
    cleanup();
  }
}
