import { AsyncLocalStorage } from "node:async_hooks";
import type { TripwireData } from "./core-durable/index.ts";

/**
 * What one LLM call of the loop shares with the model and the output processors core calls during
 * it: the step's processor retries and what its processors decided.
 */
export interface LLMCallScope {
  /** How many times this step was retried already: what the plain loop passes as `retryCount`. */
  retryCount: number;
  /** The run's `maxProcessorRetries`; no retry at all when absent, as in the plain loop. */
  maxRetries: number | undefined;
  /** The retry an output processor asked for during this call, if it may have one. */
  requested?: TripwireData;
  /** The tripwire an output processor ended the run with during this call (no retry, or none left). */
  stopped?: TripwireData;
}

// Core's durable LLM step resolves the model and the processors itself and gives this package no
// hook into them. The loop's LLM phase runs the step inside this scope, and the models and
// processors it hands core (through the caller's registry entry, or the durable agent a worker's
// Mastra returns) read it: inside an LLM call of the loop they do what the plain loop does,
// anywhere else they are the agent's own.
const scopes = new AsyncLocalStorage<LLMCallScope>();

/** Runs one LLM call of the loop inside its scope. */
export function runInLLMCall<T>(scope: LLMCallScope, work: () => Promise<T>): Promise<T> {
  return scopes.run(scope, work);
}

/** The scope of the LLM call of the loop this code runs in, if any. */
export function currentLLMCall(): LLMCallScope | undefined {
  return scopes.getStore();
}
