import { describe, expect, it } from "vitest";
import { endText, tokenize } from "./expression-tokenizer.ts";

function kindsAndTexts(source: string): string[] {
  return tokenize(source).map((token) => `${token.kind}:${token.text}`);
}

describe("tokenize", () => {
  it("splits member access, operators and literals, skipping whitespace, and ends with the end token", () => {
    expect(tokenize(" event.data.n >= 1.5 ")).toEqual([
      { kind: "word", text: "event", position: 1 },
      { kind: "operator", text: ".", position: 6 },
      { kind: "word", text: "data", position: 7 },
      { kind: "operator", text: ".", position: 11 },
      { kind: "word", text: "n", position: 12 },
      { kind: "operator", text: ">=", position: 14 },
      { kind: "number", text: "1.5", position: 17, value: 1.5 },
      { kind: "end", text: endText, position: 21 },
    ]);
  });

  it("reads two-character operators whole and `in` as a word", () => {
    expect(kindsAndTexts("a<=b&&c!=d||!e in[f]")).toEqual([
      "word:a",
      "operator:<=",
      "word:b",
      "operator:&&",
      "word:c",
      "operator:!=",
      "word:d",
      "operator:||",
      "operator:!",
      "word:e",
      "word:in",
      "operator:[",
      "word:f",
      "operator:]",
      `end:${endText}`,
    ]);
  });

  it.each([
    ["0x1F", 31],
    ["1e3", 1000],
    ["2.5E-1", 0.25],
    ["007", 7],
  ])("reads the number %s as %d", (source, value) => {
    expect(tokenize(source)[0]).toEqual({ kind: "number", text: source, position: 0, value });
  });

  it("decodes a string's escapes into its value and keeps the quotes in its text", () => {
    const [token] = tokenize(String.raw`'a\'b\n\x41\u00e9\101'`);
    expect(token).toEqual({ kind: "string", text: String.raw`'a\'b\n\x41\u00e9\101'`, position: 0, value: "a'b\nAéA" });
    expect(tokenize(`"it's"`)[0]?.value).toBe("it's");
  });

  it("gives only the end token for an empty or blank source", () => {
    expect(tokenize("")).toEqual([{ kind: "end", text: endText, position: 0 }]);
    expect(tokenize(" \t\n")).toEqual([{ kind: "end", text: endText, position: 3 }]);
  });

  it.each([
    ["a = 1", 2, 'unexpected character "="'],
    ["1u", 0, "malformed number"],
    ["x + 1.", 4, "malformed number"],
    ["b'bytes'", 0, "raw and bytes string literals are not supported"],
    ["'''triple'''", 0, "triple-quoted strings are not supported"],
    ["'open", 0, "unterminated string"],
    ["'line\nbreak'", 0, "unterminated string"],
    ["'\\q'", 1, 'invalid escape "\\\\q"'],
    ["'\\uD800'", 1, "escape names an invalid code point"],
  ])("rejects %j at position %i", (source, position, detail) => {
    expect(() => tokenize(source)).toThrow(
      `[@mastra/inngest-dev-server] unsupported expression syntax at position ${position} in ${JSON.stringify(source)}: ${detail}`,
    );
  });
});
