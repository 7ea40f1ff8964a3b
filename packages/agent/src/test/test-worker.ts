import { type ChildProcess, spawn } from "node:child_process";
import { fileURLToPath } from "node:url";

/**
 * Starts a worker fixture of `src/fixtures` in its own Node process with `args`, and resolves once
 * it prints "ready". Test support only.
 */
export function startFixtureProcess(fixture: string, args: string[]): Promise<ChildProcess> {
  const script = fileURLToPath(new URL(`../fixtures/${fixture}`, import.meta.url));
  const child = spawn(process.execPath, ["--conditions=@mastra/inngest-source", script, ...args], {
    stdio: ["ignore", "pipe", "inherit"],
  });
  return new Promise((resolve, reject) => {
    child.once("exit", (code) => reject(new Error(`${fixture} exited with ${code} before it was ready`)));
    child.stdout?.on("data", (data: Buffer) => {
      if (data.toString().includes("ready")) {
        child.removeAllListeners("exit");
        resolve(child);
      }
    });
  });
}

/**
 * Starts the agent worker fixture in its own Node process, serving on `port`, and resolves once it
 * listens. Test support only.
 */
export function startWorker(engineUrl: string, port: number, logFile: string): Promise<ChildProcess> {
  return startFixtureProcess("agent-worker.ts", [engineUrl, String(port), logFile]);
}
