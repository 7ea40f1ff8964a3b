import { type CronTrigger, parseCronTrigger } from "./cron-schedule.ts";
import { parseDurationMs } from "./duration.ts";
import { type CompiledExpression, compileExpression } from "./expression.ts";
import { type FlowControl, parseFlowControl } from "./flow-control-config.ts";

/** Inngest's default when a synced function states no retries: 4 retries, so 5 attempts. */
const defaultRetries = 4;

/** A trigger of a synced function, with its expression compiled once at sync time. */
export interface FunctionTrigger {
  /** The event name, possibly ending in `*` as a prefix wildcard. */
  event: string;
  /** The trigger's `if` expression, compiled. */
  condition?: CompiledExpression;
}

/** A `cancelOn` rule of a synced function. */
export interface CancelRule {
  /** The event that cancels. */
  event: string;
  /** The condition over `event` (the run's trigger) and `async` (the incoming event). */
  condition?: CompiledExpression;
  /** How long the rule applies after the run started, in ms; forever when absent. */
  timeoutMs?: number;
}

/** A function as the engine keeps it after a sync: only what the hot path needs, parsed once. */
export interface FunctionRecord {
  /** The composite id, `<appId>-<functionId>`. */
  id: string;
  /** The display name. */
  name: string;
  /** The app that serves it. */
  appName: string;
  /** The URL the engine calls to run it (`steps.step.runtime.url`). */
  url: string;
  /** Event triggers. */
  triggers: FunctionTrigger[];
  /** Cron triggers, scheduled on the engine's clock. */
  crons: CronTrigger[];
  /** Flow control, parsed and validated at sync. */
  flow: FlowControl;
  /** Attempts per step and per discovery: retries + 1. */
  maxAttempts: number;
  /** `cancelOn` rules. */
  cancel: CancelRule[];
  /** The function's configuration as synced, for inspection. */
  config: Record<string, unknown>;
}

/** An app as last synced. */
export interface AppRecord {
  /** The app id (`appName` in the sync payload). */
  name: string;
  /** The app's serve URL. */
  url: string;
  /** The SDK that synced it, for example `js:v4.24.0`. */
  sdk?: string;
  /** Its functions, by composite id. */
  functions: Map<string, FunctionRecord>;
  /** When it last synced. */
  syncedAt: Date;
}

/**
 * The synced apps and their functions, indexed by trigger event name so that routing an event
 * costs a map lookup rather than a scan of every function.
 */
export class FunctionRegistry {
  readonly #apps = new Map<string, AppRecord>();
  readonly #functions = new Map<string, FunctionRecord>();
  readonly #byEvent = new Map<string, FunctionRecord[]>();
  readonly #wildcards: FunctionRecord[] = [];

  /** Registers an app from a `/fn/register` payload; a re-sync replaces all of the app's functions. */
  register(payload: unknown): AppRecord {
    if (typeof payload !== "object" || payload === null) {
      throw new Error("sync payload must be a JSON object");
    }
    const body = payload as Record<string, unknown>;
    const name = typeof body.appName === "string" ? body.appName : typeof body.app_id === "string" ? body.app_id : "";
    if (name === "" || typeof body.url !== "string") {
      throw new Error("sync payload must have appName and url");
    }
    const functions = new Map<string, FunctionRecord>();
    for (const raw of Array.isArray(body.functions) ? body.functions : []) {
      const record = toFunctionRecord(raw, name);
      functions.set(record.id, record);
    }
    const app: AppRecord = { name, url: body.url, functions, syncedAt: new Date() };
    if (typeof body.sdk === "string") {
      app.sdk = body.sdk;
    }
    this.#apps.set(name, app);
    this.#reindex();
    return app;
  }

  /** A function by composite id. */
  function(id: string): FunctionRecord | undefined {
    return this.#functions.get(id);
  }

