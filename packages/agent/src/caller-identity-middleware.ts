import type { RequestContext } from "@mastra/core/request-context";
import type { MiddlewareHandler } from "@mastra/core/server";
import { runInRequestScope } from "./internal/request-scope.ts";

/**
 * A middleware for Mastra's server (`server.middleware`) that lets durable agents see who calls
 * the routes that do not pass the caller on: `observe` subscribes through the agent's `pubsub`,
 * `recover` calls `recover(runId)`, both without the request context. With it, those routes apply
 * the owner rule of `observe()` with the user that Mastra's auth set on the request: the owner
 * reads its run, another user and a caller with no identity read nothing. Without it they read
 * runs without owner only.
 *
 * @example
 * const mastra = new Mastra({
 *   agents: { durableAgent },
 *   server: { auth, middleware: [callerIdentityMiddleware()] },
 * });
 */
export function callerIdentityMiddleware(): MiddlewareHandler {
  return async (context, next) => {
    // Mastra's context middleware sets this object before any user middleware runs; its auth writes
    // the user's resource into the same object later, in the route, before the handler reads it.
    const requestContext = context.get("requestContext") as RequestContext | undefined;
    if (requestContext === undefined) {
      return next();
    }
    return runInRequestScope(requestContext, next);
  };
}
