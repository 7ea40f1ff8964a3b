import { type ChildProcess, spawn } from "node:child_process";
import { createServer } from "node:net";
import { fileURLToPath } from "node:url";

const workerScript = fileURLToPath(new URL("../fixtures/agent-worker.ts", import.meta.url));

/** A free TCP port on 127.0.0.1. Test support only. */
export async function freePort(): Promise<number> {
  return await new Promise((resolve) => {
    const server = createServer();
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/**
 * Starts the agent worker fixture in its own Node process, serving on `port`, and resolves once it
 * listens. Test support only.
 */
export function startWorker(engineUrl: string, port: number, logFile: string): Promise<ChildProcess> {
  const child = spawn(
    process.execPath,
    ["--conditions=@mastra/inngest-source", workerScript, engineUrl, String(port), logFile],
    {
      stdio: ["ignore", "pipe", "inherit"],
    },
  );
  return new Promise((resolve, reject) => {
    child.once("exit", (code) => reject(new Error(`worker exited with ${code} before it was ready`)));
    child.stdout?.on("data", (data: Buffer) => {
      if (data.toString().includes("ready")) {
        child.removeAllListeners("exit");
        resolve(child);
      }
    });
  });
}
