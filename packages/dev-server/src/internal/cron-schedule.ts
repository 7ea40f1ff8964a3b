import { Cron } from "croner";
import type { ScaledClock, TimerHandle } from "./clock.ts";

/** A cron trigger of a synced function, parsed at sync. */
export interface CronTrigger {
  /** The expression as synced, `TZ=` prefix included: it goes into the event as `data.cron`. */
  source: string;
  /** The parsed pattern. */
  pattern: Cron;
}

/** The shortest real delay between two ticks, so a time scale of 0 cannot spin the event loop. */
const shortestTickMs = 10;

/**
 * Parses a cron trigger as Inngest accepts it (five or six fields, an optional `TZ=<zone> ` prefix);
 * throws naming the function and the expression.
 */
export function parseCronTrigger(functionId: string, source: string): CronTrigger {
  const match = /^(?:(?:TZ|CRON_TZ)=(\S+)\s+)?(.+)$/.exec(source.trim());
  try {
    // Inngest reads a cron without a TZ= prefix in UTC, whatever the machine's zone.
    const pattern = new Cron(match?.[2] ?? source, {
      paused: true,
      mode: "5-or-6-parts",
      timezone: match?.[1] ?? "UTC",
    });
    return { source, pattern };
  } catch (error) {
    throw new Error(
      `[@mastra/inngest-dev-server] function ${functionId}: cron ${JSON.stringify(source)} is not a valid cron expression (${(error as Error).message})`,
    );
  }
}

/**
 * Fires cron triggers on the engine's clock: engine time starts at the real time the schedule was
 * made and runs `1 / timeScale` times as fast, so with `timeScale: 0.001` an hourly cron fires every
 * 3.6 real seconds, as every other engine delay is scaled.
 */
export class CronSchedule {
  readonly #clock: ScaledClock;
  readonly #fire: (functionId: string, trigger: CronTrigger, engineTime: Date) => void;
  readonly #timers = new Map<string, TimerHandle[]>();
  readonly #origin = Date.now();

  constructor(clock: ScaledClock, fire: (functionId: string, trigger: CronTrigger, engineTime: Date) => void) {
    this.#clock = clock;
    this.#fire = fire;
  }

  /** Replaces the schedules of these functions (a sync); functions no longer synced are dropped. */
  replace(functions: { id: string; crons: CronTrigger[] }[]): void {
    this.close();
    for (const fn of functions) {
      for (const trigger of fn.crons) {
        this.#arm(fn.id, trigger, this.#engineNow());
      }
    }
  }

  /** Cancels every schedule. */
  close(): void {
    for (const timers of this.#timers.values()) {
      for (const timer of timers) {
        timer.cancel();
      }
    }
    this.#timers.clear();
  }

  #engineNow(): number {
    const scale = this.#clock.timeScale;
    const elapsed = Date.now() - this.#origin;
    return scale === 0 ? this.#origin + elapsed * 1_000_000 : this.#origin + elapsed / scale;
  }

  #arm(functionId: string, trigger: CronTrigger, after: number): void {
    const next = trigger.pattern.nextRun(new Date(after));
    if (next === null) {
      return;
    }
    const realDelay = Math.max(shortestTickMs, this.#clock.toRealMs(next.getTime() - this.#engineNow()));
    const timer = this.#clock.scheduleReal(realDelay, () => {
      const list = this.#timers.get(functionId);
      list?.splice(list.indexOf(timer), 1);
      this.#fire(functionId, trigger, next);
      this.#arm(functionId, trigger, next.getTime());
    });
    const list = this.#timers.get(functionId) ?? [];
    list.push(timer);
    this.#timers.set(functionId, list);
  }
}
