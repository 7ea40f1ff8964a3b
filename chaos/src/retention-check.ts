import { setTimeout as sleep } from "node:timers/promises";
import type { Redis } from "ioredis";
import type { RunResult } from "./drive-run.ts";

/** The retention the suite runs with, after scaling. */
export interface RetentionSettings {
  /** How long a run's stream history is kept after its terminal event, in milliseconds. */
  terminalTtlMs: number;
  /** How long run records (status, claims, decisions) are kept after their last write. */
  recordTtlMs: number;
  /** Whether to wait until the records expired too and require an empty database. */
  waitForRecords: boolean;
}

/**
 * Retention: once a run's terminal retention passed, none of its stream keys is left; no key
 * anywhere lacks a time to live; record keys expire within the record retention. With
 * `waitForRecords`, waits for that too and requires that no key of an ended run is left at all.
 */
export async function retentionViolations(
  admin: Redis,
  results: RunResult[],
  settings: RetentionSettings,
): Promise<string[]> {
  const ended = results.filter((result) => result.endedAt !== undefined);
  const lastEnd = Math.max(0, ...ended.map((result) => result.endedAt as number));
  const slackMs = 3_000;
  await sleep(Math.max(0, lastEnd + settings.terminalTtlMs + slackMs - Date.now()));
  const endedIds = new Set(ended.map((result) => result.plan.runId));
  const violations: string[] = [];
  const runOf = (key: string): string | undefined => /\{([^}]+)\}/.exec(key)?.[1];
  for (const key of await scanAll(admin)) {
    const ttl = await admin.pttl(key);
    if (ttl === -1) {
      violations.push(`key ${key} has no time to live`);
    }
    const runId = runOf(key);
    if (runId === undefined || !endedIds.has(runId)) {
      continue;
    }
    if (!/:run(:|$)/.test(key)) {
      violations.push(`key ${key} of an ended run outlived the terminal retention (${ttl} ms left)`);
    } else if (ttl > settings.recordTtlMs + slackMs) {
      violations.push(`record key ${key} expires in ${ttl} ms, past the record retention`);
    }
  }
  if (settings.waitForRecords) {
    const deadline = Date.now() + settings.recordTtlMs + 30_000;
    let left = await endedKeys(admin, endedIds, runOf);
    while (left.length > 0 && Date.now() < deadline) {
      await sleep(2_000);
      left = await endedKeys(admin, endedIds, runOf);
    }
    for (const key of left) {
      violations.push(`key ${key} of an ended run is still there after the record retention`);
    }
  }
  return violations;
}

async function endedKeys(
  admin: Redis,
  endedIds: Set<string>,
  runOf: (key: string) => string | undefined,
): Promise<string[]> {
  return (await scanAll(admin)).filter((key) => endedIds.has(runOf(key) ?? ""));
}

async function scanAll(admin: Redis): Promise<string[]> {
  const keys: string[] = [];
  let cursor = "0";
  do {
    const [next, batch] = await admin.scan(cursor, "COUNT", 1000);
    cursor = next;
    keys.push(...batch);
  } while (cursor !== "0");
  return keys;
}
