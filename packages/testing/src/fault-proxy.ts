import { connect, createServer, type Server, type Socket } from "node:net";
import { findFreePort } from "./free-port.ts";

/** What the proxy does with the bytes of its connections. */
export type FaultMode = "forward" | "drop-replies" | "delay" | "blackhole";

/** Options of {@link createFaultProxy}. */
export interface FaultProxyOptions {
  /**
   * The server to proxy: a URL such as `redis://127.0.0.1:6379` (the proxy's `url` then keeps its
   * scheme, credentials and path) or `{ host, port }`.
   */
  target: string | { host: string; port: number };
  /**
   * The port to listen on; a free one when absent.
   * @default 0
   */
  port?: number;
}

/** Counters that let a test check that a fault really happened. */
export interface FaultProxyStats {
  /** Connections accepted since the proxy started. */
  connectionsAccepted: number;
  /** Connections open now. */
  connectionsOpen: number;
  /** Connections the proxy closed itself (`closeConnections()`, or `drop-replies` with `closeAfterDrop`). */
  connectionsClosedByProxy: number;
  /** Bytes passed from clients to the target. */
  bytesToTarget: number;
  /** Bytes passed from the target to clients. */
  bytesToClient: number;
  /** Bytes from clients that never reached the target (`blackhole`). */
  bytesDroppedToTarget: number;
  /** Bytes from the target that never reached a client (`drop-replies`, `blackhole`). */
  bytesDroppedToClient: number;
}

/** Options of {@link FaultProxy.dropReplies}. */
export interface DropRepliesOptions {
  /**
   * Close a connection as soon as a reply on it was dropped, as a network failure right after the
   * server executed a command would: the client never learns the outcome and reconnects.
   * @default false
   */
  closeAfterDrop?: boolean;
}

/** A TCP proxy between a client and a server (Redis or any other) that injects faults on demand. */
export interface FaultProxy {
  /** The address clients use instead of the target's, in the same form as the target was given. */
  readonly url: string;
  /** The host the proxy listens on, `127.0.0.1`. */
  readonly host: string;
  /** The port the proxy listens on. */
  readonly port: number;
  /** The current mode. */
  readonly mode: FaultMode;
  /** Counters since the proxy started. */
  readonly stats: Readonly<FaultProxyStats>;
  /** Pass bytes both ways unchanged (the initial mode). */
  forward(): void;
  /** Pass client bytes to the target, and discard every byte the target sends back. */
  dropReplies(options?: DropRepliesOptions): void;
  /** Pass bytes both ways, each direction held back by `ms` milliseconds, in order. */
  delay(ms: number): void;
  /**
   * Discard bytes both ways and keep every connection open, as a half-open TCP connection does:
   * neither side sees an error or a close. Connections opened meanwhile are blackholed too.
   */
  blackhole(): void;
  /** Closes every open connection now, on both sides; the proxy keeps accepting new ones. */
  closeConnections(): Promise<void>;
  /** Closes every connection and stops listening. */
  close(): Promise<void>;
}

interface Pair {
  client: Socket;
  target: Socket;
  toTarget: Promise<void>;
  toClient: Promise<void>;
}

/**
 * Starts a TCP proxy on 127.0.0.1 in `forward` mode. Switching modes takes effect at once, for
 * open connections and new ones, so a test can drop the reply to exactly the command it cares
 * about, then check `stats` to prove the fault happened.
 *
 * @example
 * const proxy = await createFaultProxy({ target: redis.url });
 * const client = new Redis(proxy.url);
 * proxy.dropReplies({ closeAfterDrop: true });
 * const pending = client.incr("counter"); // executed by Redis, reply lost, resent after reconnect
 */
