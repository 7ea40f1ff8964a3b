/** A Redis client as far as {@link redisCommandCalls} uses it (an ioredis `Redis` is one). */
export interface RedisInfoClient {
  /** Sends `INFO <section>` and resolves to the server's text reply. */
  info(section: string): Promise<string>;
}

/**
 * How often the server ran each command, from `INFO commandstats`: counted since the server started
 * or since the last `CONFIG RESETSTAT`, keyed by the names Redis gives (`"set"`, `"config|resetstat"`).
 * For a test that pins how many round trips an adapter makes.
 *
 * @example
 * const before = await redisCommandCalls(admin);
 * await cache.append(key, value);
 * const after = await redisCommandCalls(admin);
 * expect((after.evalsha ?? 0) - (before.evalsha ?? 0)).toBe(1);
 */
export async function redisCommandCalls(client: RedisInfoClient): Promise<Record<string, number>> {
  const info = await client.info("commandstats");
  const calls: Record<string, number> = {};
  for (const match of info.matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)) {
    calls[match[1] as string] = Number(match[2]);
  }
  return calls;
}