  /** Every synced app. */
  apps(): AppRecord[] {
    return [...this.#apps.values()];
  }

  /** The functions an event of this name may trigger (their `if` still has to hold). */
  triggeredBy(eventName: string): FunctionRecord[] {
    const exact = this.#byEvent.get(eventName) ?? [];
    if (this.#wildcards.length === 0) {
      return exact;
    }
    const wild = this.#wildcards.filter((record) =>
      record.triggers.some(
        (trigger) => trigger.event.endsWith("*") && eventName.startsWith(trigger.event.slice(0, -1)),
      ),
    );
    return [...exact, ...wild];
  }

  #reindex(): void {
    this.#functions.clear();
    this.#byEvent.clear();
    this.#wildcards.length = 0;
    for (const app of this.#apps.values()) {
      for (const record of app.functions.values()) {
        this.#functions.set(record.id, record);
        for (const trigger of record.triggers) {
          if (trigger.event.endsWith("*")) {
            if (!this.#wildcards.includes(record)) {
              this.#wildcards.push(record);
            }
            continue;
          }
          const list = this.#byEvent.get(trigger.event) ?? [];
          if (!list.includes(record)) {
            list.push(record);
          }
          this.#byEvent.set(trigger.event, list);
        }
      }
    }
  }
}

function toFunctionRecord(raw: unknown, appName: string): FunctionRecord {
  const config = (typeof raw === "object" && raw !== null ? raw : {}) as Record<string, unknown>;
  const id = String(config.id ?? "");
  if (id === "") {
    throw new Error("every synced function must have an id");
  }
  const steps = (config.steps ?? {}) as Record<string, { runtime?: { url?: string }; retries?: { attempts?: number } }>;
  const step = steps.step ?? Object.values(steps)[0];
  const url = step?.runtime?.url;
  if (typeof url !== "string") {
    throw new Error(`function ${id} has no runtime url`);
  }
  // `retries.attempts` carries the retry count, despite its name.
  const retries = typeof step?.retries?.attempts === "number" ? step.retries.attempts : defaultRetries;
  const triggers: FunctionTrigger[] = [];
  const crons: CronTrigger[] = [];
  for (const trigger of Array.isArray(config.triggers) ? config.triggers : []) {
    const entry = trigger as { event?: unknown; expression?: unknown; cron?: unknown; jitter?: unknown };
    if (typeof entry.cron === "string") {
      if (entry.jitter !== undefined) {
        throw new Error(
          `[@mastra/inngest-dev-server] function ${id}: the cron trigger option jitter is not supported by this engine`,
        );
      }
      crons.push(parseCronTrigger(id, entry.cron));
      continue;
    }
    if (typeof entry.event !== "string") {
      throw new Error(
        `[@mastra/inngest-dev-server] function ${id}: every trigger must have an event or a cron, got ${JSON.stringify(trigger)}`,
      );
    }
    const compiled: FunctionTrigger = { event: entry.event };
    if (typeof entry.expression === "string" && entry.expression !== "") {
      compiled.condition = compileExpression(entry.expression);
    }
    triggers.push(compiled);
  }
  const cancel: CancelRule[] = [];
  for (const rule of Array.isArray(config.cancel) ? config.cancel : []) {
    const entry = rule as { event?: unknown; if?: unknown; timeout?: unknown };
    if (typeof entry.event !== "string") {
      continue;
    }
    const compiled: CancelRule = { event: entry.event };
    if (typeof entry.if === "string" && entry.if !== "") {
      compiled.condition = compileExpression(entry.if);
    }
    if (typeof entry.timeout === "string") {
      compiled.timeoutMs = parseDurationMs(entry.timeout);
    }
    cancel.push(compiled);
  }
  return {
    id,
    name: typeof config.name === "string" ? config.name : id,
    appName,
    url,
    triggers,
    crons,
    flow: parseFlowControl(id, config),
    maxAttempts: Math.min(Math.max(retries, 0), 20) + 1,
    cancel,
    config,
  };
}
