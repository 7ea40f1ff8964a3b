// A small HTTP load balancer in front of the workers: the engine calls it, and it hands each call to
// the next worker in turn, skipping workers that are gone.
import { createServer, type IncomingMessage, request, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

/** A worker the proxy forwards to. */
export interface ProxyTarget {
  name: string;
  port: number;
}

/** What the proxy did for one worker. */
export interface TargetStatistics {
  /** Function calls (POST) the worker answered. */
  served: number;
  /** Function calls the worker received and never answered (it died meanwhile). */
  interrupted: number;
  /** Function calls it is handling now. */
  inFlight: number;
  /** Function calls it answered after another worker was removed. */
  servedAfterRemoval: number;
  /** Whether the proxy still sends it calls. */
  live: boolean;
}

/** A running round-robin proxy. */
export interface RoundRobinProxy {
  /** `http://127.0.0.1:<port>`. */
  readonly url: string;
  /** Per worker, by name. */
  readonly statistics: ReadonlyMap<string, TargetStatistics>;
  /** Stops sending calls to a worker, for example once it exited. */
  remove(name: string): void;
  /** Stops listening and drops open connections. */
  close(): Promise<void>;
}

/**
 * Starts the proxy on a free port of 127.0.0.1. A worker that refuses the connection is removed and
 * the call goes to the next one; a worker that dies while handling a call makes the proxy answer
 * 502, and the engine retries the call, as a load balancer in front of real workers behaves.
 */
export async function startRoundRobinProxy(targets: readonly ProxyTarget[]): Promise<RoundRobinProxy> {
  const statistics = new Map<string, TargetStatistics>(
    targets.map((target) => [
      target.name,
      { served: 0, interrupted: 0, inFlight: 0, servedAfterRemoval: 0, live: true },
    ]),
  );
  let next = 0;
  let removals = 0;

  const pick = (): ProxyTarget | undefined => {
    for (let tried = 0; tried < targets.length; tried++) {
      const target = targets[next % targets.length];
      next = (next + 1) % targets.length;
      if (target !== undefined && statistics.get(target.name)?.live === true) {
        return target;
      }
    }
    return undefined;
  };

  const forward = (incoming: IncomingMessage, outgoing: ServerResponse, body: Buffer): void => {
    const target = pick();
    if (target === undefined) {
      outgoing.writeHead(503).end("no live worker");
      return;
    }
    const stats = statistics.get(target.name) as TargetStatistics;
    const isCall = incoming.method === "POST";
    const removalsBefore = removals;
    if (isCall) {
      stats.inFlight++;
    }
    let settled = false;
    const settle = (answered: boolean): void => {
      if (settled || !isCall) {
        return;
      }
      settled = true;
      stats.inFlight--;
      if (answered) {
        stats.served++;
        if (removalsBefore > 0) {
          stats.servedAfterRemoval++;
        }
      } else {
        stats.interrupted++;
      }
    };
    const forwarded = request(
      { host: "127.0.0.1", port: target.port, method: incoming.method, path: incoming.url, headers: incoming.headers },
      (response) => {
        outgoing.writeHead(response.statusCode ?? 502, response.headers);
        response.pipe(outgoing);
        response.once("end", () => settle(true));
        response.once("error", () => {
          settle(false);
          outgoing.destroy();
        });
      },
    );
    forwarded.once("error", (error: NodeJS.ErrnoException) => {
      if (error.code === "ECONNREFUSED") {
        // Nothing reached the worker: it is gone, so the call goes to another one.
        if (isCall) {
          stats.inFlight--;
          settled = true;
        }
        remove(target.name);
        forward(incoming, outgoing, body);
        return;
      }
      settle(false);
      if (outgoing.headersSent) {
        outgoing.destroy();
      } else {
        outgoing.writeHead(502).end(`${target.name} failed: ${error.message}`);
      }
    });
    forwarded.end(body);
  };

  const remove = (name: string): void => {
    const stats = statistics.get(name);
    if (stats?.live === true) {
      stats.live = false;
      removals++;
    }
  };

  const server = createServer((incoming, outgoing) => {
    // The body is kept, so a call refused by a dead worker can go to another one.
    const chunks: Buffer[] = [];
    incoming.on("data", (chunk: Buffer) => chunks.push(chunk));
    incoming.once("end", () => forward(incoming, outgoing, Buffer.concat(chunks)));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    statistics,
    remove,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
