import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { findFreePort } from "./free-port.ts";
import { findExecutable } from "./internal/find-executable.ts";
import { isRedisReady } from "./internal/ping.ts";

/** Options of {@link startRedis}. */
export interface StartRedisOptions {
  /**
   * Persist every write to an append-only file, fsynced on each write, so data survives `kill()`
   * and `restart()`. Off, the server keeps nothing on disk and restarts empty.
   * @default false
   */
  appendOnly?: boolean;
  /**
   * Extra `redis-server` arguments, after the defaults so they override them, for example an ACL
   * user: `["--user", "writer", "on", ">secret", "~app:*", "&app:*", "+@all"]`.
   * @default []
   */
  arguments?: readonly string[];
  /**
   * The `redis-server` executable: a name looked up on PATH or a path.
   * @default process.env.REDIS_SERVER_BIN ?? "redis-server"
   */
  binary?: string;
  /**
   * How long to wait for the server to answer `PING` after each start, in milliseconds.
   * @default 10000
   */
  startTimeoutMs?: number;
}

/** A `redis-server` process owned by a test. */
export interface RedisServer {
  /** `redis://127.0.0.1:<port>`. */
  readonly url: string;
  /** Always `127.0.0.1`. */
  readonly host: string;
  /** The TCP port, the same across restarts. */
  readonly port: number;
  /** The server's working directory (append-only file, logs), removed when the test process exits. */
  readonly directory: string;
  /** Whether the process is running (a paused process counts as running). */
  readonly running: boolean;
  /** What the server printed, its last 16 KB, for failure messages. */
  readonly log: string;
  /** Stops the server with SIGTERM, as an operator would, and waits until it has exited. */
  stop(): Promise<void>;
  /** Kills the server with SIGKILL, as a crash would, and waits until it has exited. */
  kill(): Promise<void>;
  /** Starts the server again on the same port and directory, stopping it first if it runs. */
  restart(): Promise<void>;
  /**
   * Freezes the server with SIGSTOP for `ms` milliseconds, then continues it with SIGCONT. Its
   * sockets stay open and answer nothing meanwhile. Resolves once the server runs again.
   */
  pause(ms: number): Promise<void>;
}

const logLimit = 16 * 1024;
const portAttempts = 5;
const liveProcesses = new Set<ChildProcess>();
const directories = new Set<string>();
let exitHookInstalled = false;

/**
 * Starts a `redis-server` on a free port of 127.0.0.1, in a new temporary directory, and waits
 * until it answers. Every process it starts is killed when the test process exits. A missing
 * `redis-server` is an error that says how to install it: tests that need Redis fail, never skip.
 *
 * @example
 * const redis = await startRedis({ appendOnly: true });
 * const client = new Redis(redis.url);
 * await redis.kill();
 * await redis.restart(); // the data written before the kill is back
 */
export async function startRedis(options: StartRedisOptions = {}): Promise<RedisServer> {
  const binary = resolveBinary(options.binary ?? process.env.REDIS_SERVER_BIN ?? "redis-server");
  const startTimeoutMs = options.startTimeoutMs ?? 10_000;
  const directory = mkdtempSync(join(tmpdir(), "mastra-inngest-redis-"));
  directories.add(directory);
  installExitHook();

  const host = "127.0.0.1";
  let port = 0;
  let child: ChildProcess | undefined;
  let log = "";

  const launch = async (): Promise<void> => {
    const serverArguments = [
      "--port",
      String(port),
      "--bind",
      host,
      "--dir",
      directory,
      "--daemonize",
      "no",
      "--logfile",
      "",
      "--save",
      "",
      ...(options.appendOnly === true ? ["--appendonly", "yes", "--appendfsync", "always"] : ["--appendonly", "no"]),
      ...(options.arguments ?? []),
    ];
    const started = spawn(binary, serverArguments, { stdio: ["ignore", "pipe", "pipe"] });
    child = started;
    liveProcesses.add(started);
    const append = (data: Buffer): void => {
      log = (log + data.toString("utf8")).slice(-logLimit);
    };
    started.stdout?.on("data", append);
    started.stderr?.on("data", append);
    started.once("exit", () => liveProcesses.delete(started));
    await waitUntilReady(started, host, port, startTimeoutMs, () => log);
  };

  for (let attempt = 1; ; attempt++) {
    port = await findFreePort(host);
    try {
      await launch();
      break;
    } catch (error) {
      // Another process may take the port between the probe and the bind; try another one.
      if (attempt >= portAttempts || !log.includes("Address already in use")) {
        throw error;
      }
      log = "";
    }
  }

  const waitForExit = async (signal: NodeJS.Signals): Promise<void> => {
    const current = child;
    if (current === undefined || current.exitCode !== null || current.signalCode !== null) {
      return;
    }
    const exited = new Promise<void>((resolve) => current.once("exit", () => resolve()));
    if (signal !== "SIGKILL") {
      // A paused server ignores SIGTERM until it runs again.
      current.kill("SIGCONT");
    }
    current.kill(signal);
    await exited;
  };

  return {
    url: `redis://${host}:${port}`,
    host,
    port,
    directory,
    get running() {
      return child !== undefined && child.exitCode === null && child.signalCode === null;
    },
    get log() {
      return log;
    },
    stop: () => waitForExit("SIGTERM"),
    kill: () => waitForExit("SIGKILL"),
    async restart() {
      await waitForExit("SIGTERM");
      await launch();
    },
    async pause(ms) {
      const current = child;
      if (current === undefined || current.exitCode !== null || current.signalCode !== null) {
        throw new Error(`[@mastra/inngest-testing] cannot pause the redis-server on port ${port}: it is not running`);
      }
      current.kill("SIGSTOP");
      await new Promise((resolve) => setTimeout(resolve, ms));
      current.kill("SIGCONT");
    },
  };
}

function resolveBinary(binary: string): string {
  const found = findExecutable(binary);
  if (found === undefined) {
    throw new Error(
      `[@mastra/inngest-testing] redis-server was not found (looked for ${JSON.stringify(binary)}${binary.includes("/") ? "" : " on PATH"}). ` +
        "The integration tests start their own Redis servers and need the binary: install it with " +
        "`apt-get install -y redis-server` (Debian, Ubuntu) or `brew install redis` (macOS), run " +
        "`source scripts/toolchain.sh` in the @mastra/inngest repository, or set REDIS_SERVER_BIN to its path.",
    );
  }
  return found;
}

async function waitUntilReady(
  child: ChildProcess,
  host: string,
  port: number,
  timeoutMs: number,
  log: () => string,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(
        `[@mastra/inngest-testing] redis-server exited during start (code ${child.exitCode}, signal ${child.signalCode}) on port ${port}:\n${log()}`,
      );
    }
    if (await isRedisReady(host, port, 500)) {
      return;
    }
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  child.kill("SIGKILL");
  throw new Error(
    `[@mastra/inngest-testing] redis-server did not answer PING on port ${port} within ${timeoutMs} ms:\n${log()}`,
  );
}

function installExitHook(): void {
  if (exitHookInstalled) {
    return;
  }
  exitHookInstalled = true;
  // A test that fails before its cleanup must not leave servers or directories behind.
  process.once("exit", () => {
    for (const child of liveProcesses) {
      child.kill("SIGKILL");
    }
    for (const directory of directories) {
      rmSync(directory, { recursive: true, force: true });
    }
  });
}
