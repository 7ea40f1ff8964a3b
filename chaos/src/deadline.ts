/** The error {@link beforeDeadline} rejects with: what the suite waited for, and for how long. */
export class DeadlineExceededError extends Error {
  /** What the suite waited for, as the report names it (for example `resume(call-1)`). */
  readonly waitedFor: string;

  constructor(waitedFor: string, waitedMs: number) {
    super(`${waitedFor} did not settle within ${waitedMs} ms`);
    this.name = "DeadlineExceededError";
    this.waitedFor = waitedFor;
  }
}

/**
 * Settles as `work` does, or rejects with {@link DeadlineExceededError} once `deadline` (epoch ms)
 * passed first. `work` itself goes on: a promise cannot be cancelled, so a late rejection is
 * swallowed rather than left unhandled. The suite puts every wait behind one of these, so a call
 * that never answers becomes a reported hang instead of a test that runs into vitest's timeout.
 *
 * @example
 * const resumed = await beforeDeadline(agent.resume(runId, decision), deadline, `resume(${toolCallId})`);
 */
export async function beforeDeadline<Value>(work: Promise<Value>, deadline: number, waitedFor: string): Promise<Value> {
  const waitMs = Math.max(0, deadline - Date.now());
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new DeadlineExceededError(waitedFor, waitMs)), waitMs);
  });
  work.catch(() => {});
  try {
    return await Promise.race([work, expired]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Whether `work` settled (fulfilled or rejected) before `deadline`; never rejects. For teardown,
 * where a close that hangs must not keep the suite from reporting what it found.
 */
export async function settledBefore(work: Promise<unknown>, deadline: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), Math.max(0, deadline - Date.now()));
  });
  const settled = work.then(
    () => true,
    () => true,
  );
  try {
    return await Promise.race([settled, expired]);
  } finally {
    clearTimeout(timer);
  }
}
