/**
 * Runs whose caller lives in this process: their run registry entry was created by `stream()` and
 * holds the caller's model, tools and processors, so the loop must not delete it when it ends here.
 */
export const callerOwnedRuns: Set<string> = new Set();
