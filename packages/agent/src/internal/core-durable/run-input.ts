import type { DurableAgenticWorkflowInput } from "@mastra/core/agent/durable";
import type { PubSub } from "@mastra/core/events";
import type { Mastra } from "@mastra/core/mastra";
import type { RequestContext } from "@mastra/core/request-context";

/** The run input as the loop receives it: core's workflow input plus what this package adds. */
export interface RunInput extends DurableAgenticWorkflowInput {
  /** Names of per-call closures that exist only in the caller's process. */
  callerOnlyOptions?: string[];
  /** The id of the claim this input belongs to: the worker runs only the input of the claim that won. */
  claimId?: string;
  /** An input processor's tripwire, decided in the caller. */
  tripwire?: TripwireData;
}

/** An input processor's tripwire, as core's registry entry carries it. */
export interface TripwireData {
  reason?: string;
  retry?: boolean;
  metadata?: unknown;
  processorId?: string;
}

/** What a core step needs besides its input: Mastra, the request context and the step's PubSub. */
export interface StepEnvironment {
  mastra: Mastra | undefined;
  requestContext: RequestContext;
  publisher: PubSub;
}

/** The caller's registry entry fields this package reads or sets; core keeps them untyped. */
export interface CallerEntryFields {
  abortController?: AbortController;
  abortSignal?: AbortSignal;
  tripwire?: TripwireData;
  structuredOutput?: unknown;
}
