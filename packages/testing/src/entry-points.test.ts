import { execFile } from "node:child_process";
import { dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";

const packageDirectory = dirname(dirname(fileURLToPath(import.meta.url)));

// Run outside vitest, by scripts, demos and worker processes: importing them must not load vitest,
// which would fail there or start a second runner inside a test.
const entriesUsableWithoutVitest = ["@mastra/inngest-testing", "@mastra/inngest-testing/helpers"];

/** Imports `entry` in a fresh Node process, from source, and lists every module it resolved. */
async function modulesLoadedBy(entry: string): Promise<string[]> {
  const script = `
    import { registerHooks } from "node:module";
    const resolved = [];
    registerHooks({
      resolve(specifier, context, nextResolve) {
        const result = nextResolve(specifier, context);
        resolved.push(specifier + " -> " + result.url);
        return result;
      },
    });
    await import(${JSON.stringify(entry)});
    process.stdout.write(JSON.stringify(resolved));
  `;
  const { stdout } = await promisify(execFile)(
    process.execPath,
    ["--conditions=@mastra/inngest-source", "--no-warnings", "--input-type=module", "--eval", script],
    { cwd: packageDirectory },
  );
  return JSON.parse(stdout) as string[];
}

describe("entry points usable without vitest", () => {
  it.each(entriesUsableWithoutVitest)("%s loads no module of vitest, directly or transitively", async (entry) => {
    const loaded = await modulesLoadedBy(entry);
    expect(loaded.some((line) => line.includes("/src/"))).toBe(true);
    expect(loaded.filter((line) => /(^|[/@])vitest\b/.test(line))).toEqual([]);
  });

  it("the check sees vitest where an entry does load it", async () => {
    const loaded = await modulesLoadedBy("@mastra/inngest-testing/pubsub");
    expect(loaded.filter((line) => /(^|[/@])vitest\b/.test(line))).not.toEqual([]);
  });
});
