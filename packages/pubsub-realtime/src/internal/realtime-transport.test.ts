import { afterEach, describe, expect, it } from "vitest";
import { WebSocket as WsWebSocket } from "ws";
import { toEvent } from "./delivery.ts";
import { v3ApiBaseUrl } from "./realtime-transport.ts";
import { ensureGlobalWebSocket } from "./web-socket.ts";

describe("v3ApiBaseUrl", () => {
  it.each<[string, string | undefined, NodeJS.ProcessEnv, string]>([
    ["the client's apiBaseUrl first", "http://client:1", { INNGEST_BASE_URL: "http://env:2" }, "http://client:1"],
    ["INNGEST_BASE_URL", undefined, { INNGEST_BASE_URL: "http://env:2" }, "http://env:2"],
    ["INNGEST_API_BASE_URL", undefined, { INNGEST_API_BASE_URL: "http://env:3" }, "http://env:3"],
    ["INNGEST_DEV as a URL", undefined, { INNGEST_DEV: "http://dev:4" }, "http://dev:4"],
    ["INNGEST_DEV=1", undefined, { INNGEST_DEV: "1" }, "http://localhost:8288/"],
    ["INNGEST_DEV=0", undefined, { INNGEST_DEV: "0" }, "https://api.inngest.com/"],
    ["production", undefined, { NODE_ENV: "production" }, "https://api.inngest.com/"],
    ["otherwise the local dev server", undefined, {}, "http://localhost:8288/"],
  ])("uses %s", (_name, apiBaseUrl, env, expected) => {
    expect(v3ApiBaseUrl({ realtime: {}, apiBaseUrl }, env)).toBe(expected);
  });
});

describe("ensureGlobalWebSocket", () => {
  const original = Object.getOwnPropertyDescriptor(globalThis, "WebSocket");
  afterEach(() => {
    if (original !== undefined) {
      Object.defineProperty(globalThis, "WebSocket", original);
    }
  });

  it("installs the ws package's WebSocket when the runtime has none", async () => {
    Reflect.deleteProperty(globalThis, "WebSocket");
    expect(typeof globalThis.WebSocket).toBe("undefined");
    await ensureGlobalWebSocket();
    expect(globalThis.WebSocket).toBe(WsWebSocket);
  });

  it("keeps the runtime's own WebSocket", async () => {
    const own = globalThis.WebSocket;
    expect(own).toBeDefined();
    await ensureGlobalWebSocket();
    expect(globalThis.WebSocket).toBe(own);
  });
});

describe("toEvent", () => {
  it("reads a published event, with createdAt as a Date and other fields kept", () => {
    const event = toEvent({
      type: "chunk",
      id: "e1",
      runId: "r",
      data: { a: 1 },
      createdAt: "2026-01-02T03:04:05.000Z",
      index: 4,
    });
    expect(event).toEqual({
      type: "chunk",
      id: "e1",
      runId: "r",
      data: { a: 1 },
      createdAt: new Date("2026-01-02T03:04:05.000Z"),
      index: 4,
    });
  });

  it("fills in a missing id and runId, and refuses what is not an event", () => {
    expect(toEvent({ type: "x" })).toMatchObject({ type: "x", id: expect.any(String), runId: "" });
    for (const data of [null, "text", 3, [], { data: {} }, { type: 1 }]) {
      expect(toEvent(data)).toBeUndefined();
    }
  });

  it("keeps a __proto__ key as data, never as the prototype", () => {
    const event = toEvent(JSON.parse('{"type":"x","__proto__":{"polluted":true}}'));
    expect(Object.getPrototypeOf(event)).toBe(Object.prototype);
    expect(({} as { polluted?: boolean }).polluted).toBeUndefined();
  });
});
