import { randomUUID } from "node:crypto";
import { generateId } from "@ai-sdk/provider-utils";
import { describe, expect, it } from "vitest";
import { ErrorCode } from "./error-codes.ts";
import { assertValidId, ID_PATTERN, isValidId, toSafeToolCallId } from "./ids.ts";
import { MastraInngestError } from "./mastra-inngest-error.ts";

const rejected: ReadonlyArray<readonly [string, unknown]> = [
  ["empty string", ""],
  ["129 characters", `a${"b".repeat(128)}`],
  ["a 10 KB string", "x".repeat(10_240)],
  ["glob star", "run*"],
  ["glob question mark", "run?"],
  ["glob class", "run[a]"],
  ["opening brace (cluster hash tag)", "run{x"],
  ["closing brace", "x}"],
  ["a whole hash tag", "{x}"],
  ["space", "run 1"],
  ["tab", "run\t1"],
  ["carriage return and line feed", "a\r\nb"],
  ["line feed", "a\nb"],
  ["NUL", "a\u0000b"],
  ["__proto__", "__proto__"],
  ["leading underscore", "_run"],
  ["leading dot", ".run"],
  ["leading colon", ":run"],
  ["leading dash", "-run"],
  ["path traversal", "../x"],
  ["slash", "a/b"],
  ["backslash", "a\\b"],
  ["quote", 'a"b'],
  ["non-ASCII letter", "rün"],
  ["emoji", "run🙂"],
  ["percent", "a%b"],
  ["undefined", undefined],
  ["null", null],
  ["number", 42],
  ["object", { id: "run" }],
  ["array", ["run"]],
];

const accepted: ReadonlyArray<readonly [string, string]> = [
  ["crypto.randomUUID()", randomUUID()],
  ["AI SDK generateId()", generateId()],
  ["OpenAI tool-call id", "call_Xy12Zab34Cd56Ef78Gh90Ij"],
  ["Anthropic tool-use id", "toolu_01A09q90qw90lq917835lq9"],
  ["Mistral tool-call id", "D681PevKs"],
  ["agent id", "weather-agent"],
  ["dotted and namespaced id", "tenant.a:run-1_2"],
  ["one character", "a"],
  ["128 characters", `a${"b".repeat(127)}`],
  ["digits only", "20261127"],
  ["constructor (a plain word; ids are never used as plain-object keys)", "constructor"],
];

describe("id validation", () => {
  it.each(rejected)("rejects %s", (_name, value) => {
    expect(isValidId(value)).toBe(false);
    let thrown: unknown;
    try {
      assertValidId("runId", value);
    } catch (error) {
      thrown = error;
    }
    expect(MastraInngestError.isInstance(thrown, ErrorCode.INVALID_ID)).toBe(true);
    const message = (thrown as Error).message;
    expect(message).toContain("runId");
    expect(message).toContain(ID_PATTERN.source);
    // The message stays one line and short, whatever the input.
    expect(message).not.toMatch(/[\r\n]/);
    expect(message.length).toBeLessThan(400);
  });

  it.each(accepted)("accepts %s", (_name, value) => {
    expect(isValidId(value)).toBe(true);
    expect(assertValidId("toolCallId", value)).toBe(value);
  });

  it("names the field and the package in the message", () => {
    expect(() => assertValidId("agentId", "a b", "@mastra/inngest-agent")).toThrow(
      /^\[@mastra\/inngest-agent\] agentId must match .*got "a b"$/,
    );
  });
});

describe("toSafeToolCallId", () => {
  it("returns a valid id unchanged", () => {
    expect(toSafeToolCallId("call_abc123")).toBe("call_abc123");
  });

  it.each(["call abc/1", "", "{tag}", "__proto__", "a\r\nb", "x".repeat(500), "🙂🙂", "functions.get_weather:0 "])(
    "maps %j to a valid, stable id",
    (original) => {
      const safe = toSafeToolCallId(original);
      expect(isValidId(safe)).toBe(true);
      expect(toSafeToolCallId(original)).toBe(safe);
      expect(safe).not.toBe(original);
    },
  );

  it("keeps different originals apart even when their readable parts match", () => {
    expect(toSafeToolCallId("a b")).not.toBe(toSafeToolCallId("a/b"));
    expect(toSafeToolCallId("a b")).toMatch(/^tc_a_b_[0-9a-f]{24}$/);
  });

  it("rejects a value that is not a string", () => {
    expect(() => toSafeToolCallId(undefined as unknown as string)).toThrow(/toolCallId must be a string/);
  });
});
