import { describe, expect, it } from "vitest";
import { decideRunAccess } from "./run-access.ts";

const owned = { resourceId: "user-a", claimId: "claim-1" };
const unowned = { claimId: "claim-2" };

describe("decideRunAccess", () => {
  it.each([
    ["the owner reads an owned run", { claimant: owned, caller: "user-a", token: "none" }, "allowed"],
    ["another resource is refused", { claimant: owned, caller: "user-b", token: "none" }, "forbidden"],
    ["no identity learns nothing of an owned run", { claimant: owned, caller: undefined, token: "none" }, "hidden"],
    [
      "no identity learns nothing of an unknown run",
      { claimant: undefined, caller: undefined, token: "none" },
      "hidden",
    ],
    [
      "an identified caller hears of an unknown run",
      { claimant: undefined, caller: "user-b", token: "none" },
      "not-found",
    ],
    ["a valid token opens an owned run", { claimant: owned, caller: undefined, token: "valid" }, "allowed"],
    ["a valid token for an unknown run", { claimant: undefined, caller: undefined, token: "valid" }, "not-found"],
    ["an invalid token is refused", { claimant: owned, caller: "user-b", token: "invalid" }, "forbidden"],
    [
      "the owner with a stale token is still the owner",
      { claimant: owned, caller: "user-a", token: "invalid" },
      "allowed",
    ],
    ["anyone reads a run without owner", { claimant: unowned, caller: undefined, token: "none" }, "allowed"],
    ["another resource reads a run without owner", { claimant: unowned, caller: "user-b", token: "none" }, "allowed"],
  ] as const)("%s", (_name, input, expected) => {
    expect(decideRunAccess(input)).toBe(expected);
  });
});
