import type { AnyAgent } from "../inngest-agent-options.ts";

/**
 * The durable agent as one object: its own members first, every other member the wrapped agent's
 * (methods bound to it), so `generate()`, `listTools()`, `getMemory()` and the rest work as on
 * the agent itself, and `in` answers for both.
 */
export function forwardToAgent<TMembers extends object>(members: TMembers, agent: AnyAgent): TMembers {
  return new Proxy(members, {
    get(object, property, receiver) {
      if (property in object) {
        return Reflect.get(object, property, receiver);
      }
      const value: unknown = Reflect.get(agent, property);
      return typeof value === "function" ? value.bind(agent) : value;
    },
    has(object, property) {
      return property in object || property in agent;
    },
  });
}
