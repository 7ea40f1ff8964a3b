import { type ChildProcess, spawn } from "node:child_process";
import { fileURLToPath } from "node:url";

const serverScript = fileURLToPath(new URL("../server-process.ts", import.meta.url));

/** A chat server in a process of its own. */
export interface AppProcess {
  readonly url: string;
  /** Kills the process with SIGKILL, as a crash or an out-of-memory kill would, and waits for its end. */
  kill(): Promise<void>;
  /** Stops the process with SIGTERM and waits for its end. */
  stop(): Promise<void>;
  /** The last 8 KB it wrote to stderr, for failure messages. */
  log(): string;
}

/** Options of {@link startAppProcess}. */
export interface AppProcessOptions {
  engineUrl: string;
  pageDirectory: string;
  port: number;
  redisUrl?: string;
  /** @default 20000 */
  timeoutMs?: number;
}

/** Starts `server-process.ts` and resolves once it listens (it prints "ready <url>"). */
export async function startAppProcess(options: AppProcessOptions): Promise<AppProcess> {
  const environment: NodeJS.ProcessEnv = {
    ...process.env,
    ENGINE_URL: options.engineUrl,
    PAGE_DIRECTORY: options.pageDirectory,
    PORT: String(options.port),
    ...(options.redisUrl === undefined ? {} : { REDIS_URL: options.redisUrl }),
  };
  // The scripted model answers: no API key reaches the app under test.
  delete environment.OPENAI_API_KEY;
  // stdin stays a pipe: the server exits when it closes, so none outlives the test.
  const child = spawn(process.execPath, ["--conditions=@mastra/inngest-source", serverScript], {
    env: environment,
    stdio: ["pipe", "pipe", "pipe"],
  });
  let stderr = "";
  child.stderr?.setEncoding("utf8").on("data", (data: string) => {
    stderr = (stderr + data).slice(-8192);
  });
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const url = await readyUrl(child, exited, options.timeoutMs ?? 20_000, () => stderr);
  const end = async (signal: NodeJS.Signals): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill(signal);
    }
    await exited;
  };
  return { url, kill: () => end("SIGKILL"), stop: () => end("SIGTERM"), log: () => stderr };
}

function readyUrl(child: ChildProcess, exited: Promise<void>, timeoutMs: number, log: () => string): Promise<string> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`the chat server did not listen within ${timeoutMs} ms:\n${log()}`));
    }, timeoutMs);
    void exited.then(() => {
      clearTimeout(timer);
      reject(new Error(`the chat server exited before it listened:\n${log()}`));
    });
    let stdout = "";
    child.stdout?.setEncoding("utf8").on("data", (data: string) => {
      stdout += data;
      const ready = /ready (\S+)/.exec(stdout);
      if (ready?.[1] !== undefined) {
        clearTimeout(timer);
        resolve(ready[1]);
      }
    });
  });
}
