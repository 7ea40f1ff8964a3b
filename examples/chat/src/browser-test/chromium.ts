import { accessSync, constants } from "node:fs";
import { delimiter, join } from "node:path";
import { type Browser, chromium } from "playwright-core";

const installHint =
  "install it with `source scripts/toolchain.sh && toolchain_provision_chromium` (Debian's chromium package), " +
  "or set CHROMIUM_PATH to a Chromium or Chrome binary";

/**
 * The Chromium binary the browser tests drive: `CHROMIUM_PATH`, else `chromium` on PATH (Debian's
 * package). Throws when there is none: the tests fail with that message, they never skip.
 */
export function findChromium(environment: NodeJS.ProcessEnv = process.env): string {
  const configured = environment.CHROMIUM_PATH;
  if (configured !== undefined && configured !== "") {
    if (!isExecutable(configured)) {
      throw new Error(`CHROMIUM_PATH=${configured} is not an executable file; ${installHint}`);
    }
    return configured;
  }
  for (const directory of (environment.PATH ?? "").split(delimiter)) {
    const candidate = join(directory, "chromium");
    if (directory !== "" && isExecutable(candidate)) {
      return candidate;
    }
  }
  throw new Error(`the browser tests need Chromium, and there is no \`chromium\` on PATH; ${installHint}`);
}

/** Launches headless Chromium through playwright-core (which downloads no browser of its own). */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: findChromium(), headless: true });
}

function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}