export async function createFaultProxy(options: FaultProxyOptions): Promise<FaultProxy> {
  const target = parseTarget(options.target);
  const host = "127.0.0.1";
  const port = options.port ?? (await findFreePort(host));
  const pairs = new Set<Pair>();
  const stats: FaultProxyStats = {
    connectionsAccepted: 0,
    connectionsOpen: 0,
    connectionsClosedByProxy: 0,
    bytesToTarget: 0,
    bytesToClient: 0,
    bytesDroppedToTarget: 0,
    bytesDroppedToClient: 0,
  };
  let mode: FaultMode = "forward";
  let delayMs = 0;
  let closeAfterDrop = false;

  const closePair = (pair: Pair): void => {
    if (!pairs.delete(pair)) {
      return;
    }
    stats.connectionsOpen--;
    pair.client.destroy();
    pair.target.destroy();
  };

  // Bytes from one side, handled by the mode current when they arrive. A promise chain per
  // direction keeps delayed chunks in order.
  const relay = (pair: Pair, data: Buffer, direction: "toTarget" | "toClient"): void => {
    const destination = direction === "toTarget" ? pair.target : pair.client;
    if (mode === "blackhole") {
      stats[direction === "toTarget" ? "bytesDroppedToTarget" : "bytesDroppedToClient"] += data.length;
      return;
    }
    if (mode === "drop-replies" && direction === "toClient") {
      stats.bytesDroppedToClient += data.length;
      if (closeAfterDrop) {
        stats.connectionsClosedByProxy++;
        closePair(pair);
      }
      return;
    }
    const wait = mode === "delay" ? delayMs : 0;
    const write = (): void => {
      if (pairs.has(pair)) {
        destination.write(data);
        stats[direction === "toTarget" ? "bytesToTarget" : "bytesToClient"] += data.length;
      }
    };
    if (wait === 0 && pair[direction] === settled) {
      write();
      return;
    }
    const previous = pair[direction];
    const next = previous.then(() => new Promise<void>((resolve) => setTimeout(resolve, wait))).then(write);
    pair[direction] = next;
    void next.then(() => {
      if (pair[direction] === next) {
        pair[direction] = settled;
      }
    });
  };

  const server: Server = createServer((client) => {
    stats.connectionsAccepted++;
    stats.connectionsOpen++;
    const upstream = connect({ host: target.host, port: target.port });
    const pair: Pair = { client, target: upstream, toTarget: settled, toClient: settled };
    pairs.add(pair);
    client.setNoDelay(true);
    upstream.setNoDelay(true);
    client.on("data", (data) => relay(pair, data, "toTarget"));
    upstream.on("data", (data) => relay(pair, data, "toClient"));
    client.on("error", () => closePair(pair));
    upstream.on("error", () => closePair(pair));
    client.on("close", () => closePair(pair));
    upstream.on("close", () => {
      // A half-open connection hides the far side's close too.
      if (mode !== "blackhole") {
        closePair(pair);
      }
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen({ host, port }, () => resolve());
  });

  const closeConnections = async (): Promise<void> => {
    for (const pair of [...pairs]) {
      stats.connectionsClosedByProxy++;
      closePair(pair);
    }
  };

  return {
    url: target.format(host, port),
    host,
    port,
    get mode() {
      return mode;
    },
    stats,
    forward() {
      mode = "forward";
    },
    dropReplies(dropOptions = {}) {
      closeAfterDrop = dropOptions.closeAfterDrop === true;
      mode = "drop-replies";
    },
    delay(ms) {
      if (!Number.isFinite(ms) || ms < 0) {
        throw new Error(`[@mastra/inngest-testing] delay must be a non-negative number of milliseconds, got ${ms}`);
      }
      delayMs = ms;
      mode = "delay";
    },
    blackhole() {
      mode = "blackhole";
    },
    closeConnections,
    async close() {
      await closeConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

const settled: Promise<void> = Promise.resolve();

interface Target {
  host: string;
  port: number;
  format(host: string, port: number): string;
}

function parseTarget(target: FaultProxyOptions["target"]): Target {
  if (typeof target !== "string") {
    return { ...target, format: (host, port) => `${host}:${port}` };
  }
  const url = new URL(target);
  const port = Number(url.port);
  if (url.hostname === "" || !Number.isInteger(port) || port <= 0) {
    throw new Error(
      `[@mastra/inngest-testing] target must be a URL with a host and a port, got ${JSON.stringify(target)}`,
    );
  }
  return {
    host: url.hostname,
    port,
    format(host, proxyPort) {
      const proxied = new URL(target);
      proxied.hostname = host;
      proxied.port = String(proxyPort);
      return proxied.toString().replace(/\/$/, "");
    },
  };
}
