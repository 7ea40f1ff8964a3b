import { releaseRegisteredRun, touchRegisteredRun } from "./core-durable/index.ts";

/** How often the entries of runs still going are used, so core's registry (two hours unused) keeps them. */
const keepAliveMs = 10 * 60 * 1000;

/**
 * The runs whose caller is in this process (started by this agent's `stream()`): their entry in
 * core's run registry holds the caller's closures (tools per call, `stopWhen`, ...), which the
 * run's steps use when they execute here. The entry lives as long as the run, not as long as the
 * caller's stream: a stream that ends at a suspension, or that the caller cleans up, leaves it for
 * the steps still to come. It goes when the caller's stream sees the run end, or when the run ends
 * here after that stream closed; a run that ends elsewhere after both leaves it to the registry's TTL.
 */
export class CallerRuns {
  /** For each run, whether the caller's stream is still open. */
  readonly #streaming = new Map<string, boolean>();
  #keepAlive: ReturnType<typeof setInterval> | undefined;

  /** A run started here, with its caller's stream open. */
  add(runId: string): void {
    this.#streaming.set(runId, true);
    // A run may wait for a decision longer than core's registry keeps an unused entry.
    this.#keepAlive ??= setInterval(() => {
      for (const tracked of this.#streaming.keys()) {
        touchRegisteredRun(tracked);
      }
    }, keepAliveMs).unref();
  }

  /** Whether the run's caller is in this process. */
  has(runId: string): boolean {
    return this.#streaming.has(runId);
  }

  /** The caller's stream closed while the run goes on (a suspension, or the caller's cleanup()). */
  streamClosed(runId: string): void {
    if (this.#streaming.has(runId)) {
      this.#streaming.set(runId, false);
    }
  }

  /** The caller saw the run end: its entry goes. */
  release(runId: string): void {
    this.#streaming.delete(runId);
    releaseRegisteredRun(runId);
    if (this.#streaming.size === 0 && this.#keepAlive !== undefined) {
      clearInterval(this.#keepAlive);
      this.#keepAlive = undefined;
    }
  }

  /**
   * The run ended in this process. What core's steps registered for it here goes, and so does the
   * caller's entry once its stream closed; an open stream releases it when it sees the end.
   */
  runEnded(runId: string): void {
    if (this.#streaming.get(runId) !== true) {
      this.release(runId);
    }
  }
}
