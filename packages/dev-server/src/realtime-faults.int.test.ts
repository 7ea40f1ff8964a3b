import { once } from "node:events";
import { silentLogger, until } from "@mastra/inngest-testing/helpers";
import { Inngest } from "inngest";
import { channel as defineChannel, staticSchema } from "inngest/realtime";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { WebSocket } from "ws";
import { type DevServer, startDevServer } from "./start-dev-server.ts";

const numbered = defineChannel({
  name: (name: string) => name,
  topics: { events: { schema: staticSchema<{ n: number }>() } },
});

let engine: DevServer;
let inngest: Inngest.Any;

beforeAll(async () => {
  engine = await startDevServer();
  inngest = new Inngest({ id: "realtime-faults", isDev: true, baseUrl: engine.url, logger: silentLogger });
});

afterAll(async () => {
  await engine?.close();
});

/** A raw WebSocket subscription to one channel and topic, recording the data it receives. */
async function openSubscriber(channel: string, topic: string) {
  const token = await inngest.realtime.token({ channel, topics: [topic] });
  const socket = new WebSocket(`${engine.url.replace("http:", "ws:")}/v1/realtime/connect?token=${token.key}`);
  const received: unknown[] = [];
  socket.on("message", (frame) => received.push(JSON.parse(String(frame)).data));
  const closed = once(socket, "close").then(([code]) => code as number);
  await once(socket, "open");
  return { socket, received, closed };
}

describe("Realtime faults", () => {
  it("closeRealtimeConnections closes every open socket with 1012 and later subscriptions work", async () => {
    const first = await openSubscriber("fault:close", "events");
    const second = await openSubscriber("fault:close", "events");
    expect(engine.counters().realtime.subscriptions).toBe(2);

    expect(engine.faults.closeRealtimeConnections()).toBe(2);
    expect(await first.closed).toBe(1012);
    expect(await second.closed).toBe(1012);
    expect(engine.counters().realtime.subscriptions).toBe(0);

    const third = await openSubscriber("fault:close", "events");
    await inngest.realtime.publish(numbered("fault:close").events, { n: 1 });
    await until(() => third.received.length === 1, { timeoutMs: 5_000 });
    expect(third.received).toEqual([{ n: 1 }]);
    expect(first.received).toEqual([]);
    third.socket.close();
  });

  it("failRealtimePublishes makes the next matching publishes answer 500 and deliver nothing", async () => {
    const subscriber = await openSubscriber("fault:publish", "events");
    const other = await openSubscriber("fault:other", "events");
    const fault = engine.faults.failRealtimePublishes({ channel: "fault:publish", times: 2 });
    const publish = (channel: string, n: number) => inngest.realtime.publish(numbered(channel).events, { n });

    await expect(publish("fault:publish", 1)).rejects.toThrow(/500/);
    await publish("fault:other", 2);
    await expect(publish("fault:publish", 3)).rejects.toThrow(/500/);
    await publish("fault:publish", 4);
    await until(() => subscriber.received.length === 1 && other.received.length === 1, { timeoutMs: 5_000 });

    expect(fault.triggered).toBe(2);
    expect(subscriber.received).toEqual([{ n: 4 }]);
    expect(other.received).toEqual([{ n: 2 }]);
    subscriber.socket.close();
    other.socket.close();
  });

  it("clear() disarms a publish failure", async () => {
    const fault = engine.faults.failRealtimePublishes();
    engine.faults.clear();
    await inngest.realtime.publish(numbered("fault:clear").events, { n: 1 });
    expect(fault.triggered).toBe(0);
  });
});
