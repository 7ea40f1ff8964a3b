import { createInterface } from "node:readline/promises";

const frames = ["⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"];

/** Writes to stdout without a newline. */
export function write(text: string): void {
  process.stdout.write(text);
}

/** Writes a line to stdout. */
export function line(text = ""): void {
  process.stdout.write(`${text}\n`);
}

/**
 * Shows that the client waits: a spinner on a terminal, a single line otherwise (logs, CI).
 * The returned function stops it (once; later calls change nothing) and returns how long the wait
 * took, in milliseconds.
 */
export function waitingFor(label: string): () => number {
  const startedAt = Date.now();
  if (!process.stdout.isTTY) {
    line(`… ${label}`);
    let stoppedAfterMs: number | undefined;
    return () => {
      stoppedAfterMs ??= Date.now() - startedAt;
      return stoppedAfterMs;
    };
  }
  let frame = 0;
  let stoppedAfterMs: number | undefined;
  const timer = setInterval(() => {
    const seconds = ((Date.now() - startedAt) / 1000).toFixed(1);
    write(`\r${frames[frame++ % frames.length]} ${label} ${seconds}s`);
  }, 80);
  return () => {
    if (stoppedAfterMs === undefined) {
      clearInterval(timer);
      write("\r\x1b[2K");
      stoppedAfterMs = Date.now() - startedAt;
    }
    return stoppedAfterMs;
  };
}

/** Whether a person can answer questions: stdin is a terminal and this is not a CI job. */
export function isInteractive(): boolean {
  return Boolean(process.stdin.isTTY) && !process.env.CI;
}

/** Asks a yes/no question on the terminal; Ctrl-C rejects with an `AbortError`. */
export async function confirm(question: string): Promise<boolean> {
  const prompt = createInterface({ input: process.stdin, output: process.stdout });
  const interrupted = new AbortController();
  prompt.once("SIGINT", () => interrupted.abort());
  try {
    for (;;) {
      const answer = (await prompt.question(`${question} [y/n] `, { signal: interrupted.signal })).trim();
      if (/^y(es)?$/i.test(answer)) {
        return true;
      }
      if (/^no?$/i.test(answer)) {
        return false;
      }
    }
  } finally {
    prompt.close();
  }
}
