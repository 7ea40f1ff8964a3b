import { AsyncLocalStorage } from "node:async_hooks";
import type { RequestContext } from "@mastra/core/request-context";

// One store for every copy of this package in a process (the umbrella and a direct install), so a
// middleware from one copy reaches the agents of the other.
const storeKey = Symbol.for("@mastra/inngest.requestScope");
const registry = globalThis as typeof globalThis & { [storeKey]?: AsyncLocalStorage<RequestContext> };
registry[storeKey] ??= new AsyncLocalStorage();
const requestScope: AsyncLocalStorage<RequestContext> = registry[storeKey];

/** Runs `work` with `requestContext` as the request's context for every call it makes, awaited or not. */
export function runInRequestScope<T>(requestContext: RequestContext, work: () => T): T {
  return requestScope.run(requestContext, work);
}

/** The request context of the server request this code runs for, if a middleware set one. */
export function currentRequestContext(): RequestContext | undefined {
  return requestScope.getStore();
}
