import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { findExecutable } from "./find-executable.ts";

const run = promisify(execFile);

/** The `redis-cli` executable: `REDIS_CLI_BIN`, else `redis-cli` on PATH, else one beside `redisServer`. */
export function resolveRedisCli(redisServer: string): string {
  const named = process.env.REDIS_CLI_BIN ?? "redis-cli";
  const found = findExecutable(named) ?? findExecutable(redisServer.replace(/redis-server$/, "redis-cli")) ?? undefined;
  if (found === undefined) {
    throw new Error(
      `[@mastra/inngest-testing] redis-cli was not found (looked for ${JSON.stringify(named)} on PATH and beside ${redisServer}). ` +
        "startRedisCluster creates the cluster with it: install redis-server (it ships redis-cli) or set REDIS_CLI_BIN to its path.",
    );
  }
  return found;
}

/**
 * Runs `redis-cli` against one node and returns what it printed, trimmed. Replies are text:
 * `CLUSTER NODES` and `CLUSTER INFO` are line-based, and a number prints as digits.
 */
export async function redisCli(
  cli: string,
  node: { host: string; port: number },
  commandArguments: readonly string[],
  timeoutMs = 10_000,
): Promise<string> {
  const { stdout } = await run(cli, ["-h", node.host, "-p", String(node.port), ...commandArguments], {
    timeout: timeoutMs,
  });
  return stdout.trim();
}

/** One line of `CLUSTER NODES`: a node, its role and the slots it serves. */
export interface ClusterNodeLine {
  id: string;
  host: string;
  port: number;
  master: boolean;
  /** Marked failing (`fail` or `fail?`) by the node that answered. */
  failing: boolean;
  /** The id of its master, for a replica. */
  masterId: string | undefined;
  /** The slots it serves, as inclusive ranges. */
  slots: Array<[number, number]>;
}

/** Parses `CLUSTER NODES`; slots being migrated (`[slot->-id]`) are left out. */
export function parseClusterNodes(text: string): ClusterNodeLine[] {
  return text
    .split("\n")
    .filter((line) => line.trim() !== "")
    .map((line) => {
      const [id = "", address = "", flags = "", masterId = "-", , , , , ...slotFields] = line.trim().split(" ");
      const [hostAndPort = ""] = address.split("@");
      const separator = hostAndPort.lastIndexOf(":");
      const flagList = flags.split(",");
      return {
        id,
        host: hostAndPort.slice(0, separator),
        port: Number(hostAndPort.slice(separator + 1)),
        master: flagList.includes("master"),
        failing: flagList.includes("fail") || flagList.includes("fail?"),
        masterId: masterId === "-" ? undefined : masterId,
        slots: slotFields
          .filter((field) => !field.startsWith("["))
          .map((field): [number, number] => {
            const [first = "", last = first] = field.split("-");
            return [Number(first), Number(last)];
          }),
      };
    });
}
