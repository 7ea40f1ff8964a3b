import { describeValue } from "./describe-value.ts";
import { ErrorCode } from "./error-codes.ts";
import { MastraInngestError } from "./mastra-inngest-error.ts";

/**
 * Checks a Redis URL and lowercases its scheme. ioredis decides on TLS with a case-sensitive
 * `rediss://` check while its parser accepts any case, so `REDISS://host` would silently connect
 * in plain text; after this, it connects with TLS as written.
 *
 * @example
 * normalizeRedisUrl("REDISS://user:secret@cache.example.com:6380"); // "rediss://user:secret@cache.example.com:6380"
 */
export function normalizeRedisUrl(url: unknown, field = "url", packageName = "@mastra/inngest-core"): string {
  const match = typeof url === "string" ? /^(rediss?):\/\//i.exec(url) : null;
  if (match === null || typeof url !== "string") {
    throw new MastraInngestError(
      `[${packageName}] ${field} must be a redis:// or rediss:// URL, got ${typeof url === "string" ? "a URL with another scheme" : describeValue(url)}`,
      { code: ErrorCode.INVALID_OPTION },
    );
  }
  return `${(match[1] as string).toLowerCase()}://${url.slice(match[0].length)}`;
}

/**
 * The connection settings of an ioredis client that identify the server and database it talks to;
 * for an ioredis `Cluster` (`isCluster`), its startup nodes.
 */
export interface RedisClientLike {
  options: { host?: string; port?: number; path?: string | null; db?: number };
  isCluster?: boolean;
  startupNodes?: ReadonlyArray<unknown>;
}

/**
 * A string that is equal for two clients talking to the same Redis server and database, such as
 * `127.0.0.1:6379/0`: a PubSub and a cache compare it to know they can share one round trip. Two
 * ioredis `Cluster` clients are equal when they were given the same startup nodes, in any order
 * (`cluster:127.0.0.1:7000,127.0.0.1:7001`).
 */
export function redisServerIdentity(client: RedisClientLike): string {
  if (client.isCluster === true) {
    const nodes = (client.startupNodes ?? []).map(nodeAddress).sort();
    return `cluster:${nodes.join(",")}`;
  }
  const { host = "localhost", port = 6379, path, db = 0 } = client.options;
  const address =
    typeof path === "string" && path !== "" ? path : `${host === "localhost" ? "127.0.0.1" : host}:${port}`;
  return `${address}/${db}`;
}

/** A startup node as ioredis takes it (`{ host, port }`, a port, `"host:port"` or a URL) as `host:port`. */
function nodeAddress(node: unknown): string {
  if (typeof node === "number") {
    return `127.0.0.1:${node}`;
  }
  if (typeof node === "string") {
    const address = node
      .replace(/^rediss?:\/\//i, "")
      .replace(/^[^@/]*@/, "")
      .replace(/\/.*$/, "");
    return address.includes(":") ? address.replace(/^localhost:/, "127.0.0.1:") : `${address}:6379`;
  }
  const { host = "127.0.0.1", port = 6379 } = (node ?? {}) as { host?: string; port?: number | string };
  return `${host === "localhost" ? "127.0.0.1" : host}:${port}`;
}
