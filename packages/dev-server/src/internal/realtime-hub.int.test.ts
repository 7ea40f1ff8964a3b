import { once } from "node:events";
import { request as httpRequest } from "node:http";
import { channel as channelV3, subscribe as subscribeV3, topic as topicV3 } from "@inngest/realtime";
import { readBody, startHttpServer, until } from "@mastra/inngest-testing/helpers";
import { Inngest } from "inngest";
import { channel, staticSchema, subscribe } from "inngest/realtime";
import { Inngest as InngestV3 } from "inngest-v3";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { WebSocket } from "ws";
import { z } from "zod";
import { type HubResponse, RealtimeHub, type RealtimeHubOptions } from "./realtime-hub.ts";

interface HubServer {
  hub: RealtimeHub;
  /** `http://127.0.0.1:<port>`, the `baseUrl` given to the SDK clients. */
  url: string;
  close: () => Promise<void>;
}

interface RawFrame {
  text: string;
  isBinary: boolean;
  json: Record<string, unknown>;
}

interface RawSubscriber {
  socket: WebSocket;
  frames: RawFrame[];
  closed: Promise<{ code: number; reason: string }>;
}

const servers: HubServer[] = [];
const sockets: WebSocket[] = [];

afterEach(async () => {
  for (const socket of sockets.splice(0)) {
    socket.terminate();
  }
  await Promise.all(servers.splice(0).map((server) => server.close()));
  vi.restoreAllMocks();
});

/** A real HTTP server on a free port that routes the three Realtime endpoints to a hub, as the engine does. */
async function startHub(options?: RealtimeHubOptions): Promise<HubServer> {
  const hub = new RealtimeHub(options);
  const { server, origin, close } = await startHttpServer(async (request, response) => {
    const url = new URL(request.url ?? "/", "http://localhost");
    const body = (await readBody(request)).toString("utf8");
    const { authorization } = request.headers;
    let answer: HubResponse = { status: 404 };
    if (request.method === "POST" && url.pathname === "/v1/realtime/token") {
      answer = hub.handleToken(authorization, body);
    } else if (request.method === "POST" && url.pathname === "/v1/realtime/publish") {
      answer = hub.handlePublish(url, authorization, body, request.headers["content-type"]);
    }
    response.writeHead(answer.status, answer.headers);
    response.end(answer.body);
  });
  server.on("upgrade", (request, socket, head) => {
    if (new URL(request.url ?? "/", "http://localhost").pathname === "/v1/realtime/connect") {
      hub.handleUpgrade(request, socket, head);
    } else {
      socket.destroy();
    }
  });
  const started: HubServer = {
    hub,
    url: origin,
    close: async () => {
      await hub.close();
      await close();
    },
  };
  servers.push(started);
  return started;
}

async function requestToken(
  server: HubServer,
  topics: Array<{ channel: string; name: string }>,
  authorization?: string,
): Promise<Response> {
  return fetch(`${server.url}/v1/realtime/token`, {
    method: "POST",
    headers: { "content-type": "application/json", ...(authorization ? { authorization } : {}) },
    body: JSON.stringify(topics.map((topic) => ({ ...topic, kind: "run" }))),
  });
}

async function publishOverHttp(
  server: HubServer,
  query: string,
  body: string,
  headers: Record<string, string> = { "content-type": "application/json" },
): Promise<Response> {
  return fetch(`${server.url}/v1/realtime/publish?${query}`, { method: "POST", headers, body });
}

/** A plain `ws` client, to see frames exactly as the hub writes them. */
async function rawSubscribe(
  server: HubServer,
  topics: Array<{ channel: string; name: string }>,
  options: { autoPong?: boolean } = {},
): Promise<RawSubscriber> {
  const { jwt } = (await (await requestToken(server, topics)).json()) as { jwt: string };
  return connectRaw(server, jwt, options);
}

