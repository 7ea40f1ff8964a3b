import { describe, expect, it } from "vitest";
import { ErrorCode } from "./error-codes.ts";
import { MastraInngestError } from "./mastra-inngest-error.ts";
import { normalizeRedisUrl, redisServerIdentity } from "./redis-connection.ts";

describe("normalizeRedisUrl", () => {
  it.each([
    ["redis://localhost:6379", "redis://localhost:6379"],
    ["REDISS://u:p@host:6380/2", "rediss://u:p@host:6380/2"],
    ["Rediss://host", "rediss://host"],
    ["rEdIs://host", "redis://host"],
  ])("normalizes %s", (input, expected) => {
    expect(normalizeRedisUrl(input)).toBe(expected);
  });

  it.each(["http://host", "host:6379", "", 5, undefined])(
    "rejects %j with INVALID_OPTION naming the field",
    (input) => {
      let thrown: unknown;
      try {
        normalizeRedisUrl(input, "url", "@mastra/inngest-pubsub-redis");
      } catch (error) {
        thrown = error;
      }
      expect(MastraInngestError.isInstance(thrown, ErrorCode.INVALID_OPTION)).toBe(true);
      expect((thrown as Error).message).toMatch(
        /^\[@mastra\/inngest-pubsub-redis\] url must be a redis:\/\/ or rediss:\/\/ URL/,
      );
      // Never echo a URL back: it may carry a password.
      expect((thrown as Error).message).not.toContain("host");
    },
  );
});

describe("redisServerIdentity", () => {
  it("is equal for the same server and database, and differs otherwise", () => {
    expect(redisServerIdentity({ options: { host: "localhost", port: 6379 } })).toBe("127.0.0.1:6379/0");
    expect(redisServerIdentity({ options: { host: "127.0.0.1", port: 6379, db: 0 } })).toBe("127.0.0.1:6379/0");
    expect(redisServerIdentity({ options: { host: "127.0.0.1", port: 6379, db: 1 } })).toBe("127.0.0.1:6379/1");
    expect(redisServerIdentity({ options: { path: "/tmp/redis.sock" } })).toBe("/tmp/redis.sock/0");
  });

  it("is the sorted startup nodes of a Cluster, whatever form they were given in", () => {
    const cluster = (startupNodes: unknown[]) => redisServerIdentity({ options: {}, isCluster: true, startupNodes });
    expect(
      cluster([
        { host: "10.0.0.2", port: 7001 },
        { host: "localhost", port: 7000 },
      ]),
    ).toBe("cluster:10.0.0.2:7001,127.0.0.1:7000");
    expect(cluster(["redis://user:pw@10.0.0.2:7001", 7000])).toBe("cluster:10.0.0.2:7001,127.0.0.1:7000");
    expect(cluster([{ host: "127.0.0.1", port: 7000 }])).not.toBe(redisServerIdentity({ options: { port: 7000 } }));
  });
});
