import type { MastraModelOutput } from "@mastra/core/stream";

/** What one run measured in the caller. */
export interface RunTiming {
  /** From the call to `stream()` until `output.text` resolved, in milliseconds. */
  wallMs: number;
  /** From the call to `stream()` until the first text delta, in milliseconds. */
  firstTextMs: number;
  /** From the call to `stream()` until it returned the output, in milliseconds. */
  startMs: number;
  /** CPU time of this process over the run, in milliseconds. */
  appCpuMs: number;
  /** The chunks the caller received. */
  chunks: number;
  /** The final text, to check every system answered the same. */
  text: string;
}

/** Runs `start` and reads its stream to the end, timing it as a caller sees it. */
export async function timeRun(start: () => Promise<MastraModelOutput<undefined>>): Promise<RunTiming> {
  const cpu = process.cpuUsage();
  const began = performance.now();
  const output = await start();
  const startMs = performance.now() - began;
  let firstTextMs = Number.NaN;
  let chunks = 0;
  for await (const chunk of output.fullStream as unknown as AsyncIterable<{ type: string }>) {
    chunks++;
    if (chunk.type === "text-delta" && Number.isNaN(firstTextMs)) firstTextMs = performance.now() - began;
  }
  const text = await output.text;
  const wallMs = performance.now() - began;
  const used = process.cpuUsage(cpu);
  return { wallMs, startMs, firstTextMs, appCpuMs: (used.user + used.system) / 1000, chunks, text };
}

/** The median of a non-empty list. */
export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1
    ? (sorted[middle] as number)
    : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2;
}
