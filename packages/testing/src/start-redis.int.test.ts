import { existsSync } from "node:fs";
import { Redis, type RedisOptions } from "ioredis";
import { afterEach, describe, expect, it } from "vitest";
import { isRedisReady } from "./internal/ping.ts";
import { type RedisServer, startRedis } from "./start-redis.ts";

const servers: RedisServer[] = [];
const clients: Redis[] = [];

async function start(options?: Parameters<typeof startRedis>[0]): Promise<RedisServer> {
  const server = await startRedis(options);
  servers.push(server);
  return server;
}

function client(url: string, options: RedisOptions = {}): Redis {
  // No retries: a test that expects a dead server should see the error, not a queue.
  const redis = new Redis(url, { maxRetriesPerRequest: 0, retryStrategy: () => null, lazyConnect: true, ...options });
  redis.on("error", () => {});
  clients.push(redis);
  return redis;
}

afterEach(async () => {
  for (const redis of clients.splice(0)) {
    redis.disconnect();
  }
  await Promise.all(servers.splice(0).map((server) => server.kill()));
});

describe("startRedis", () => {
  it("starts a server on its own free port in a temporary directory", async () => {
    const [first, second] = await Promise.all([start(), start()]);
    expect(first?.port).not.toBe(second?.port);
    expect(first?.port).not.toBe(6379);
    expect(first?.url).toBe(`redis://127.0.0.1:${first?.port}`);
    expect(existsSync(first?.directory ?? "")).toBe(true);
    const redis = client(first?.url ?? "");
    expect(await redis.ping()).toBe("PONG");
    expect(first?.running).toBe(true);
  });

  it("kill() crashes the server, and restart() brings it back empty on the same port without persistence", async () => {
    const server = await start();
    const before = client(server.url);
    await before.set("key", "value");
    await server.kill();
    expect(server.running).toBe(false);
    expect(await isRedisReady(server.host, server.port)).toBe(false);
    await expect(before.get("key")).rejects.toThrow();

    await server.restart();
    expect(server.running).toBe(true);
    const after = client(server.url);
    expect(await after.get("key")).toBeNull();
  });

  it("keeps acknowledged writes across kill() and restart() with appendOnly", async () => {
    const server = await start({ appendOnly: true });
    const redis = client(server.url);
    await redis.set("durable", "yes");
    await redis.incr("counter");
    await server.kill();
    await server.restart();
    const again = client(server.url);
    expect(await again.get("durable")).toBe("yes");
    expect(await again.get("counter")).toBe("1");
  });

  it("stop() ends the server gracefully and restart() starts it again", async () => {
    const server = await start();
    await server.stop();
    expect(server.running).toBe(false);
    expect(server.log).toMatch(/ready to exit|Redis is now ready to exit/i);
    await server.restart();
    expect(await client(server.url).ping()).toBe("PONG");
  });

  it("pause(ms) freezes the server: it answers nothing until the pause ends", async () => {
    const server = await start();
    const redis = client(server.url);
    await redis.connect();
    const started = Date.now();
    const pause = server.pause(600);
    // A command sent during the pause is answered only after it.
    const answeredAt = redis.ping().then(() => Date.now());
    expect(await isRedisReady(server.host, server.port, 200)).toBe(false);
    await pause;
    expect(await answeredAt).toBeGreaterThanOrEqual(started + 550);
    expect(await redis.ping()).toBe("PONG");
  });

  it("passes extra arguments, such as an ACL user limited to a key prefix", async () => {
    const server = await start({
      arguments: ["--user", "writer", "on", ">secret", "~app:*", "&app:*", "+@all"],
    });
    const writer = client(server.url, { username: "writer", password: "secret" });
    await writer.set("app:allowed", "1");
    expect(await writer.get("app:allowed")).toBe("1");
    await expect(writer.set("elsewhere", "1")).rejects.toThrow(/NOPERM/);
  });

  it("fails with installation instructions when redis-server is missing, instead of skipping", async () => {
    await expect(startRedis({ binary: "/nonexistent/redis-server" })).rejects.toThrow(
      /redis-server was not found .*apt-get install -y redis-server/,
    );
    const path = process.env.PATH;
    process.env.PATH = "/nonexistent";
    try {
      await expect(startRedis({ binary: "redis-server" })).rejects.toThrow(/on PATH/);
    } finally {
      process.env.PATH = path;
    }
  });
});
