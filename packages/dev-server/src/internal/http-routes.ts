import type { IncomingMessage, ServerResponse } from "node:http";
import type { Engine } from "./engine.ts";
import type { RealtimeHub } from "./realtime-hub.ts";
import { toRestRun } from "./run-view.ts";
import { isAuthorizedBearer } from "./signing.ts";

/** Largest request body the engine reads, in bytes; larger ones get 413. */
const maximumBodyBytes = 32 * 1024 * 1024;

/** What the routes need. */
export interface RouteContext {
  engine: Engine;
  hub: RealtimeHub;
  /** Signing keys that authorize SDK API calls; empty in dev mode, where any header passes. */
  signingKeys: readonly string[];
}

/**
 * Routes one HTTP request to the engine: sync, the event API, checkpoints, the REST-shaped
 * inspection API and the realtime endpoints. WebSocket upgrades are routed separately.
 */
export async function handleRequest(
  context: RouteContext,
  request: IncomingMessage,
  response: ServerResponse,
): Promise<void> {
  const url = new URL(request.url ?? "/", "http://engine.local");
  const path = url.pathname.replace(/\/+$/, "") || "/";
  const method = request.method ?? "GET";
  try {
    if (method === "GET" && (path === "/dev" || path === "/health")) {
      return send(response, 200, { ok: true, kind: "@mastra/inngest-dev-server" });
    }
    if (method === "POST" && path === "/fn/register") {
      if (!authorized(context, request)) {
        return send(response, 401, { message: "Unauthorized" });
      }
      context.engine.sync(parseBody(await readBody(request)));
      return send(response, 200, { ok: true, modified: true });
    }
    if (method === "POST" && path === "/v1/signals") {
      if (!authorized(context, request)) {
        return send(response, 401, { error: "Unauthorized" });
      }
      const body = parseBody(await readBody(request)) as { signal?: unknown; data?: unknown };
      if (typeof body.signal !== "string" || body.signal === "") {
        return send(response, 400, { error: "signal must be a non-empty string" });
      }
      const runId = context.engine.signal(body.signal, body.data);
      return runId === undefined
        ? send(response, 404, { error: `no run waits for signal ${body.signal}` })
        : send(response, 200, { data: { run_id: runId } });
    }
    const eventMatch = /^\/e\/([^/]+)$/.exec(path);
    if (method === "POST" && eventMatch !== null) {
      return receiveEvents(context, request, response);
    }
    const checkpointMatch = /^\/v1\/checkpoint\/([^/]+)\/async$/.exec(path);
    if (method === "POST" && checkpointMatch !== null) {
      const body = parseBody(await readBody(request));
      const status = context.engine.checkpoint(
        decodeURIComponent(checkpointMatch[1] ?? ""),
        body as Record<string, unknown>,
      );
      return send(
        response,
        status,
        status === 200 ? {} : { error: status === 409 ? "stale dispatch" : "run not found" },
      );
    }
    const metadataMatch = /^\/v1\/runs\/([^/]+)\/metadata$/.exec(path);
    if (method === "POST" && metadataMatch !== null) {
      if (!authorized(context, request)) {
        return send(response, 401, { error: "Unauthorized" });
      }
      const run = context.engine.run(decodeURIComponent(metadataMatch[1] ?? ""));
      const body = parseBody(await readBody(request)) as { target?: unknown; metadata?: unknown };
      if (run === undefined) {
        return send(response, 404, { error: `run ${metadataMatch[1]} not found` });
      }
      if (!Array.isArray(body.metadata)) {
        return send(response, 400, { error: "metadata must be an array" });
      }
      run.metadata.push({ target: body.target ?? null, metadata: body.metadata });
      return send(response, 200, {});
    }
    const runMatch = /^\/v1\/runs\/([^/]+)(\/cancel)?$/.exec(path);
    if (runMatch !== null) {
      const runId = decodeURIComponent(runMatch[1] ?? "");
      const run = context.engine.run(runId);
      if (method === "DELETE" || (method === "POST" && runMatch[2] !== undefined)) {
        if (run === undefined) {
          return send(response, 404, { error: `run ${runId} not found` });
        }
        context.engine.cancel(runId);
        return send(response, 200, { data: toRestRun(run) });
      }
      if (method === "GET") {
        return run === undefined
          ? send(response, 404, { error: `run ${runId} not found` })
          : send(response, 200, { data: toRestRun(run) });
      }
    }
    const eventRunsMatch = /^\/v1\/events\/([^/]+)(\/runs)?$/.exec(path);
    if (method === "GET" && eventRunsMatch !== null) {
      const eventId = decodeURIComponent(eventRunsMatch[1] ?? "");
      if (eventRunsMatch[2] !== undefined) {
        return send(response, 200, { data: context.engine.runsForEvent(eventId).map(toRestRun) });
      }
      const event = context.engine.event(eventId);
      return event === undefined
        ? send(response, 404, { error: `event ${eventId} not found` })
        : send(response, 200, { data: event });
    }
    if (method === "POST" && path === "/v1/realtime/token") {
      return reply(response, context.hub.handleToken(request.headers.authorization, await readBody(request)));
    }
    if (method === "POST" && path === "/v1/realtime/publish") {
      const body = await readBody(request);
      return reply(
        response,
        context.hub.handlePublish(url, request.headers.authorization, body, request.headers["content-type"]),
      );
    }
    return send(response, 404, { error: `no route for ${method} ${path}` });
  } catch (error) {
    const status = (error as { status?: number }).status ?? 400;
    return send(response, status, { error: error instanceof Error ? error.message : String(error) });
  }
}

async function receiveEvents(context: RouteContext, request: IncomingMessage, response: ServerResponse): Promise<void> {
  let ids: string[] = [];
  try {
    const body = parseBody(await readBody(request));
    const events = Array.isArray(body) ? body : [body];
    const seed = request.headers["x-inngest-event-id-seed"];
    ids = context.engine.receive(events, typeof seed === "string" && seed !== "" ? seed : undefined);
    return send(response, 200, { ids, status: 200 });
  } catch (error) {
    return send(response, 400, { ids, status: 400, error: error instanceof Error ? error.message : String(error) });
  }
}

function authorized(context: RouteContext, request: IncomingMessage): boolean {
  return context.signingKeys.length === 0 || isAuthorizedBearer(request.headers.authorization, context.signingKeys);
}

async function readBody(request: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request) {
    size += (chunk as Buffer).length;
    if (size > maximumBodyBytes) {
      throw Object.assign(new Error(`request body is larger than ${maximumBodyBytes} bytes`), { status: 413 });
    }
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString("utf8");
}

function parseBody(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw new Error("request body must be JSON");
  }
}

function send(response: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  response.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(text) });
  response.end(text);
}

function reply(
  response: ServerResponse,
  hubResponse: { status: number; headers?: Record<string, string>; body?: string },
): void {
  response.writeHead(hubResponse.status, hubResponse.headers ?? {});
  response.end(hubResponse.body ?? "");
}
