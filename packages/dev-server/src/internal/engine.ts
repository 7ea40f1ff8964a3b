import { monotonicFactory } from "ulid";
import { inferForRun } from "./ai-gateway.ts";
import { ScaledClock } from "./clock.ts";
import { CronSchedule } from "./cron-schedule.ts";
import { createEngineCounters, type EngineCounters } from "./engine-counters.ts";
import { normalizeError } from "./error-shape.ts";
import { EventWaits } from "./event-waits.ts";
import { FaultInjector } from "./faults.ts";
import { FlowGate } from "./flow-gate.ts";
import { fetchForRun } from "./gateway-fetch.ts";
import { invokeFunction } from "./invoke-function.ts";
import { type AppRecord, type FunctionRecord, FunctionRegistry } from "./registry.ts";
import { RunAdmission } from "./run-admission.ts";
import { RunDriver } from "./run-driver.ts";
import { RunState } from "./run-state.ts";
import { SignalWaits } from "./signal-waits.ts";

/** An event as the engine stores it and hands it to runs. */
export interface StoredEvent {
  /** The engine's id for the event (a ULID), or the user's `id`. */
  id: string;
  name: string;
  data: Record<string, unknown>;
  user?: Record<string, unknown>;
  /** The event's metadata as sent (the SDK's `meta`), kept as it came. */
  meta?: Record<string, unknown>;
  /** Epoch milliseconds. */
  ts: number;
  v?: string;
}

/** Settings of the {@link Engine}. */
export interface EngineOptions {
  mode: "checkpoint" | "classic";
  signingKey: string | undefined;
  timeScale: number;
  /** How many finished runs and events to keep for inspection before the oldest are dropped. */
  retention: number;
  /** A fixed wait before every retry, in real ms, in place of Inngest's backoff table. */
  retryIntervalMs?: number | undefined;
}

/**
 * The engine: synced functions, the event API's routing (triggers, waits, cancellations), runs and
 * their lifecycle events, invoke, and what tests inspect.
 */
export class Engine {
  readonly registry: FunctionRegistry = new FunctionRegistry();
  readonly counters: EngineCounters = createEngineCounters();
  readonly faults: FaultInjector = new FaultInjector();
  readonly clock: ScaledClock;
  readonly #options: EngineOptions;
  readonly #driver: RunDriver;
  readonly #gate: FlowGate;
  readonly #admission: RunAdmission;
  readonly #crons: CronSchedule;
  readonly #signals: SignalWaits;
  readonly #eventWaits: EventWaits;
  readonly #runs = new Map<string, RunState>();
  readonly #events = new Map<string, StoredEvent>();
  readonly #runsByEvent = new Map<string, string[]>();
  readonly #seeds = new Map<string, string>();
  /** Active runs whose function has cancelOn rules, by the cancelling event's name. */
  readonly #cancellable = new Map<string, Set<RunState>>();
  readonly #ulid = monotonicFactory();
  #evictedMemoizedBytes = 0;

