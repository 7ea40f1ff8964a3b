/**
 * The value as it reads back from a cache that stores JSON: Dates become ISO strings and
 * `undefined` fields disappear. Both sides of a comparison go through it, so in-memory and
 * network caches are held to the same expectation.
 */
export function toJsonValue(value: unknown): unknown {
  return value === undefined ? undefined : JSON.parse(JSON.stringify(value));
}
