import { parseRunTopic } from "@mastra/inngest-core";
import type { CachingPubSub } from "@mastra/inngest-stream-cache";
import type { AgentRuntime } from "./agent-runtime.ts";
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
 * through it for its `observe` route, with no caller identity): reading a run's stream topic is
 * allowed when the run has no owner, as `observe()` without identity is, and refused with
 * `RUN_FORBIDDEN` otherwise. The agent's own operations use the stream cache directly.
 */
export function guardedPubSub(runtime: AgentRuntime, target: CachingPubSub): CachingPubSub {
  return new Proxy(target, {
    get(object, property) {
      const value: unknown = Reflect.get(object, property, object);
      if (typeof value !== "function") {
        return value;
      }
      // Bound to the cache itself: its private fields are not reachable through a Proxy.
      const method = value.bind(object) as (topic: unknown, ...rest: unknown[]) => unknown;
      if (!readingMethods.has(property)) {
        return method;
      }
      return async (topic: unknown, ...rest: unknown[]) => {
        const run = typeof topic === "string" ? parseRunTopic(topic) : undefined;
        if (run?.kind === "stream") {
          await authorizeRun(runtime, run.runId, "observe", {});
        }
        return method(topic, ...rest);
      };
    },
  });
}
