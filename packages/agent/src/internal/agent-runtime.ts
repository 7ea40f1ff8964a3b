import type { MastraServerCache } from "@mastra/core/cache";
import type { Mastra } from "@mastra/core/mastra";
import { InngestPubSub } from "@mastra/inngest-pubsub-realtime";
import { CachingPubSub, InMemoryStreamCache } from "@mastra/inngest-stream-cache";
import type { Inngest } from "inngest";
import type { AnyAgent, CreateInngestAgentOptions } from "../inngest-agent-options.ts";
import { CallerRuns } from "./caller-runs.ts";
import { loopFunctionOptions } from "./loop-flow-control.ts";
import { RunRecords } from "./run-records.ts";
import { historyRetention, type ResolvedRetention, resolveRetention } from "./run-retention.ts";
import { resolveRunTokenSecret } from "./run-tokens.ts";

/**
 * What every operation of one durable agent shares: its ids, the wrapped agent, the Inngest
 * client, the cache and PubSub (resolved on first use, since the Mastra instance that may provide
 * the cache is set after construction), the run records, and the runs whose caller is here.
 */
export class AgentRuntime {
  readonly id: string;
  readonly name: string;
  readonly agent: AnyAgent;
  readonly inngest: Inngest.Any;
  readonly records: RunRecords;
  /**
   * Runs started by this agent's `stream()` in this process: their registry entry holds the
   * caller's closures (tools per call, `stopWhen`, ...), so the loop may use them and must not
   * release the entry when the run ends here.
   */
  readonly callerRuns: CallerRuns = new CallerRuns();
  /** The idle-loop stream open per memory scope; a new one closes the previous one, as in core. */
  readonly idleStreams: Map<string, () => void> = new Map();
  readonly #options: CreateInngestAgentOptions;
  readonly #functionOptions: NonNullable<CreateInngestAgentOptions["functionOptions"]>;
  #mastra: Mastra | undefined;
  #cache: MastraServerCache | undefined;
  #pubsub: CachingPubSub | undefined;
  #retention: ResolvedRetention | undefined;

  constructor(options: CreateInngestAgentOptions, id: string, name: string) {
    this.#options = options;
    this.id = id;
    this.name = name;
    this.agent = options.agent;
    this.inngest = options.inngest;
    this.#mastra = options.mastra;
    this.#functionOptions = loopFunctionOptions(options);
    this.records = new RunRecords(
      () => this.cache(),
      () => this.retention(),
    );
  }

  /** The Mastra instance, once the agent was given one or registered with one. */
  get mastra(): Mastra | undefined {
    return this.#mastra;
  }

  /** Sets the Mastra instance, unless one is set already (the first registration wins). */
  setMastra(mastra: Mastra): void {
    this.#mastra ??= mastra;
  }

  /** The cache: the option, else the Mastra instance's, else an in-memory cache. */
  cache(): MastraServerCache {
    this.#cache ??= this.#options.cache ?? this.#mastra?.getServerCache?.() ?? new InMemoryStreamCache();
    return this.#cache;
  }

  /** How long a run's keys are kept: the option, defaulted from the cache (see run-retention.ts). */
  retention(): ResolvedRetention {
    this.#retention ??= resolveRetention(this.#options.retention, this.cache(), this.waitTimeoutMs);
    return this.#retention;
  }

  /** The stream cache over the transport (the option, else Inngest Realtime on the client). */
  pubsub(): CachingPubSub {
    this.#pubsub ??= new CachingPubSub(
      this.#options.pubsub ?? new InngestPubSub(this.inngest),
      this.cache(),
      historyRetention(this.retention()),
    );
    return this.#pubsub;
  }

  /**
   * The wrapped agent's model id and provider, for the outputs of `observe()` and `resume()`, which
   * have no preparation to read them from; none when the model needs a request context to resolve.
   */
  async modelInfo(): Promise<{ modelId?: string; provider?: string }> {
    try {
      const model = await this.agent.getModel();
      return { modelId: model.modelId, provider: model.provider };
    } catch {
      return {};
    }
  }

  /** Whether every run must have an owner. */
  get requireOwner(): boolean {
    return this.#options.requireOwner === true;
  }

  /** The secret run tokens are signed with: the option, else `MASTRA_INNGEST_RUN_TOKEN_SECRET`. */
  get runTokenSecret(): string | undefined {
    return resolveRunTokenSecret(this.#options.runTokenSecret);
  }

  /** Inngest options of the loop function, validated, with the thread's concurrency constraint. */
  get functionOptions(): NonNullable<CreateInngestAgentOptions["functionOptions"]> {
    return this.#functionOptions;
  }

  /** Whether runs on one memory thread execute one at a time. */
  get serializeThreads(): boolean {
    return this.#options.serializeThreads !== false;
  }

  /** How long a run waits for decisions, in milliseconds. */
  get waitTimeoutMs(): number {
    return this.#options.waitTimeoutMs ?? 86_400_000;
  }
}
