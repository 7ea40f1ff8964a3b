import { setTimeout as sleep } from "node:timers/promises";
import type { RedisServer } from "@mastra/inngest-testing";
import type { Redis } from "ioredis";
import type { FaultLog } from "./fault-log.ts";
import type { Random } from "./random.ts";
import type { WorkerPool } from "./worker-pool.ts";

/** What the schedule strikes. */
export interface FaultTargets {
  workers: WorkerPool;
  workerCount: number;
  redis: RedisServer;
  /** A connection of its own for `CLIENT KILL` (Redis skips the connection that sends it). */
  admin: Redis;
  faults: FaultLog;
}

/** How often faults strike. */
export interface FaultPace {
  /** Shortest and longest pause between two faults, in milliseconds. */
  minimumPauseMs: number;
  maximumPauseMs: number;
}

/**
 * Strikes until `signal` aborts: after a seeded pause, one of a worker SIGKILL (restarted after a
 * seeded downtime), a `CLIENT KILL` of every normal or every pub/sub connection, or a Redis crash
 * and restart. Each is recorded only once it took effect: the process exited by SIGKILL, Redis
 * reported connections killed, the server answered again after its restart.
 */
export async function runFaultSchedule(
  targets: FaultTargets,
  random: Random,
  pace: FaultPace,
  signal: AbortSignal,
): Promise<void> {
  const { faults } = targets;
  while (!signal.aborted) {
    await sleep(random.integer(pace.minimumPauseMs, pace.maximumPauseMs));
    if (signal.aborted) {
      return;
    }
    const roll = random.next();
    try {
      if (roll < 0.45) {
        const index = random.integer(0, targets.workerCount - 1);
        const killed = await targets.workers.kill(index, random.integer(100, 1_500));
        if (killed !== undefined) {
          faults.record("worker-kill", `worker ${index} pid ${killed.pid}`);
        }
      } else if (roll < 0.85) {
        const type = random.pick(["normal", "pubsub"] as const);
        const killed = Number(await targets.admin.call("CLIENT", "KILL", "TYPE", type));
        if (killed > 0) {
          faults.record("redis-client-kill", `${killed} ${type} connections`);
        }
      } else {
        await targets.redis.kill();
        await sleep(random.integer(0, 800));
        await restartRedis(targets.redis);
        faults.record("redis-restart", "SIGKILL, then started on the same port and data");
      }
    } catch (error) {
      if (!targets.redis.running) {
        throw error;
      }
      // A fault that could not be struck (the admin connection reconnecting) is simply not counted.
    }
  }
}

/** Restarts Redis, trying again a few times: the suite cannot go on without it. */
async function restartRedis(redis: RedisServer): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      await redis.restart();
      return;
    } catch (error) {
      if (attempt === 5) {
        throw new Error(`[@mastra/inngest-chaos] Redis did not restart: ${String(error)}\n${redis.log}`);
      }
      await sleep(500);
    }
  }
}
