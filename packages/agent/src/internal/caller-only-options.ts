/**
 * The stream options that are closures or live objects: they work when the caller's process runs
 * the steps, and cannot reach another process. Returns their names, so a worker elsewhere can fail
 * the run with an error naming them instead of silently running without them.
 */
export function callerOnlyOptions(given: object): string[] {
  const options: Record<string, unknown> = Object.fromEntries(Object.entries(given));
  const names: string[] = [];
  for (const name of [
    "prepareStep",
    "stopWhen",
    "onIterationComplete",
    "experimental_transform",
    "experimentalTransform",
  ]) {
    if (options[name] !== undefined) {
      names.push(name);
    }
  }
  if (typeof options.requireToolApproval === "function") {
    names.push("requireToolApproval");
  }
  for (const setName of ["toolsets", "clientTools"]) {
    const set = options[setName];
    if (set !== undefined && hasFunctions(set)) {
      names.push(setName);
    }
  }
  return names;
}

function hasFunctions(value: unknown, depth = 0): boolean {
  if (typeof value === "function") {
    return true;
  }
  if (depth > 3 || typeof value !== "object" || value === null) {
    return false;
  }
  return Object.values(value).some((nested) => hasFunctions(nested, depth + 1));
}
