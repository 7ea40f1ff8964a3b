import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";

/** What the worker process needs to build the same agent as the caller. */
export interface WorkerOptions {
  engineUrl: string;
  /** The Inngest app id and the agent id. */
  id: string;
  /** The workload's name in `workloads`. */
  workload: string;
  delayMs: number;
}

/** A running worker process. */
export interface WorkerProcess {
  /** Its serve URL. */
  url: string;
  /** Stops it and waits for it to exit. */
  stop(): Promise<void>;
}

const workerScript = fileURLToPath(new URL("./worker.ts", import.meta.url));

/** Starts `worker.ts` in its own Node process and resolves once it serves. */
export function startWorker(options: WorkerOptions): Promise<WorkerProcess> {
  const child = spawn(
    process.execPath,
    ["--conditions=@mastra/inngest-source", workerScript, JSON.stringify(options)],
    {
      stdio: ["ignore", "pipe", "inherit"],
    },
  );
  return new Promise((resolve, reject) => {
    child.once("exit", (code) => reject(new Error(`the bench worker exited with ${code} before it served`)));
    let output = "";
    child.stdout.on("data", (data: Buffer) => {
      output += data.toString();
      const match = /^serving (\S+)$/m.exec(output);
      if (match?.[1] === undefined) return;
      child.removeAllListeners("exit");
      resolve({
        url: match[1],
        stop: () =>
          new Promise<void>((stopped) => {
            child.once("exit", () => stopped());
            child.kill("SIGTERM");
          }),
      });
    });
  });
}
