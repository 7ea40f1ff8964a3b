import { type ChildProcess, spawn } from "node:child_process";
import { type RequestListener, request } from "node:http";
import { setTimeout as sleep } from "node:timers/promises";
import { fileURLToPath } from "node:url";
import { findFreePort, startHttpServer } from "@mastra/inngest-testing/helpers";

const workerScript = fileURLToPath(new URL("./fixtures/chaos-worker.ts", import.meta.url));

/** What a worker process needs to serve the loop. */
export interface WorkerSettings {
  engineUrl: string;
  redisUrl: string;
  executionsLog: string;
  retentionDivisor: number;
}

/** A worker killed by the suite: which process, and when it was seen to exit. */
export interface WorkerKill {
  pid: number;
  exitedAt: number;
}

/** Worker processes behind one address, killed and restarted by the suite. */
export interface WorkerPool {
  /** The serve URL to sync: a proxy that hands each call to a listening worker. */
  readonly url: string;
  /** Workers currently running. */
  readonly running: number;
  /**
   * SIGKILLs worker `index` when another one runs, and restarts it after `downMs`. Resolves with
   * the kill once the process has exited by that signal, or `undefined` when nothing was killed.
   */
  kill(index: number, downMs: number): Promise<WorkerKill | undefined>;
  close(): Promise<void>;
}

interface Slot {
  port: number;
  process: ChildProcess | undefined;
}

/**
 * Starts `count` worker processes and a proxy in front of them, as a load balancer: calls go round
 * robin to workers that accept connections, so a dead worker's share moves to the others, while a
 * call in flight when its worker dies fails, as it would in production, and the engine retries it.
 */
export async function startWorkerPool(count: number, settings: WorkerSettings): Promise<WorkerPool> {
  const slots: Slot[] = [];
  for (let index = 0; index < count; index++) {
    const port = await findFreePort();
    slots.push({ port, process: await startWorker(port, settings) });
  }
  const restarts = new Set<Promise<void>>();
  let closed = false;
  const proxy = await startHttpServer(createFailoverProxy(slots.map((slot) => slot.port)));

  const restart = async (slot: Slot, downMs: number): Promise<void> => {
    await sleep(downMs);
    // A port can stay busy for a moment after a kill; try again until the worker listens.
    for (let attempt = 0; !closed; attempt++) {
      try {
        slot.process = await startWorker(slot.port, settings);
        if (closed) {
          slot.process.kill("SIGKILL");
        }
        return;
      } catch (error) {
        if (attempt >= 10) {
          throw error;
        }
        await sleep(200);
      }
    }
  };

  return {
    url: proxy.url,
    get running() {
      return slots.filter((slot) => slot.process !== undefined).length;
    },
    async kill(index, downMs) {
      const slot = slots[index % slots.length] as Slot;
      const child = slot.process;
      const others = slots.filter((other) => other !== slot && other.process !== undefined).length;
      if (child === undefined || child.pid === undefined || others === 0 || closed) {
        return undefined;
      }
      slot.process = undefined;
      const exited = new Promise<NodeJS.Signals | null>((resolve) =>
        child.once("exit", (_code, signal) => resolve(signal)),
      );
      child.kill("SIGKILL");
      const signal = await exited;
      const pending = restart(slot, downMs).finally(() => restarts.delete(pending));
      restarts.add(pending);
      return signal === "SIGKILL" ? { pid: child.pid, exitedAt: Date.now() } : undefined;
    },
    async close() {
      closed = true;
      await Promise.allSettled([...restarts]);
      for (const slot of slots) {
        slot.process?.kill("SIGKILL");
        slot.process = undefined;
      }
      await proxy.close();
    },
  };
}

function startWorker(port: number, settings: WorkerSettings): Promise<ChildProcess> {
  const child = spawn(
    process.execPath,
    [
      "--conditions=@mastra/inngest-source",
      workerScript,
      settings.engineUrl,
      String(port),
      settings.redisUrl,
      settings.executionsLog,
      String(settings.retentionDivisor),
    ],
    { stdio: ["ignore", "pipe", "inherit"] },
  );
  return new Promise((resolve, reject) => {
    child.once("exit", (code, signal) => reject(new Error(`a worker exited (${code ?? signal}) before it was ready`)));
    child.stdout?.on("data", (data: Buffer) => {
      if (data.toString().includes("ready")) {
        child.removeAllListeners("exit");
        resolve(child);
      }
    });
  });
}

/** Forwards each call to the next worker that accepts the connection; 502 when none does. */
function createFailoverProxy(ports: readonly number[]): RequestListener {
  let next = 0;
  return (incoming, outgoing) => {
    const chunks: Buffer[] = [];
    incoming.on("data", (chunk: Buffer) => chunks.push(chunk));
    incoming.on("end", () => {
      const body = Buffer.concat(chunks);
      const first = next;
      next = (next + 1) % ports.length;
      const attempt = (tried: number): void => {
        if (tried === ports.length) {
          outgoing.writeHead(502).end();
          return;
        }
        const port = ports[(first + tried) % ports.length];
        const target = `http://127.0.0.1:${port}${incoming.url ?? "/"}`;
        const forwarded = request(target, { method: incoming.method, headers: incoming.headers }, (response) => {
          outgoing.writeHead(response.statusCode ?? 502, response.headers);
          // A worker killed while it answers cuts the answer: the engine sees a failed call.
          response.on("error", () => outgoing.destroy());
          response.pipe(outgoing);
        });
        forwarded.on("error", (error: NodeJS.ErrnoException) => {
          if (error.code === "ECONNREFUSED") {
            attempt(tried + 1);
          } else if (outgoing.headersSent) {
            outgoing.destroy();
          } else {
            outgoing.writeHead(502).end();
          }
        });
        forwarded.end(body);
      };
      attempt(0);
    });
  };
}
