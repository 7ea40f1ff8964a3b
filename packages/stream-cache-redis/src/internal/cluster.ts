import type { Cluster, Redis } from "ioredis";

/** Whether the client is an ioredis `Cluster` rather than one server's connection. */
export function isCluster(client: Redis | Cluster): client is Cluster {
  return (client as { isCluster?: boolean }).isCluster === true;
}

/**
 * Groups keys by the slot Redis Cluster puts them in, as far as their text tells: keys with the
 * same hash tag (the text between the first `{` and the next `}`, when not empty) share a slot;
 * any other key is a group of its own. A MULTI may only touch one slot of a cluster.
 */
export function groupByHashTag(keys: readonly string[]): string[][] {
  const groups = new Map<string, string[]>();
  for (const key of keys) {
    const open = key.indexOf("{");
    const close = open < 0 ? -1 : key.indexOf("}", open + 1);
    const tag = close > open + 1 ? `{${key.slice(open + 1, close)}}` : `key:${key}`;
    const group = groups.get(tag) ?? [];
    group.push(key);
    groups.set(tag, group);
  }
  return [...groups.values()];
}

/**
 * The connections that hold keys: every master of a cluster (SCAN walks one node's keys only), or
 * the one connection of a single server.
 */
export function keyHolders(client: Redis | Cluster): Array<Redis | Cluster> {
  return isCluster(client) ? client.nodes("master") : [client];
}
