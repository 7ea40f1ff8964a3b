const overridden = new WeakSet<object>();

/**
 * `target` with one member replaced; every other member is the target's own, bound to it. A proxy
 * rather than a copy: class instances keep their private fields, and the checks core makes on
 * processors and models (`in`, `instanceof`) answer as for the target.
 */
export function overrideMember<T extends object>(target: T, member: string, replacement: unknown): T {
  const proxy = new Proxy(target, {
    get(object, property) {
      if (property === member) {
        return replacement;
      }
      const value: unknown = Reflect.get(object, property, object);
      return typeof value === "function" ? value.bind(object) : value;
    },
  });
  overridden.add(proxy);
  return proxy;
}

/** Whether `value` is a proxy {@link overrideMember} made: it is not wrapped twice. */
export function isOverridden(value: object): boolean {
  return overridden.has(value);
}
