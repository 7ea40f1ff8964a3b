// Shared by the server and the page: the page bundles this file, so it imports nothing.

/** The type of the transient data part that tells the page where it is in a run. */
export const RUN_POSITION_PART = "data-run-position";

/**
 * Where the page is in a durable run. The server sends it after the chunks of each event of the
 * run and when its response ends; the page stores it with the messages it rendered, and reconnects
 * with `runId` and `offset` after a reload or a dropped connection.
 */
export interface RunPosition {
  /** The run's id. */
  runId: string;
  /** The index of the next event in the run's history: the server's `observe()` continues there. */
  offset: number;
  /**
   * `streaming`: more follows; `waiting`: the response ended where the run waits for a decision
   * (a reconnect finds out whether it was given since); `ended`: the run finished, failed or was aborted.
   */
  state: "streaming" | "waiting" | "ended";
}

/** Whether a run at this position may still send something, so a page that lost it reconnects. */
export function isRunGoing(position: RunPosition | undefined): position is RunPosition {
  return position !== undefined && position.state !== "ended";
}
