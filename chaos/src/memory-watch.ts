/** The test process's memory over the suite, in bytes. */
export interface MemoryReport {
  /** Heap in use once the workload warmed up. */
  baselineHeap: number;
  peakHeap: number;
  finalHeap: number;
  peakRss: number;
}

/** Samples the heap and RSS every second; `report()` stops sampling. */
export function watchMemory(warmUpMs: number): { report(): MemoryReport } {
  const startedAt = Date.now();
  let baselineHeap: number | undefined;
  let peakHeap = 0;
  let peakRss = 0;
  const sample = (): void => {
    const { heapUsed, rss } = process.memoryUsage();
    peakHeap = Math.max(peakHeap, heapUsed);
    peakRss = Math.max(peakRss, rss);
    if (baselineHeap === undefined && Date.now() - startedAt >= warmUpMs) {
      baselineHeap = heapUsed;
    }
  };
  const timer = setInterval(sample, 1_000);
  timer.unref();
  sample();
  return {
    report() {
      clearInterval(timer);
      sample();
      const finalHeap = process.memoryUsage().heapUsed;
      return { baselineHeap: baselineHeap ?? finalHeap, peakHeap, finalHeap, peakRss };
    },
  };
}

/**
 * Memory stays bounded: the heap never grows past twice its warmed-up size plus 128 MB, whatever
 * the suite's length, so a leak per run or per fault shows up in the long version.
 */
export function memoryViolations(report: MemoryReport): string[] {
  const limit = report.baselineHeap * 2 + 128 * 1024 * 1024;
  return report.peakHeap > limit
    ? [
        `the heap peaked at ${megabytes(report.peakHeap)}, over the bound of ${megabytes(limit)} (warmed up at ${megabytes(report.baselineHeap)})`,
      ]
    : [];
}

/** A byte count in MB, for messages. */
export function megabytes(bytes: number): string {
  return `${Math.round(bytes / 1024 / 1024)} MB`;
}
