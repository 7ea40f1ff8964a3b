import { randomUUID } from "node:crypto";

/**
 * A fresh namespace for one test: letters, digits and one hyphen, so it is a valid key prefix and
 * topic segment on every backend, and tests sharing a backend never see each other's data.
 */
export function createNamespace(): string {
  return `conformance-${randomUUID().replaceAll("-", "").slice(0, 16)}`;
}
