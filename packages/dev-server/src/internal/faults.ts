/** Which runs a fault applies to: all runs of a function, one run, or (neither given) every run. */
export interface FaultScope {
  /** The composite function id, `<appId>-<functionId>`. */
  functionId?: string;
  /** One run's id. */
  runId?: string;
}

/** Options of {@link FaultInjector.crashAfterStep}. */
export interface CrashAfterStepOptions extends FaultScope {
  /** The step's user id, as passed to `step.run()`, for example `llm:0`. */
  step: string;
  /**
   * How many times to crash.
   * @default 1
   */
  times?: number;
}

/** Options of {@link FaultInjector.duplicateCalls}. */
export interface DuplicateCallsOptions extends FaultScope {
  /**
   * How many calls to deliver twice.
   * @default 1
   */
  times?: number;
}

/** Options of {@link FaultInjector.delayCalls}. */
export interface DelayCallsOptions extends FaultScope {
  /** How long to hold each call before sending it, in real milliseconds. */
  delayMs: number;
  /**
   * How many calls to delay.
   * @default Infinity
   */
  times?: number;
}

/** Options of {@link RealtimeFaultInjector.failPublishes}. */
export interface FailRealtimePublishesOptions {
  /** Only publishes to this channel fail; every channel when absent. */
  channel?: string;
  /** Only publishes to this topic fail; every topic when absent. */
  topic?: string;
  /**
   * How many publishes to fail.
   * @default 1
   */
  times?: number;
}

/** A fault that is armed; `triggered` proves it happened. */
export interface InjectedFault {
  /** How many times the fault has taken effect. */
  readonly triggered: number;
  /** Disarms the fault. */
  remove(): void;
}

interface Rule<Options> {
  options: Options;
  remaining: number;
  triggered: number;
}

/**
 * Faults injected into the engine's calls to apps, for tests: a crash after a named step (the
 * step ran, its result never arrives, so the next attempt runs it again), a call delivered twice,
 * a call delayed.
 */
export class FaultInjector {
  readonly #crashes = new Set<Rule<CrashAfterStepOptions>>();
  readonly #duplicates = new Set<Rule<DuplicateCallsOptions>>();
  readonly #delays = new Set<Rule<DelayCallsOptions>>();

  /** Loses the result of the named step: the app ran it, the engine acts as if the process died. */
  crashAfterStep(options: CrashAfterStepOptions): InjectedFault {
    return arm(this.#crashes, options, options.times ?? 1);
  }

  /** Sends the next matching calls twice, concurrently, as a queue that redelivers would. */
  duplicateCalls(options: DuplicateCallsOptions = {}): InjectedFault {
    return arm(this.#duplicates, options, options.times ?? 1);
  }

  /** Holds matching calls for `delayMs` before sending them. */
  delayCalls(options: DelayCallsOptions): InjectedFault {
    return arm(this.#delays, options, options.times ?? Number.POSITIVE_INFINITY);
  }

  /** Whether a report of `step` in this run must be lost; consumes one crash when it must. */
  takeCrash(functionId: string, runId: string, step: string): boolean {
    return take(this.#crashes, functionId, runId, (options) => options.step === step) !== undefined;
  }

  /** Whether this call must be delivered twice; consumes one duplication when it must. */
  takeDuplicate(functionId: string, runId: string): boolean {
    return take(this.#duplicates, functionId, runId) !== undefined;
  }

  /** How long to hold this call, in ms; 0 when no delay applies. */
  takeDelay(functionId: string, runId: string): number {
    return take(this.#delays, functionId, runId)?.delayMs ?? 0;
  }

  /** Disarms every fault. */
  clear(): void {
    this.#crashes.clear();
    this.#duplicates.clear();
    this.#delays.clear();
  }
}

function arm<Options>(rules: Set<Rule<Options>>, options: Options, times: number): InjectedFault {
  const rule: Rule<Options> = { options, remaining: times, triggered: 0 };
  rules.add(rule);
  return {
    get triggered() {
      return rule.triggered;
    },
    remove: () => {
      rules.delete(rule);
    },
  };
}

function take<Options extends FaultScope>(
  rules: Set<Rule<Options>>,
  functionId: string,
  runId: string,
  matches: (options: Options) => boolean = () => true,
): Options | undefined {
  for (const rule of rules) {
    const { options } = rule;
    if (options.functionId !== undefined && options.functionId !== functionId) {
      continue;
    }
    if (options.runId !== undefined && options.runId !== runId) {
      continue;
    }
    if (!matches(options)) {
      continue;
    }
    rule.remaining--;
    rule.triggered++;
    if (rule.remaining <= 0) {
      rules.delete(rule);
    }
    return options;
  }
  return undefined;
}

/** Faults injected into Realtime: publishes that fail with 500 instead of being delivered. */
export class RealtimeFaultInjector {
  readonly #publishFailures = new Set<Rule<FailRealtimePublishesOptions>>();

  /** Makes the next matching publishes over HTTP answer 500, delivering nothing. */
  failPublishes(options: FailRealtimePublishesOptions = {}): InjectedFault {
    const times = options.times ?? 1;
    if (!Number.isSafeInteger(times) || times <= 0) {
      throw new RangeError(`[@mastra/inngest-dev-server] times must be a positive integer, got ${times}`);
    }
    return arm(this.#publishFailures, options, times);
  }

  /** Whether a publish to (channel, topic) must fail; consumes one failure when it must. */
  takePublishFailure(channel: string, topic: string): boolean {
    for (const rule of this.#publishFailures) {
      const { options } = rule;
      if (
        (options.channel !== undefined && options.channel !== channel) ||
        (options.topic !== undefined && options.topic !== topic)
      ) {
        continue;
      }
      rule.remaining--;
      rule.triggered++;
      if (rule.remaining <= 0) {
        this.#publishFailures.delete(rule);
      }
      return true;
    }
    return false;
  }

  /** Disarms every Realtime fault. */
  clear(): void {
    this.#publishFailures.clear();
  }
}
