import { accessSync, constants } from "node:fs";
import { delimiter, join } from "node:path";

/** The absolute path of `name` on PATH, or `undefined` when no executable of that name is there. */
export function findExecutable(name: string): string | undefined {
  if (name.includes("/")) {
    return isExecutable(name) ? name : undefined;
  }
  for (const directory of (process.env.PATH ?? "").split(delimiter)) {
    if (directory === "") {
      continue;
    }
    const candidate = join(directory, name);
    if (isExecutable(candidate)) {
      return candidate;
    }
  }
  return undefined;
}

function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}
