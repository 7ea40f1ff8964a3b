import { readdirSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { BACKGROUND_ACKNOWLEDGEMENT } from "./worker.ts";

// The one place this package reads core's English text is the acknowledgement core's tool step
// returns for a background dispatch. Core's built code must still write it in the form the pattern
// reads; when core changes the text, this fails here, not silently in a run.
const durableEntry = fileURLToPath(import.meta.resolve("@mastra/core/agent/durable"));
const coreDist = join(dirname(durableEntry), "../..");

function builtSources(): string {
  return readdirSync(coreDist, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile() && entry.name.endsWith(".js"))
    .map((entry) => readFileSync(join(entry.parentPath, entry.name), "utf8"))
    .join("\n");
}

describe("core's background acknowledgement text", () => {
  it("is still written as the pattern reads it, for every kind of dispatch", () => {
    const sources = builtSources();
    const written = [...sources.matchAll(/Background task (\w+)\. Task ID: \$\{/g)].map((match) => match[1]);
    expect(new Set(written)).toEqual(new Set(["started", "restarted", "resumed"]));
    for (const verb of written) {
      expect(BACKGROUND_ACKNOWLEDGEMENT.test(`Background task ${verb}. Task ID: task-1. The tool`)).toBe(true);
    }
  });
});
