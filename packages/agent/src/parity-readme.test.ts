import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { parityAllowances } from "./test/parity/parity-allowances.ts";

// The table of differences from the plain agent.stream() (docs/differences.md, linked from the
// README) lists exactly the parity harness's allowances, with the same reasons, plus the
// differences other tests pin.
const section = readFileSync(new URL("../docs/differences.md", import.meta.url), "utf8");
const rows = new Map(
  [...section.matchAll(/^\| `([a-z-]+)` \| (.+) \|$/gm)].map((match) => [match[1] as string, match[2] as string]),
);
/** Rows pinned elsewhere: a retried step (durability.int.test.ts), forwarding. */
const pinnedElsewhere = ["retried-step", "generate"];

describe("docs/differences.md, the differences from agent.stream()", () => {
  it("lists every allowance of the parity harness with its reason", () => {
    for (const allowance of parityAllowances) {
      expect(rows.get(allowance.id), allowance.id).toBe(allowance.reason);
    }
  });

  it("lists nothing else than the allowances and the differences pinned by other tests", () => {
    expect([...rows.keys()].sort()).toEqual([...parityAllowances.map(({ id }) => id), ...pinnedElsewhere].sort());
  });
});
