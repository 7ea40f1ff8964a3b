import { connect, type Socket } from "node:net";
import { Redis } from "ioredis";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { createFaultProxy, type FaultProxy } from "./fault-proxy.ts";
import { type RedisServer, startRedis } from "./start-redis.ts";
import { until } from "./until.ts";

let redis: RedisServer;
let direct: Redis;
const proxies: FaultProxy[] = [];
const sockets: Socket[] = [];
const clients: Redis[] = [];

beforeAll(async () => {
  redis = await startRedis();
  direct = new Redis(redis.url);
});

afterAll(async () => {
  direct.disconnect();
  await redis.kill();
});

afterEach(async () => {
  for (const socket of sockets.splice(0)) {
    socket.destroy();
  }
  for (const client of clients.splice(0)) {
    client.disconnect();
  }
  await Promise.all(proxies.splice(0).map((proxy) => proxy.close()));
  await direct.flushall();
});

async function proxy(): Promise<FaultProxy> {
  const created = await createFaultProxy({ target: redis.url });
  proxies.push(created);
  return created;
}

function client(url: string): Redis {
  const created = new Redis(url);
  created.on("error", () => {});
  clients.push(created);
  return created;
}

/** A raw connection that records every byte and whether it was closed, to observe faults exactly. */
async function rawConnection(
  target: FaultProxy,
): Promise<{ socket: Socket; received: () => string; closed: () => boolean }> {
  const socket = connect({ host: target.host, port: target.port });
  sockets.push(socket);
  let received = "";
  let closed = false;
  socket.on("data", (data) => {
    received += data.toString("utf8");
  });
  socket.on("close", () => {
    closed = true;
  });
  socket.on("error", () => {});
  await new Promise<void>((resolve) => socket.once("connect", () => resolve()));
  return { socket, received: () => received, closed: () => closed };
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

describe("createFaultProxy", () => {
  it("forwards traffic both ways and keeps the target URL's form", async () => {
    const target = await proxy();
    expect(target.url).toBe(`redis://127.0.0.1:${target.port}`);
    const redisClient = client(target.url);
    await redisClient.set("through", "proxy");
    expect(await direct.get("through")).toBe("proxy");
    expect(target.stats.connectionsAccepted).toBe(1);
    expect(target.stats.bytesToTarget).toBeGreaterThan(0);
    expect(target.stats.bytesToClient).toBeGreaterThan(0);
  });

  it("drop-replies: the command reaches Redis but the client sees no reply", async () => {
    const target = await proxy();
    const connection = await rawConnection(target);
    target.dropReplies();
    connection.socket.write("SET dropped yes\r\n");
    await until(() => target.stats.bytesDroppedToClient > 0, { timeoutMs: 5000, intervalMs: 10 });
    await sleep(200);
    expect(connection.received()).toBe("");
    expect(connection.closed()).toBe(false);
    expect(await direct.get("dropped")).toBe("yes");

    target.forward();
    connection.socket.write("GET dropped\r\n");
    await until(() => connection.received() !== "", { timeoutMs: 5000, intervalMs: 10 });
    expect(connection.received()).toBe("$3\r\nyes\r\n");
  });

  it("drop-replies with closeAfterDrop: a lost reply makes ioredis resend, and the command runs twice", async () => {
    const target = await proxy();
    const redisClient = client(target.url);
    await redisClient.ping();
    target.dropReplies({ closeAfterDrop: true });
    const increment = redisClient.incr("counter");
    await until(() => target.stats.connectionsClosedByProxy === 1, { timeoutMs: 5000, intervalMs: 10 });
    target.forward();
    // The caller asked once; Redis executed twice. This is the duplicate the stream cache must absorb.
    expect(await increment).toBe(2);
    expect(await direct.get("counter")).toBe("2");
    expect(target.stats.connectionsAccepted).toBe(2);
  });

  it("closeConnections() closes every open connection now and keeps accepting new ones", async () => {
    const target = await proxy();
    const first = await rawConnection(target);
    const second = await rawConnection(target);
    await until(() => target.stats.connectionsOpen === 2, { timeoutMs: 5000, intervalMs: 10 });
    await target.closeConnections();
    await until(() => first.closed() && second.closed(), { timeoutMs: 5000, intervalMs: 10 });
    expect(target.stats.connectionsClosedByProxy).toBe(2);
    expect(target.stats.connectionsOpen).toBe(0);
    const third = await rawConnection(target);
    third.socket.write("PING\r\n");
    await until(() => third.received() !== "", { timeoutMs: 5000, intervalMs: 10 });
    expect(third.received()).toBe("+PONG\r\n");
  });

  it("delay(ms) holds each direction back and keeps the order", async () => {
    const target = await proxy();
    const redisClient = client(target.url);
    await redisClient.ping();
    target.delay(150);
    const started = Date.now();
    const replies = await Promise.all(Array.from({ length: 20 }, () => redisClient.incr("ordered")));
    // Requests and replies are each held 150 ms.
    expect(Date.now() - started).toBeGreaterThanOrEqual(290);
    expect(replies).toEqual(Array.from({ length: 20 }, (_, position) => position + 1));
    target.forward();
    expect(await redisClient.incr("ordered")).toBe(21);
  });

  it("blackhole(): nothing passes either way and neither side sees a close", async () => {
    const target = await proxy();
    const connection = await rawConnection(target);
    target.blackhole();
    connection.socket.write("SET swallowed yes\r\n");
    await until(() => target.stats.bytesDroppedToTarget > 0, { timeoutMs: 5000, intervalMs: 10 });
    await sleep(300);
    expect(connection.received()).toBe("");
    expect(connection.closed()).toBe(false);
    expect(await direct.get("swallowed")).toBeNull();

    target.forward();
    connection.socket.write("PING\r\n");
    await until(() => connection.received() !== "", { timeoutMs: 5000, intervalMs: 10 });
    expect(connection.received()).toBe("+PONG\r\n");
  });

  it("accepts a { host, port } target and rejects a URL without a port", async () => {
    const target = await createFaultProxy({ target: { host: redis.host, port: redis.port } });
    proxies.push(target);
    expect(target.url).toBe(`127.0.0.1:${target.port}`);
    expect(await client(`redis://${target.url}`).ping()).toBe("PONG");
    await expect(createFaultProxy({ target: "redis://127.0.0.1" })).rejects.toThrow(/with a host and a port/);
  });
});
