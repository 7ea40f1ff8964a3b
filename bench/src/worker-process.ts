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
  /** The CPU time it has used so far (user + system), in microseconds, as it measures itself. */
  cpuMicros(): Promise<number>;
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
      stdio: ["pipe", "pipe", "inherit"],
    },
  );
  // The worker answers each "cpu" line on its stdin with a "cpu <microseconds>" line on its stdout.
  const waiting: Array<(micros: number) => void> = [];
  let output = "";
  return new Promise((resolve, reject) => {
    child.once("exit", (code) => reject(new Error(`the bench worker exited with ${code} before it served`)));
    child.stdout.on("data", (data: Buffer) => {
      output += data.toString();
      for (let newline = output.indexOf("\n"); newline >= 0; newline = output.indexOf("\n")) {
        const line = output.slice(0, newline);
        output = output.slice(newline + 1);
        const served = /^serving (\S+)$/.exec(line);
        const cpu = /^cpu (\d+)$/.exec(line);
        if (cpu?.[1] !== undefined) waiting.shift()?.(Number(cpu[1]));
        if (served?.[1] === undefined) continue;
        child.removeAllListeners("exit");
        resolve({
          url: served[1],
          cpuMicros: () =>
            new Promise<number>((answered) => {
              waiting.push(answered);
              child.stdin.write("cpu\n");
            }),
          stop: () =>
            new Promise<void>((stopped) => {
              child.once("exit", () => stopped());
              child.kill("SIGTERM");
            }),
        });
      }
    });
  });
}
