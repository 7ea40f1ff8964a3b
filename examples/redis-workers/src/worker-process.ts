// Starting and stopping the worker processes from the main process.
import { type ChildProcess, spawn } from "node:child_process";
import { fileURLToPath } from "node:url";

const workerScript = fileURLToPath(new URL("./worker.ts", import.meta.url));

/** A worker process and what it printed on stderr, for failure messages. */
export interface WorkerProcess {
  readonly name: string;
  readonly port: number;
  readonly child: ChildProcess;
  /** Resolves with how the process ended, once it has. */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** The last 8 KB the worker wrote to stderr. */
  log(): string;
}

/** Starts `worker.ts` in its own Node process and resolves once it listens on `port`. */
export async function startWorkerProcess(options: {
  name: string;
  port: number;
  engineUrl: string;
  redisUrl: string;
  timeoutMs: number;
}): Promise<WorkerProcess> {
  const { name, port, engineUrl, redisUrl, timeoutMs } = options;
  // stdin stays a pipe: the worker exits when it closes, so no worker outlives this process.
  const child = spawn(
    process.execPath,
    ["--conditions=@mastra/inngest-source", workerScript, engineUrl, redisUrl, String(port), name],
    { stdio: ["pipe", "pipe", "pipe"] },
  );
  let stderr = "";
  child.stderr?.on("data", (data: Buffer) => {
    stderr = (stderr + data.toString("utf8")).slice(-8192);
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once("exit", (code, signal) => resolve({ code, signal })),
  );
  const worker: WorkerProcess = { name, port, child, exited, log: () => stderr };
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`${name} did not listen within ${timeoutMs} ms:\n${stderr}`));
    }, timeoutMs);
    void exited.then(({ code, signal }) => {
      clearTimeout(timer);
      reject(new Error(`${name} exited (code ${code}, signal ${signal}) before it listened:\n${stderr}`));
    });
    let stdout = "";
    child.stdout?.on("data", (data: Buffer) => {
      stdout += data.toString("utf8");
      if (stdout.includes("ready")) {
        clearTimeout(timer);
        resolve();
      }
    });
  });
  return worker;
}

/** Asks a worker to stop (SIGTERM), and kills it if it is still there after `graceMs`. */
export async function stopWorkerProcess(worker: WorkerProcess, graceMs = 2_000): Promise<void> {
  const { child } = worker;
  if (child.exitCode !== null || child.signalCode !== null) {
    return;
  }
  child.kill("SIGTERM");
  const timer = setTimeout(() => child.kill("SIGKILL"), graceMs);
  await worker.exited;
  clearTimeout(timer);
}
