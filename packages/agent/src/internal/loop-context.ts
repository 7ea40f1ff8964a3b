import type { Mastra } from "@mastra/core/mastra";
import type { CachingPubSub } from "@mastra/inngest-stream-cache";
import type { Inngest } from "inngest";
import type { InngestAgentFunctionOptions } from "../inngest-agent-options.ts";
import type { CallerRuns } from "./caller-runs.ts";
import type { StepEnvironment } from "./core-durable/index.ts";
import type { RunRecords } from "./run-records.ts";
import type { StepPublisher } from "./step-publisher.ts";

/** What the loop needs from the agent that owns it, resolved when a run executes. */
export interface LoopContext {
  agentId: string;
  inngest: Inngest.Any;
  /** The run's PubSub (the stream cache over the transport). */
  pubsub(): CachingPubSub;
  /** The Mastra instance the agent is registered with, for cross-process rebuilds. */
  mastra(): Mastra | undefined;
  records: RunRecords;
  /** Whether the cache is shared across processes: only then does it know claims made elsewhere. */
  sharedCache(): boolean;
  /** Inngest flow control and retries, passed to `createFunction`. */
  functionOptions: InngestAgentFunctionOptions;
  /** How long a run waits for human decisions, in milliseconds. */
  waitTimeoutMs: number;
  /**
   * Runs whose caller is in this process (started by the same agent's `stream()`): their
   * registry entry holds the caller's closures, and stays until the caller releases it.
   */
  callerRuns: CallerRuns;
}

/** Runs `work` as the durable step `id`, publishing with producer keys, flushed before it returns. */
export type DurableStep = <Output>(
  id: string,
  work: (publisher: StepPublisher, environment: StepEnvironment) => Promise<Output>,
) => Promise<Output>;
