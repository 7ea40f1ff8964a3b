import { type ChildProcess, spawn } from "node:child_process";
import { fileURLToPath } from "node:url";

const workerScript = fileURLToPath(new URL("../fixtures/agent-worker.ts", import.meta.url));

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