  constructor(options: EngineOptions) {
    this.#options = options;
    this.clock = new ScaledClock(options.timeScale);
    // How every op the engine resolves itself (waits, signals, fetch, invoke) memoizes its result.
    const resolve = (run: RunState, hashedId: string, value: unknown): void =>
      this.#driver.resolve(run, hashedId, value);
    this.#driver = new RunDriver({
      clock: this.clock,
      faults: this.faults,
      counters: this.counters,
      retryIntervalMs: options.retryIntervalMs,
      settings: (run) => ({ mode: options.mode, signingKey: options.signingKey, internalFunctionId: run.fn.id }),
      waitForEvent: (run, op) => this.#eventWaits.register(run, op),
      waitForSignal: (run, op) => this.#signals.register(run, op),
      gateway: (run, op) => fetchForRun(run, op, { resolve }),
      aiGateway: (run, op) => inferForRun(run, op, { resolve }),
      invoke: (run, op) =>
        invokeFunction(run, op, {
          clock: this.clock,
          target: (functionId) => this.registry.function(functionId),
          event: (raw) => this.receiveInternal(raw)[0],
          start: (fn, event, invokedBy) => this.#start(fn, [event as unknown as Record<string, unknown>], invokedBy),
          resolve,
        }),
      complete: (run, output) => this.#end(run, "Completed", { output }),
      fail: (run, error) => this.#end(run, "Failed", { error }),
      admit: (run) => this.#admission.admit(run),
      idle: (run) => this.#admission.idle(run),
      firstCall: (run) => this.#admission.firstCall(run),
    });
    this.#eventWaits = new EventWaits({ clock: this.clock, run: (runId) => this.#runs.get(runId), resolve });
    this.#signals = new SignalWaits({
      clock: this.clock,
      resolve,
      fail: (run, error) => this.#end(run, "Failed", { error }),
    });
    this.#admission = new RunAdmission({
      clock: this.clock,
      counters: this.counters,
      wake: (run) => this.#driver.pump(run),
      timeOut: (run) => this.#end(run, "Cancelled", {}),
    });
    this.#gate = new FlowGate({
      clock: this.clock,
      counters: this.counters,
      start: (fn, events) => this.#start(fn, events),
      cancel: (run) => this.#end(run, "Cancelled", {}),
    });
    this.#crons = new CronSchedule(this.clock, (functionId, trigger, engineTime) => {
      const fn = this.registry.function(functionId);
      const cron = { name: "inngest/scheduled.timer", data: { cron: trigger.source }, ts: engineTime.getTime() };
      const [event] = fn === undefined ? [] : this.receiveInternal(cron);
      if (fn !== undefined && event !== undefined) {
        this.#gate.trigger(fn, event as unknown as Record<string, unknown>);
      }
    });
  }

  /** Registers an app from its sync payload and schedules its cron triggers. */
  sync(payload: unknown): AppRecord {
    const app = this.registry.register(payload);
    this.#crons.replace(this.registry.apps().flatMap((each) => [...each.functions.values()]));
    return app;
  }

  /** Receives events from the event API or from the engine itself; returns their ids. */
  receive(input: unknown[], seed?: string): string[] {
    const ids: string[] = [];
    const accepted: StoredEvent[] = [];
    for (const [position, raw] of input.entries()) {
      const event = this.#normalize(raw);
      const seedKey = seed === undefined ? undefined : `${seed}#${position}`;
      const known = seedKey === undefined ? undefined : this.#seeds.get(seedKey);
      if (known !== undefined) {
        // A retried send with the same seed: same id, no second set of runs.
        ids.push(known);
        continue;
      }
      if (this.#events.has(event.id)) {
        // A user-supplied id seen before: the event is accepted but starts nothing again.
        ids.push(event.id);
        continue;
      }
      if (seedKey !== undefined) {
        this.#remember(this.#seeds, seedKey, event.id);
      }
      this.#remember(this.#events, event.id, event);
      this.counters.eventsReceived++;
      ids.push(event.id);
      accepted.push(event);
    }
    for (const event of accepted) {
      this.#route(event);
    }
    return ids;
  }

  /** Delivers a signal (`POST /v1/signals`); returns the id of the run that waited for it, if any. */
  signal(signal: string, data: unknown): string | undefined {
    return this.#signals.send(signal, data);
  }

  /** A run by id. */
  run(runId: string): RunState | undefined {
    return this.#runs.get(runId);
  }

  /** Every run kept, oldest first. */
  runs(): RunState[] {
    return [...this.#runs.values()];
  }

  /** An event by id. */
  event(eventId: string): StoredEvent | undefined {
    return this.#events.get(eventId);
  }

  /** Every event kept, oldest first. */
  events(): StoredEvent[] {
    return [...this.#events.values()];
  }

  /** The runs an event started. */
  runsForEvent(eventId: string): RunState[] {
    return (this.#runsByEvent.get(eventId) ?? []).flatMap((runId) => this.#runs.get(runId) ?? []);
  }

  /** Bytes of step state memoized, over every run the engine has had. */
  memoizedBytes(): number {
    let total = this.#evictedMemoizedBytes;
    for (const run of this.#runs.values()) {
      total += run.counters.memoizedBytes;
    }
    return total;
  }

  /** Cancels a run: nothing further is called for it. Returns false when it had already ended. */
  cancel(runId: string): boolean {
    const run = this.#runs.get(runId);
    return run !== undefined && this.#end(run, "Cancelled", {});
  }

  /** Handles a checkpoint post; returns the HTTP status. */
  checkpoint(runId: string, body: Record<string, unknown>): number {
    const run = this.#runs.get(runId);
    if (run === undefined) {
      return 404;
    }
    const before = process.cpuUsage();
    const status = this.#driver.acceptCheckpoint(run, body);
    const used = process.cpuUsage(before);
    this.counters.engineCpuMicros += used.user + used.system;
    return status;
  }

  /** Stops every timer; runs stay as they are. */
  close(): void {
    this.#crons.close();
    this.#gate.close();
    this.#driver.close();
    this.clock.close();
    this.faults.clear();
  }

  #normalize(raw: unknown): StoredEvent {
    if (typeof raw !== "object" || raw === null || typeof (raw as { name?: unknown }).name !== "string") {
      throw new Error("every event must be an object with a string name");
    }
    const input = raw as {
      id?: unknown;
      name: string;
      data?: unknown;
      user?: unknown;
      meta?: unknown;
      ts?: unknown;
      v?: unknown;
    };
    if ((input.name as string) === "") {
      throw new Error("an event name must not be empty");
    }
    const event: StoredEvent = {
      id: typeof input.id === "string" && input.id !== "" ? input.id : this.#ulid(),
      name: input.name,
      data: typeof input.data === "object" && input.data !== null ? (input.data as Record<string, unknown>) : {},
      ts: typeof input.ts === "number" ? input.ts : Date.now(),
    };
    // Inngest hands every event to functions with a user object, empty when none was sent.
    event.user = typeof input.user === "object" && input.user !== null ? (input.user as Record<string, unknown>) : {};
    if (typeof input.meta === "object" && input.meta !== null) {
      event.meta = input.meta as Record<string, unknown>;
    }
    if (typeof input.v === "string") {
      event.v = input.v;
    }
    return event;
  }

  #route(event: StoredEvent): void {
    const before = process.cpuUsage();
    for (const run of [...(this.#cancellable.get(event.name) ?? [])]) {
      for (const rule of run.fn.cancel) {
        if (rule.event !== event.name) {
          continue;
        }
        if (rule.timeoutMs !== undefined && Date.now() > run.startedAt + rule.timeoutMs) {
          continue;
        }
        if (rule.condition === undefined || rule.condition({ event: run.event, async: event }) === true) {
          this.#end(run, "Cancelled", {});
          break;
        }
      }
    }
    this.#eventWaits.deliver(event);
    for (const fn of this.registry.triggeredBy(event.name)) {
      const trigger = fn.triggers.find(
        (candidate) =>
          candidate.event === event.name ||
          (candidate.event.endsWith("*") && event.name.startsWith(candidate.event.slice(0, -1))),
      );
      if (trigger?.condition !== undefined && trigger.condition({ event }) !== true) {
        continue;
      }
      this.#gate.trigger(fn, event as unknown as Record<string, unknown>);
    }
    const used = process.cpuUsage(before);
    this.counters.engineCpuMicros += used.user + used.system;
  }

  #start(
    fn: FunctionRecord,
    events: Record<string, unknown>[],
    invokedBy?: { runId: string; hashedId: string },
  ): RunState {
    const event = (events[0] ?? {}) as unknown as StoredEvent;
    const run = new RunState(this.#ulid(), fn, event as unknown as Record<string, unknown>, Date.now(), events);
    run.invokedBy = invokedBy;
    this.#remember(this.#runs, run.id, run);
    for (const each of events) {
      const eventId = String(each.id ?? "");
      const list = this.#runsByEvent.get(eventId) ?? [];
      list.push(run.id);
      this.#remember(this.#runsByEvent, eventId, list);
    }
    this.counters.runsStarted++;
    this.#admission.created(run);
    for (const rule of fn.cancel) {
      const set = this.#cancellable.get(rule.event) ?? new Set<RunState>();
      set.add(run);
      this.#cancellable.set(rule.event, set);
    }
    this.#driver.requestDiscovery(run);
    return run;
  }

  /** Stores an engine-made event without routing it to triggers (the caller decides). */
  receiveInternal(raw: { name: string; data: Record<string, unknown>; ts?: number }): StoredEvent[] {
    const event = this.#normalize(raw);
    this.#remember(this.#events, event.id, event);
    this.counters.eventsReceived++;
    return [event];
  }

  #end(
    run: RunState,
    status: "Completed" | "Failed" | "Cancelled",
    outcome: { output?: unknown; error?: unknown },
  ): boolean {
    if (!run.end(status, outcome, Date.now())) {
      return false;
    }
    this.#admission.ended(run);
    for (const rule of run.fn.cancel) {
      const set = this.#cancellable.get(rule.event);
      set?.delete(run);
      if (set?.size === 0) {
        this.#cancellable.delete(rule.event);
      }
    }
    if (run.invokedBy !== undefined) {
      const parent = this.#runs.get(run.invokedBy.runId);
      if (parent !== undefined) {
        const value =
          status === "Completed"
            ? { data: run.output }
            : {
                error:
                  status === "Failed"
                    ? normalizeError(run.error)
                    : { name: "Error", message: "invoked run was cancelled" },
              };
        this.#driver.resolve(parent, run.invokedBy.hashedId, value);
      }
    }
    const base = { function_id: run.fn.id, run_id: run.id, event: run.event, events: run.events };
    // The triggering event's meta goes with its lifecycle events, as Inngest groups runs by it.
    const meta = (run.event as { meta?: Record<string, unknown> }).meta;
    const lifecycle =
      status === "Completed"
        ? { name: "inngest/function.finished", data: { ...base, result: run.output } }
        : status === "Failed"
          ? { name: "inngest/function.failed", data: { ...base, error: normalizeError(run.error) } }
          : { name: "inngest/function.cancelled", data: base };
    // Lifecycle events are routed like any other: onFailure handlers are triggered by them.
    queueMicrotask(() => this.receive([meta === undefined ? lifecycle : { ...lifecycle, meta }]));
    return true;
  }

  #remember<Value>(map: Map<string, Value>, key: string, value: Value): void {
    map.set(key, value);
    if (map.size <= this.#options.retention) {
      return;
    }
    for (const [oldKey, oldValue] of map) {
      if (map.size <= this.#options.retention) {
        break;
      }
      if (oldValue instanceof RunState) {
        if (oldValue.isActive) {
          continue;
        }
        this.#evictedMemoizedBytes += oldValue.counters.memoizedBytes;
      }
      map.delete(oldKey);
    }
  }
}
