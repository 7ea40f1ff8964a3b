import type { EventCallback } from "@mastra/core/events";
import { parseRunTopic } from "@mastra/inngest-core";
import type { CachingPubSub } from "@mastra/inngest-stream-cache";
import type { AgentRuntime } from "./agent-runtime.ts";
import { currentRequestContext } from "./request-scope.ts";
import { RouteEndings } from "./route-endings.ts";
import { authorizeRun } from "./run-access.ts";

/** The methods that read a topic's events; each is checked for a run's stream topic. */
const readingMethods: ReadonlySet<PropertyKey> = new Set([
  "subscribe",
  "subscribeWithReplay",
  "subscribeFromOffset",
  "getHistory",
]);

/**
 * The agent's `pubsub` member, as code outside this package reaches it (Mastra's server subscribes
 * through it for its `observe` route, passing no caller identity): reading a run's stream topic
 * follows the owner rule of `observe()` with the request context of the server request when
 * `callerIdentityMiddleware()` set one, and with no identity otherwise (a run without owner only;
 * `RUN_FORBIDDEN` for an owned run). A subscriber sees an aborted run end (see {@link RouteEndings}).
 * The agent's own operations use the stream cache directly.
 */
export function guardedPubSub(runtime: AgentRuntime, target: CachingPubSub): CachingPubSub {
  const endings = new RouteEndings();
  // The subscriber's callback goes in place of `argument` when it is one, on a run's stream topic.
  const callbackOf = (topic: unknown, argument: unknown, swap: (callback: EventCallback) => EventCallback) =>
    typeof argument === "function" && typeof topic === "string" && parseRunTopic(topic)?.kind === "stream"
      ? swap(argument as EventCallback)
      : argument;
  return new Proxy(target, {
    get(object, property) {
      const value: unknown = Reflect.get(object, property, object);
      if (typeof value !== "function") {
        return value;
      }
      // Bound to the cache itself: its private fields are not reachable through a Proxy.
      const method = value.bind(object) as (topic: unknown, ...rest: unknown[]) => unknown;
      if (property === "unsubscribe") {
        return (topic: unknown, callback: unknown) =>
          method(
            topic,
            callbackOf(topic, callback, (given) => endings.subscribed(given)),
          );
      }
      if (!readingMethods.has(property)) {
        return method;
      }
      return async (topic: unknown, ...rest: unknown[]) => {
        const run = typeof topic === "string" ? parseRunTopic(topic) : undefined;
        if (run?.kind === "stream") {
          const requestContext = currentRequestContext();
          await authorizeRun(runtime, run.runId, "observe", requestContext === undefined ? {} : { requestContext });
        }
        return method(topic, ...rest.map((argument) => callbackOf(topic, argument, (given) => endings.wrap(given))));
      };
    },
  });
}
