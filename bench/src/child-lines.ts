// A child Node process spoken to in lines: the parent writes one command a line on its stdin, the
// child answers each with one JSON line on its stdout, in order.
import { spawn } from "node:child_process";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";

/** A running child that answers commands. */
export interface LineChild {
  /** Sends `command` and resolves with the child's JSON answer. */
  request<T = unknown>(command: string): Promise<T>;
  /** Stops it (SIGTERM) and waits for it to exit. */
  stop(): Promise<void>;
}

/** Starts `script` (a path relative to this file) with `args`, and resolves once it answered "ready". */
export async function startLineChild(script: string, args: string[], nodeOptions: string[] = []): Promise<LineChild> {
  const child = spawn(
    process.execPath,
    [...nodeOptions, "--conditions=@mastra/inngest-source", fileURLToPath(new URL(script, import.meta.url)), ...args],
    { stdio: ["pipe", "pipe", "inherit"] },
  );
  const waiting: Array<{ resolve: (value: unknown) => void; reject: (error: Error) => void }> = [];
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  void exited.then(() => {
    for (const waiter of waiting.splice(0)) waiter.reject(new Error(`${script} exited`));
  });
  createInterface({ input: child.stdout }).on("line", (line) => {
    waiting.shift()?.resolve(JSON.parse(line));
  });
  const request = <T>(command: string) =>
    new Promise<T>((resolve, reject) => {
      waiting.push({ resolve: resolve as (value: unknown) => void, reject });
      child.stdin.write(`${command}\n`);
    });
  await request("ready");
  return {
    request,
    async stop() {
      child.kill("SIGTERM");
      await exited;
    },
  };
}

/** In the child: answers each command line with `answer(command)`'s JSON, one at a time, in order. */
export function answerLines(answer: (command: string) => unknown): void {
  let queue: Promise<void> = Promise.resolve();
  createInterface({ input: process.stdin }).on("line", (line) => {
    queue = queue.then(async () => {
      process.stdout.write(`${JSON.stringify((await answer(line)) ?? null)}\n`);
    });
  });
  process.once("SIGTERM", () => process.exit(0));
}
