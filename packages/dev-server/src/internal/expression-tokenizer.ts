/** One lexical token of an expression; `position` is the 0-based index of its first character. */
export interface Token {
  readonly kind: "number" | "string" | "word" | "operator" | "end";
  /** The source text, quotes included for a string; "end of expression" for the end token. */
  readonly text: string;
  readonly position: number;
  /** The decoded value of a number or string token. */
  readonly value?: number | string;
}

/** The text of the token that closes every token list, and of the parser's own end marker. */
export const endText = "end of expression";

// Two-character operators come first so that "<=" is never read as "<" followed by "=".
const operators = "== != <= >= && || < > ! + - * / % ( ) [ ] , . ? :".split(" ");
const simpleEscapes = new Map(
  Object.entries({
    "\\": "\\",
    '"': '"',
    "'": "'",
    "`": "`",
    "?": "?",
    a: "\x07",
    b: "\b",
    f: "\f",
    n: "\n",
    r: "\r",
    t: "\t",
    v: "\v",
  }),
);
const spacePattern = /\s+/y;
const wordPattern = /[A-Za-z_][A-Za-z0-9_]*/y;
const numberPattern = /(?:0[xX][0-9a-fA-F]+|\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)(?![A-Za-z0-9_.])/y;
const malformedNumberPattern = /\d[A-Za-z0-9_.]*/y;
const codeEscapePattern = /[xX]([0-9a-fA-F]{2})|u([0-9a-fA-F]{4})|U([0-9a-fA-F]{8})|([0-3][0-7]{2})/y;

/** Builds the compile error for `source`, naming the 0-based `position` of the offending text. */
export function syntaxError(source: string, position: number, detail: string): Error {
  return new Error(
    `[@mastra/inngest-dev-server] unsupported expression syntax at position ${position} in ${JSON.stringify(source)}: ${detail}`,
  );
}

function matchAt(pattern: RegExp, source: string, index: number): RegExpExecArray | null {
  pattern.lastIndex = index;
  return pattern.exec(source);
}

/**
 * Splits `source` into tokens, ending with one `end` token. Reads CEL's decimal and hex numbers,
 * single- and double-quoted strings with CEL's escapes, words and operators; throws a
 * {@link syntaxError} for unsigned, trailing-dot, raw, bytes and triple-quoted literals.
 */
export function tokenize(source: string): Token[] {
  const tokens: Token[] = [];
  let index = 0;
  while (index < source.length) {
    const space = matchAt(spacePattern, source, index);
    const word = matchAt(wordPattern, source, index);
    const number = matchAt(numberPattern, source, index);
    const character = source[index] ?? "";
    if (space !== null) {
      index += space[0].length;
    } else if (word !== null) {
      if (source[index + word[0].length] === '"' || source[index + word[0].length] === "'") {
        throw syntaxError(source, index, "raw and bytes string literals are not supported");
      }
      tokens.push({ kind: "word", text: word[0], position: index });
      index += word[0].length;
    } else if (number !== null) {
      tokens.push({ kind: "number", text: number[0], position: index, value: Number(number[0]) });
      index += number[0].length;
    } else if (matchAt(malformedNumberPattern, source, index) !== null) {
      throw syntaxError(source, index, "malformed number (unsigned and trailing-dot numbers are not supported)");
    } else if (character === '"' || character === "'") {
      const [value, end] = readString(source, index);
      tokens.push({ kind: "string", text: source.slice(index, end), position: index, value });
      index = end;
    } else {
      const operator = operators.find((candidate) => source.startsWith(candidate, index));
      if (operator === undefined) {
        throw syntaxError(source, index, `unexpected character ${JSON.stringify(character)}`);
      }
      tokens.push({ kind: "operator", text: operator, position: index });
      index += operator.length;
    }
  }
  tokens.push({ kind: "end", text: endText, position: source.length });
  return tokens;
}

function readString(source: string, start: number): [string, number] {
  const quote = source[start] ?? "";
  if (source.startsWith(quote.repeat(3), start)) {
    throw syntaxError(source, start, "triple-quoted strings are not supported");
  }
  let value = "";
  let index = start + 1;
  for (let character = source[index]; character !== undefined && character !== "\n"; character = source[index]) {
    if (character === quote) {
      return [value, index + 1];
    }
    if (character !== "\\") {
      value += character;
      index += 1;
      continue;
    }
    const simple = simpleEscapes.get(source[index + 1] ?? "");
    const code = matchAt(codeEscapePattern, source, index + 1);
    if (simple !== undefined) {
      value += simple;
      index += 2;
    } else if (code !== null) {
      const hex = code[1] ?? code[2] ?? code[3];
      const codePoint = hex === undefined ? Number.parseInt(code[4] ?? "", 8) : Number.parseInt(hex, 16);
      if (codePoint > 0x10ffff || (codePoint >= 0xd800 && codePoint <= 0xdfff)) {
        throw syntaxError(source, index, "escape names an invalid code point");
      }
      value += String.fromCodePoint(codePoint);
      index += 1 + code[0].length;
    } else {
      throw syntaxError(source, index, `invalid escape ${JSON.stringify(source.slice(index, index + 2))}`);
    }
  }
  throw syntaxError(source, start, "unterminated string");
}