async function connectRaw(
  server: HubServer,
  token: string,
  options: { autoPong?: boolean } = {},
): Promise<RawSubscriber> {
  const url = `${server.url.replace("http:", "ws:")}/v1/realtime/connect?token=${encodeURIComponent(token)}`;
  const socket = new WebSocket(url, options);
  sockets.push(socket);
  const frames: RawFrame[] = [];
  socket.on("message", (data, isBinary) => {
    const text = data.toString();
    frames.push({ text, isBinary, json: JSON.parse(text) as Record<string, unknown> });
  });
  const closed = new Promise<{ code: number; reason: string }>((resolve) => {
    socket.on("close", (code, reason) => resolve({ code, reason: reason.toString() }));
  });
  socket.on("error", () => {});
  await once(socket, "open");
  return { socket, frames, closed };
}

/** The status and body of an upgrade request, for the cases where the hub refuses the WebSocket. */
async function attemptUpgrade(server: HubServer, query: string): Promise<{ status: number; body: string }> {
  const { port } = new URL(server.url);
  return new Promise((resolve, reject) => {
    const request = httpRequest({
      host: "127.0.0.1",
      port,
      path: `/v1/realtime/connect${query}`,
      headers: {
        connection: "Upgrade",
        upgrade: "websocket",
        "sec-websocket-key": Buffer.from("0123456789abcdef").toString("base64"),
        "sec-websocket-version": "13",
      },
    });
    request.on("upgrade", (_response, socket) => {
      socket.destroy();
      reject(new Error("the upgrade was accepted"));
    });
    request.on("response", async (response) => {
      resolve({ status: response.statusCode ?? 0, body: (await readBody(response)).toString("utf8") });
    });
    request.on("error", reject);
    request.end();
  });
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

const range = (count: number): number[] => Array.from({ length: count }, (_, index) => index);

describe("RealtimeHub with the inngest v4 client", () => {
  it("delivers 50 messages in publish order, and nothing of another channel or topic", async () => {
    const server = await startHub();
    const inngest = new Inngest({ id: "rt", isDev: true, baseUrl: server.url });
    const runChannel = channel({
      name: (id: string) => `run:${id}`,
      topics: {
        status: { schema: staticSchema<{ index: number }>() },
        other: { schema: staticSchema<{ index: number }>() },
      },
    });
    const received: Array<{ channel?: string; topic?: string; data?: unknown; kind?: string; createdAt?: unknown }> =
      [];
    const subscription = await inngest.realtime.subscribe({
      channel: runChannel("r1"),
      topics: ["status"],
      onMessage: (message) => {
        received.push(message);
      },
    });

    for (const index of range(50)) {
      await inngest.realtime.publish(runChannel("r1").status, { index });
      if (index % 10 === 0) {
        await inngest.realtime.publish(runChannel("r2").status, { index: -1 });
        await inngest.realtime.publish(runChannel("r1").other, { index: -2 });
      }
    }
    await until(() => received.length >= 50, { timeoutMs: 5000 });
    subscription.close();

    expect(received.map((message) => message.data)).toEqual(range(50).map((index) => ({ index })));
    for (const message of received) {
      expect(message).toMatchObject({ channel: "run:r1", topic: "status", kind: "data" });
      expect(message.createdAt).toBeInstanceOf(Date);
    }
    // The hub itself sent nothing else: the client's own channel filter was never needed.
    expect(server.hub.stats.channels.get("run:r1")).toEqual(expect.objectContaining({ messagesDelivered: 50 }));
    expect(server.hub.stats.channels.get("run:r2")).toEqual(expect.objectContaining({ messagesDelivered: 0 }));
  });

  it("delivers a string published by the SDK as the server would: raw body, parsed when it is JSON", async () => {
    const server = await startHub();
    const inngest = new Inngest({ id: "rt", isDev: true, baseUrl: server.url });
    const textChannel = channel({ name: "texts", topics: { text: { schema: z.string() } } });
    const received: unknown[] = [];
    // A string channel name carries no schema, so the client does not validate what arrives.
    const subscription = await subscribe({
      app: inngest,
      channel: "texts",
      topics: ["text"],
      onMessage: (message: { data?: unknown }) => {
        received.push(message.data);
      },
    });

    await inngest.realtime.publish(textChannel.text, "plain words");
    await inngest.realtime.publish(textChannel.text, "123");
    await inngest.realtime.publish(textChannel.text, '{"a":1}');
    await until(() => received.length >= 3, { timeoutMs: 5000 });
    subscription.close();

    expect(received).toEqual(["plain words", 123, { a: 1 }]);
  });

  it("rejects subscribe() for a token the hub did not issue", async () => {
    const server = await startHub();
    vi.spyOn(console, "error").mockImplementation(() => {});

    await expect(
      subscribe({ key: "not-a-token", apiBaseUrl: server.url, channel: "a", topics: ["t"], onMessage: () => {} }),
    ).rejects.toBeDefined();
    expect(server.hub.stats.subscriptions).toBe(0);
  });
});

describe("RealtimeHub with the inngest v3 client and @inngest/realtime", () => {
  // inngest 3 and 4 keep their AsyncLocalStorage under the same global symbol in different shapes,
  // so whichever loads second breaks (`als.getStore is not a function`). Give v3 its own slot here.
  const asyncStorageKey = Symbol.for("inngest:als");
  const globals = globalThis as Record<symbol, unknown>;
  let v4AsyncStorage: unknown;
  beforeAll(() => {
    v4AsyncStorage = globals[asyncStorageKey];
    delete globals[asyncStorageKey];
  });
  afterAll(() => {
    globals[asyncStorageKey] = v4AsyncStorage;
  });

  it("delivers in publish order and only the subscribed channel and topic", async () => {
    const server = await startHub();
    const inngest = new InngestV3({ id: "rt-v3", isDev: true, baseUrl: server.url });
    const runChannel = channelV3((id: string) => `run:${id}`)
      .addTopic(topicV3("status").type<{ index: number }>())
      .addTopic(topicV3("other").type<{ index: number }>());
    const received: Array<{ channel?: string; topic?: string; data: unknown }> = [];
    const stream = await subscribeV3({ app: inngest, channel: runChannel("r1"), topics: ["status"] }, (message) => {
      received.push(message);
    });

    for (const index of range(50)) {
      await inngest.realtime.publish(runChannel("r1").status({ index }));
      if (index % 10 === 0) {
        // This client has no channel filter of its own, so these would show up if the hub leaked them.
        await inngest.realtime.publish(runChannel("r2").status({ index: -1 }));
        await inngest.realtime.publish(runChannel("r1").other({ index: -2 }));
      }
    }
    await until(() => received.length >= 50, { timeoutMs: 5000 });
    await sleep(50);
    await stream.cancel();

    expect(received).toHaveLength(50);
    expect(received.map((message) => message.data)).toEqual(range(50).map((index) => ({ index })));
    for (const message of received) {
      expect(message).toMatchObject({ channel: "run:r1", topic: "status" });
    }
  });
});

describe("RealtimeHub frames", () => {
  it("sends one JSON text frame per message: a JSON body as sent, anything else as a string", async () => {
    const server = await startHub();
    const subscriber = await rawSubscribe(server, [{ channel: "bodies", name: "t" }]);
    const largeIntegerBody = '{"a":1,"big":12345678901234567890}';
    const bodies = [largeIntegerBody, "hello world", "123", '"quoted"', "", "{not json"];
    for (const body of bodies) {
      const response = await publishOverHttp(server, "channel=bodies&topic=t", body);
      expect(response.status).toBe(200);
      expect(await response.text()).toBe("");
    }
    await until(() => subscriber.frames.length >= bodies.length, { timeoutMs: 5000 });

    expect(subscriber.frames.every((frame) => !frame.isBinary)).toBe(true);
    expect(subscriber.frames.map((frame) => frame.json.data)).toEqual([
      JSON.parse(largeIntegerBody),
      "hello world",
      123,
      "quoted",
      "",
      "{not json",
    ]);
    // Embedded unchanged, so integers beyond double precision survive.
    expect(subscriber.frames[0]?.text).toContain('"big":12345678901234567890');
    for (const { json } of subscriber.frames) {
      expect(Object.keys(json)).toEqual(["kind", "data", "created_at", "channel", "topic"]);
      expect(json).toMatchObject({ kind: "data", channel: "bodies", topic: "t" });
      expect(new Date(json.created_at as string).toISOString()).toBe(json.created_at);
    }
  });

  it("passes run_id through, counts only the first topic, and rejects a missing channel or topic", async () => {
    const server = await startHub();
    const subscriber = await rawSubscribe(server, [{ channel: "c", name: "t" }]);

    await publishOverHttp(server, "channel=c&topic=u&topic=t", '"first topic is u"');
    await publishOverHttp(server, "channel=c&topic=t&topic=u&run_id=01J00000000000000000000000", '"with run"');
    server.hub.publish({ channel: "c", topic: "t", data: { from: "engine" }, runId: "01J00000000000000000000001" });
    server.hub.publish({ channel: "c", topic: "t", data: undefined });
    await until(() => subscriber.frames.length >= 3, { timeoutMs: 5000 });
    await sleep(20);

    expect(subscriber.frames.map((frame) => frame.json)).toEqual([
      expect.objectContaining({ data: "with run", run_id: "01J00000000000000000000000" }),
      expect.objectContaining({ data: { from: "engine" }, run_id: "01J00000000000000000000001" }),
      expect.not.objectContaining({ run_id: expect.anything() }),
    ]);
    expect(subscriber.frames[2]?.json.data).toBeNull();

    const missingChannel = await publishOverHttp(server, "topic=t", "{}");
    expect(missingChannel.status).toBe(400);
    expect(((await missingChannel.json()) as { error: string }).error).toContain('"channel"');
    const emptyChannel = await publishOverHttp(server, "channel=&topic=t", "{}");
    expect(emptyChannel.status).toBe(400);
    const missingTopic = await publishOverHttp(server, "channel=c", "{}");
    expect(missingTopic.status).toBe(400);
    expect(((await missingTopic.json()) as { error: string }).error).toContain('"topic"');
    expect(() => server.hub.publish({ channel: "", topic: "t", data: 1 })).toThrow(/channel and a topic/);
  });

  it("sends a text/stream publish as datastream-start, 1 KB chunks and datastream-end", async () => {
    const server = await startHub();
    const subscriber = await rawSubscribe(server, [{ channel: "s", name: "t" }]);
    const body = "é".repeat(2500);

    await publishOverHttp(server, "channel=s&topic=t&run_id=r", body, { "content-type": "text/stream" });
    await until(() => subscriber.frames.length >= 5, { timeoutMs: 5000 });

    const [start, ...rest] = subscriber.frames.map((frame) => frame.json);
    const end = rest.pop();
    expect(start).toMatchObject({ kind: "datastream-start", channel: "s", topic: "t", run_id: "r" });
    expect(typeof start?.data).toBe("string");
    expect(end).toMatchObject({ kind: "datastream-end", data: start?.data, channel: "s", topic: "t" });
    expect(rest.map((chunk) => chunk.kind)).toEqual(["chunk", "chunk", "chunk"]);
    expect(rest.every((chunk) => chunk.stream_id === start?.data)).toBe(true);
    expect(rest.map((chunk) => chunk.data).join("")).toBe(body);
    expect(server.hub.stats).toMatchObject({ publishes: 1, bytes: Buffer.byteLength(body), messagesDelivered: 5 });
  });

  it("pings every pingIntervalMs and closes a socket that stops answering", async () => {
    const server = await startHub({ pingIntervalMs: 40 });
    const healthy = await rawSubscribe(server, [{ channel: "p", name: "t" }]);
    let pings = 0;
    healthy.socket.on("ping", () => {
      pings += 1;
    });
    const silent = await rawSubscribe(server, [{ channel: "p", name: "t" }], { autoPong: false });

    await until(() => pings >= 3, { timeoutMs: 5000 });
    const { code } = await silent.closed;

    expect(code).toBe(1006);
    expect(healthy.socket.readyState).toBe(WebSocket.OPEN);
    expect(server.hub.stats.subscriptions).toBe(1);
  });

  it("closes a subscriber that stops reading instead of buffering for it", async () => {
    const server = await startHub();
    const reading = await rawSubscribe(server, [{ channel: "big", name: "t" }]);
    const stalled = await rawSubscribe(server, [{ channel: "big", name: "t" }]);
    stalled.socket.pause();
    const megabyte = "x".repeat(1024 * 1024);

    let published = 0;
    while (server.hub.stats.subscriptions === 2 && published < 100) {
      server.hub.publish({ channel: "big", topic: "t", data: megabyte });
      published += 1;
      await sleep(5);
    }

    expect(server.hub.stats.subscriptions).toBe(1);
    expect(published).toBeLessThan(100);
    await until(() => reading.frames.length === published, { timeoutMs: 10_000 });
    expect(reading.socket.readyState).toBe(WebSocket.OPEN);
  });
});

describe("RealtimeHub tokens", () => {
  it("refuses an upgrade without a token, with an unknown token or with a forged one", async () => {
    const server = await startHub();
    const { jwt } = (await (await requestToken(server, [{ channel: "a", name: "t" }])).json()) as { jwt: string };
    const signature = jwt.slice(jwt.lastIndexOf(".") + 1);
    const forged = `${Buffer.from(JSON.stringify([["b", "t"]])).toString("base64url")}.${signature}`;

    for (const query of ["", "?token=", "?token=garbage", `?token=${encodeURIComponent(forged)}`]) {
      const { status, body } = await attemptUpgrade(server, query);
      expect(status).toBe(401);
      expect(JSON.parse(body)).toEqual({ message: "Unauthorized" });
    }
    await connectRaw(server, jwt);
    expect(server.hub.stats.subscriptions).toBe(1);
  });

  it("lets a token for channel A receive its own topics and never channel B", async () => {
    const server = await startHub();
    const subscriberA = await rawSubscribe(server, [
      { channel: "A", name: "t" },
      { channel: "A", name: "u" },
    ]);
    const subscriberB = await rawSubscribe(server, [{ channel: "B", name: "t" }]);

    await publishOverHttp(server, "channel=B&topic=t", '"b1"');
    await publishOverHttp(server, "channel=A&topic=v", '"a-unsubscribed-topic"');
    await publishOverHttp(server, "channel=a&topic=t", '"lower-case a"');
    await publishOverHttp(server, "channel=A&topic=t", '"a1"');
    await publishOverHttp(server, "channel=A&topic=u", '"a2"');
    await publishOverHttp(server, "channel=B&topic=t", '"b2"');
    await until(() => subscriberA.frames.length >= 2 && subscriberB.frames.length >= 2, { timeoutMs: 5000 });
    await sleep(20);

    expect(subscriberA.frames.map((frame) => [frame.json.channel, frame.json.data])).toEqual([
      ["A", "a1"],
      ["A", "a2"],
    ]);
    expect(subscriberB.frames.map((frame) => [frame.json.channel, frame.json.data])).toEqual([
      ["B", "b1"],
      ["B", "b2"],
    ]);
  });

  it("answers a malformed token request with 400", async () => {
    const server = await startHub();
    for (const body of ["not json", "{}", '[{"name":"t"}]', '[{"channel":"c"}]']) {
      const response = await fetch(`${server.url}/v1/realtime/token`, { method: "POST", body });
      expect(response.status).toBe(400);
    }
  });
});

describe("RealtimeHub authorization", () => {
  it("answers 401 to token and publish calls that isAuthorized rejects", async () => {
    const server = await startHub({ isAuthorized: (authorization) => authorization === "Bearer secret" });

    for (const authorization of [undefined, "Bearer", "Bearer wrong"]) {
      const token = await requestToken(server, [{ channel: "c", name: "t" }], authorization);
      expect(token.status).toBe(401);
      expect(await token.json()).toEqual({ message: "Unauthorized" });
      const publish = await publishOverHttp(server, "channel=c&topic=t", "{}", {
        "content-type": "application/json",
        ...(authorization ? { authorization } : {}),
      });
      expect(publish.status).toBe(401);
      expect(await publish.json()).toEqual({ message: "Unauthorized" });
    }

    const token = await requestToken(server, [{ channel: "c", name: "t" }], "Bearer secret");
    expect(token.status).toBe(201);
    const publish = await publishOverHttp(server, "channel=c&topic=t", "{}", { authorization: "Bearer secret" });
    expect(publish.status).toBe(200);
    expect(server.hub.stats.publishes).toBe(1);

    // A dev client without a signing key sends a bare "Bearer", so the SDK surfaces the 401.
    const inngest = new Inngest({ id: "rt", isDev: true, baseUrl: server.url });
    await expect(inngest.realtime.token({ channel: "c", topics: ["t"] })).rejects.toThrow(/401/);
    const topicRef = channel({ name: "c", topics: { t: { schema: staticSchema<{ n: number }>() } } }).t;
    await expect(inngest.realtime.publish(topicRef, { n: 1 })).rejects.toThrow(/401/);
  });

  it("validates its options", () => {
    expect(() => new RealtimeHub({ pingIntervalMs: 0 })).toThrow(/pingIntervalMs must be a positive number, got 0/);
    expect(() => new RealtimeHub({ pingIntervalMs: Number.NaN })).toThrow(/pingIntervalMs/);
  });
});

describe("RealtimeHub.close", () => {
  it("closes every subscriber with 1001, ends SDK streams and refuses later upgrades", async () => {
    const server = await startHub();
    const first = await rawSubscribe(server, [{ channel: "c", name: "t" }]);
    const second = await rawSubscribe(server, [{ channel: "d", name: "t" }]);
    const inngest = new Inngest({ id: "rt", isDev: true, baseUrl: server.url });
    const stream = await inngest.realtime.subscribe({ channel: "c", topics: ["t"] });
    const reader = stream.getReader();
    expect(server.hub.stats.subscriptions).toBe(3);

    await server.hub.close();

    expect((await first.closed).code).toBe(1001);
    expect((await second.closed).code).toBe(1001);
    expect((await reader.read()).done).toBe(true);
    expect(server.hub.stats.subscriptions).toBe(0);
    const { jwt } = (await (await requestToken(server, [{ channel: "c", name: "t" }])).json()) as { jwt: string };
    expect((await attemptUpgrade(server, `?token=${jwt}`)).status).toBe(503);
    await server.hub.close();
  });
});

describe("RealtimeHub.stats", () => {
  it("counts publishes, body bytes and delivered frames, in total and per channel", async () => {
    const server = await startHub();
    await rawSubscribe(server, [{ channel: "A", name: "t" }]);
    const last = await rawSubscribe(server, [{ channel: "A", name: "t" }]);
    const bodyA = '{"text":"héllo"}';
    const bodyB = "plain";

    for (const _ of range(3)) {
      await publishOverHttp(server, "channel=A&topic=t", bodyA);
    }
    await publishOverHttp(server, "channel=B&topic=t", bodyB);
    server.hub.publish({ channel: "A", topic: "other", data: [1, 2] });
    await until(() => last.frames.length >= 3, { timeoutMs: 5000 });

    const stats = server.hub.stats;
    expect(stats).toMatchObject({
      publishes: 5,
      bytes: 3 * Buffer.byteLength(bodyA) + bodyB.length + "[1,2]".length,
      messagesDelivered: 6,
      subscriptions: 2,
    });
    expect(Buffer.byteLength(bodyA)).toBe(bodyA.length + 1);
    expect(Object.fromEntries(stats.channels)).toEqual({
      A: { publishes: 4, bytes: 3 * Buffer.byteLength(bodyA) + "[1,2]".length, messagesDelivered: 6 },
      B: { publishes: 1, bytes: bodyB.length, messagesDelivered: 0 },
    });
    // A snapshot: later publishes leave it as it was.
    server.hub.publish({ channel: "A", topic: "t", data: 1 });
    expect(stats.publishes).toBe(5);
    expect(stats.channels.get("A")?.publishes).toBe(4);
  });
});
