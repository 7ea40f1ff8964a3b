import { ErrorCode, MastraInngestError } from "@mastra/inngest-core";
import { describe, expect, it } from "vitest";
import { resolveRunTokenSecret, signRunToken, verifyRunToken } from "./run-tokens.ts";

const secret = "s".repeat(32);
const now = Date.parse("2026-12-06T10:00:00Z");
const token = signRunToken(
  secret,
  { runId: "run-1", agentId: "bank", claimId: "claim-1", scopes: ["observe", "resume"], expiresInSeconds: 60 },
  now,
);
const expected = { runId: "run-1", agentId: "bank", claimId: "claim-1", scope: "observe" } as const;

describe("run tokens", () => {
  it("verify for their run, agent and scopes until they expire", () => {
    expect(verifyRunToken(secret, token, expected, now)).toBe(true);
    expect(verifyRunToken(secret, token, { ...expected, scope: "resume" }, now + 59_000)).toBe(true);
    expect(verifyRunToken(secret, token, expected, now + 60_000)).toBe(false);
  });

  it("refuse another run, agent, scope or secret", () => {
    expect(verifyRunToken(secret, token, { ...expected, runId: "run-2" }, now)).toBe(false);
    expect(verifyRunToken(secret, token, { ...expected, agentId: "other" }, now)).toBe(false);
    // A later run of the same id has another claim.
    expect(verifyRunToken(secret, token, { ...expected, claimId: "claim-2" }, now)).toBe(false);
    expect(verifyRunToken(secret, token, { ...expected, scope: "abort" }, now)).toBe(false);
    expect(verifyRunToken("t".repeat(32), token, expected, now)).toBe(false);
    expect(verifyRunToken(undefined, token, expected, now)).toBe(false);
  });

  it("refuse a tampered or malformed token", () => {
    const [claims, signature] = token.split(".") as [string, string];
    const widened = Buffer.from(
      JSON.stringify({ ...JSON.parse(Buffer.from(claims, "base64url").toString("utf8")), run: "run-2" }),
    ).toString("base64url");
    expect(verifyRunToken(secret, `${widened}.${signature}`, { ...expected, runId: "run-2" }, now)).toBe(false);
    expect(verifyRunToken(secret, `${claims}.${signature.slice(1)}x`, expected, now)).toBe(false);
    for (const malformed of ["", "a", "a.b.c", `${claims}.`]) {
      expect(verifyRunToken(secret, malformed, expected, now)).toBe(false);
    }
  });

  it("need a secret of at least 32 bytes, valid scopes and a bounded lifetime", () => {
    const invalid = (work: () => unknown) => {
      try {
        work();
      } catch (error) {
        return MastraInngestError.isInstance(error, ErrorCode.INVALID_OPTION);
      }
      return false;
    };
    expect(invalid(() => resolveRunTokenSecret("short"))).toBe(true);
    expect(resolveRunTokenSecret(secret)).toBe(secret);
    const claims = {
      runId: "run-1",
      agentId: "bank",
      claimId: "claim-1",
      scopes: ["observe"] as const,
      expiresInSeconds: 60,
    };
    expect(invalid(() => signRunToken(secret, { ...claims, scopes: [] }))).toBe(true);
    expect(invalid(() => signRunToken(secret, { ...claims, scopes: ["delete" as never] }))).toBe(true);
    expect(invalid(() => signRunToken(secret, { ...claims, expiresInSeconds: 0 }))).toBe(true);
    expect(invalid(() => signRunToken(secret, { ...claims, expiresInSeconds: 31 * 24 * 3600 }))).toBe(true);
  });
});
