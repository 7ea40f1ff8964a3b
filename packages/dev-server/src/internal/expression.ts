import { endText, syntaxError, type Token, tokenize } from "./expression-tokenizer.ts";

/** A compiled expression. It reads the given variables (such as `event` and `async`) and never throws. */
export type CompiledExpression = (variables: Readonly<Record<string, unknown>>) => unknown;

const cacheLimit = 1_000;
const cache = new Map<string, CompiledExpression>();

/**
 * Compiles an Inngest expression (a trigger `if`, a `waitForEvent` `if` or `match`, a `cancelOn`
 * `if`) written in the subset of CEL that Inngest users write: member access, literals, list
 * literals, comparisons, `&&` `||` `!`, `? :`, arithmetic, `in`, `has()`, `size()`, `startsWith()`,
 * `endsWith()` and `contains()`. Numbers are JSON numbers, so `7 / 2` is 3.5. A missing member or
 * variable is CEL's "no such key" error: it equals `null` and nothing else, not even another missing
 * value, and any other operation on it is that error too, unless `&&` or `||` is decided anyway.
 * An operation on the wrong types is `null`, except `<` `<=` `>` `>=`, which are `false`; an error
 * result is `null`. Throws at compile time, naming the 0-based position, for anything outside the
 * subset. Results are cached by source, since expressions are evaluated for every incoming event.
 */
export function compileExpression(source: string): CompiledExpression {
  const cached = cache.get(source);
  if (cached !== undefined) {
    return cached;
  }
  const evaluate = new Parser(source).parse();
  const compiled: CompiledExpression = (variables) => {
    const result = evaluate(variables);
    return result === missing ? null : result;
  };
  if (cache.size >= cacheLimit) {
    const oldest = cache.keys().next();
    if (oldest.done !== true) {
      cache.delete(oldest.value);
    }
  }
  cache.set(source, compiled);
  return compiled;
}

/** Reports whether `source` evaluates to exactly `true` against `variables`; compile errors throw. */
export function matchesExpression(source: string, variables: Readonly<Record<string, unknown>>): boolean {
  return compileExpression(source)(variables) === true;
}

/** What a missing member or variable evaluates to inside an expression; callers see `null`. */
const missing: unique symbol = Symbol("missing");

const reservedWords = new Set(
  "as break const continue else for function if import let loop package namespace return var void while".split(" "),
);
const literalWords = new Map<string, boolean | null>([
  ["true", true],
  ["false", false],
  ["null", null],
]);

class Parser {
  readonly #source: string;
  readonly #tokens: Token[];
  #index = 0;

  constructor(source: string) {
    this.#source = source;
    this.#tokens = tokenize(source);
  }

  parse(): CompiledExpression {
    const evaluate = this.#conditional();
    this.#expect(endText);
    return evaluate;
  }

  #peek(): Token {
    return this.#tokens[this.#index] ?? { kind: "end", text: endText, position: this.#source.length };
  }

  #next(): Token {
    const token = this.#peek();
    this.#index += 1;
    return token;
  }

  // A string token's text keeps its quotes, so only an operator, word or the end can match.
  #accept(text: string): boolean {
    if (this.#peek().text !== text) {
      return false;
    }
    this.#index += 1;
    return true;
  }

  #expect(text: string): void {
    if (!this.#accept(text)) {
      throw this.#unexpected(`expected ${text === endText ? text : `"${text}"`}`);
    }
  }

  #unexpected(detail: string, token: Token = this.#peek()): Error {
    const found = token.kind === "end" ? "the end" : `"${token.text}"`;
    return syntaxError(this.#source, token.position, `${detail}, found ${found}`);
  }

  #conditional(): CompiledExpression {
    const condition = this.#binary();
    if (!this.#accept("?")) {
      return condition;
    }
    const whenTrue = this.#binary();
    this.#expect(":");
    const whenFalse = this.#conditional();
    return (variables) => {
      const test = condition(variables);
      return typeof test === "boolean" ? (test ? whenTrue : whenFalse)(variables) : error(test);
    };
  }

  #binary(level = 0): CompiledExpression {
    const table = precedence[level];
    if (table === undefined) {
      return this.#unary();
    }
    let left = this.#binary(level + 1);
    for (let apply = this.#operatorIn(table); apply !== undefined; apply = this.#operatorIn(table)) {
      left = binary(left, this.#binary(level + 1), apply);
    }
    return left;
  }

  #operatorIn(table: ReadonlyMap<string, Operation>): Operation | undefined {
    const apply = table.get(this.#peek().text);
    if (apply !== undefined) {
      this.#index += 1;
    }
    return apply;
  }

  #unary(): CompiledExpression {
    const apply = unaryOperations.get(this.#peek().text);
    if (apply === undefined) {
      return this.#member();
    }
    this.#index += 1;
    return unary(this.#unary(), apply);
  }

  #member(): CompiledExpression {
    let value = this.#primary();
    for (;;) {
      if (this.#accept(".")) {
        const name = this.#next();
        if (name.kind !== "word") {
          throw this.#unexpected("expected a member name", name);
        }
        if (this.#peek().text === "(") {
          value = this.#method(value, name);
        } else {
          const target = value;
          value = (variables) => readMember(target(variables), name.text);
        }
      } else if (this.#accept("[")) {
        const target = value;
        const key = this.#conditional();
        this.#expect("]");
        value = (variables) => readMember(target(variables), key(variables));
      } else {
        return value;
      }
    }
  }

  #primary(): CompiledExpression {
    const token = this.#next();
    if (token.kind === "number" || token.kind === "string") {
      const literal = token.value;
      return () => literal;
    }
    if (token.kind === "word") {
      return this.#word(token);
    }
    if (token.text === "(") {
      const inner = this.#conditional();
      this.#expect(")");
      return inner;
    }
    if (token.text === "[") {
      const items = this.#list("]");
      return (variables) => {
        const values = items.map((item) => item(variables));
        return values.includes(missing) ? missing : values;
      };
    }
    throw this.#unexpected("expected a value", token);
  }

  #word(token: Token): CompiledExpression {
    if (literalWords.has(token.text)) {
      const literal = literalWords.get(token.text);
      return () => literal;
    }
    if (reservedWords.has(token.text) || token.text === "in") {
      throw syntaxError(this.#source, token.position, `"${token.text}" is a reserved word`);
    }
    if (this.#accept("(")) {
      const [argument, ...extra] = this.#list(")");
      if (token.text === "has") {
        // CEL's presence test of a member: `has(event.data.user)`.
        if (argument === undefined || extra.length > 0) {
          throw syntaxError(this.#source, token.position, "has() takes one argument");
        }
        return (variables) => argument(variables) !== missing;
      }
      if (token.text !== "size") {
        throw syntaxError(this.#source, token.position, `unsupported function "${token.text}"`);
      }
      if (argument === undefined || extra.length > 0) {
        throw syntaxError(this.#source, token.position, "size() takes one argument");
      }
      return unary(argument, sizeOf);
    }
    const name = token.text;
    return (variables) => readMember(variables, name);
  }

  #method(receiver: CompiledExpression, name: Token): CompiledExpression {
    this.#expect("(");
    const argumentList = this.#list(")");
    if (name.text === "size" && argumentList.length === 0) {
      return unary(receiver, sizeOf);
    }
    const apply = stringMethods.get(name.text);
    const [argument] = argumentList;
    if (apply === undefined || argument === undefined || argumentList.length > 1) {
      throw syntaxError(
        this.#source,
        name.position,
        `unsupported method "${name.text}" with ${argumentList.length} arguments`,
      );
    }
    return binary(receiver, argument, (text, search) =>
      typeof text === "string" && typeof search === "string" ? apply(text, search) : null,
    );
  }

  #list(close: string): CompiledExpression[] {
    const items: CompiledExpression[] = [];
    while (!this.#accept(close)) {
      items.push(this.#conditional());
      if (!this.#accept(",")) {
        this.#expect(close);
        break;
      }
    }
    return items;
  }
}

function unary(operand: CompiledExpression, apply: (value: unknown) => unknown): CompiledExpression {
  return (variables) => {
    const value = operand(variables);
    return value === missing ? missing : apply(value);
  };
}

// An error propagates: every operation on a missing value is missing, except those in `absorbing`.
function binary(left: CompiledExpression, right: CompiledExpression, apply: Operation): CompiledExpression {
  return (variables) => {
    const a = left(variables);
    const b = right(variables);
    return (a !== missing && b !== missing) || absorbing.has(apply) ? apply(a, b) : missing;
  };
}

// Only own properties are read, so no expression can reach a prototype or `constructor`.
function readMember(target: unknown, key: unknown): unknown {
  let value: unknown;
  if (Array.isArray(target)) {
    value = typeof key === "number" && Number.isInteger(key) && key >= 0 ? target[key] : undefined;
  } else if (typeof target === "object" && target !== null && typeof key === "string" && Object.hasOwn(target, key)) {
    value = (target as Record<string, unknown>)[key];
  }
  return value === undefined ? missing : value;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b || ((a === undefined || a === null) && (b === undefined || b === null))) {
    return true;
  }
  if (Array.isArray(a) || Array.isArray(b)) {
    return (
      Array.isArray(a) &&
      Array.isArray(b) &&
      a.length === b.length &&
      a.every((item, index) => deepEqual(item, b[index]))
    );
  }
  if (!isPlainObject(a) || !isPlainObject(b)) {
    return false;
  }
  const keys = Object.keys(a);
  return (
    keys.length === Object.keys(b).length && keys.every((key) => Object.hasOwn(b, key) && deepEqual(a[key], b[key]))
  );
}

function compare(a: unknown, b: unknown, test: (order: number) => boolean): boolean {
  const sameType =
    (typeof a === "number" && typeof b === "number") ||
    (typeof a === "string" && typeof b === "string") ||
    (typeof a === "boolean" && typeof b === "boolean");
  return sameType && test((a as number) < (b as number) ? -1 : (a as number) > (b as number) ? 1 : 0);
}

function isMember(item: unknown, collection: unknown): boolean | null {
  if (Array.isArray(collection)) {
    return collection.some((element) => deepEqual(element, item));
  }
  if (isPlainObject(collection)) {
    return typeof item === "string" && Object.hasOwn(collection, item);
  }
  return null;
}

type Operation = (a: unknown, b: unknown) => unknown;

function numeric(apply: (a: number, b: number) => number | null): Operation {
  return (a, b) => (typeof a === "number" && typeof b === "number" ? apply(a, b) : null);
}

// Evaluation has no side effects, so both sides of && and || are evaluated; CEL's logical operators
// are commutative, letting a decisive side win even when the other side is an error.
const logicalOr: Operation = (a, b) =>
  a === true || b === true ? true : a === false && b === false ? false : error(a, b);
const logicalAnd: Operation = (a, b) =>
  a === false || b === false ? false : a === true && b === true ? true : error(a, b);

// The error an operation gives: missing ("no such key") if one of its operands is, otherwise null.
function error(...operands: unknown[]): unknown {
  return operands.includes(missing) ? missing : null;
}

// A missing value equals `null`, so `x == null` and `x != null` test presence, and nothing else.
function equals(a: unknown, b: unknown): unknown {
  if (a !== missing && b !== missing) {
    return deepEqual(a, b);
  }
  return a === null || b === null ? true : missing;
}

function notEquals(a: unknown, b: unknown): unknown {
  const equal = equals(a, b);
  return equal === missing ? missing : !equal;
}

const relations = new Map<string, Operation>([
  ["==", equals],
  ["!=", notEquals],
  ["<", (a, b) => compare(a, b, (order) => order < 0)],
  ["<=", (a, b) => compare(a, b, (order) => order <= 0)],
  [">", (a, b) => compare(a, b, (order) => order > 0)],
  [">=", (a, b) => compare(a, b, (order) => order >= 0)],
  ["in", isMember],
]);

const additive = new Map<string, Operation>([
  ["+", add],
  ["-", numeric((a, b) => a - b)],
]);

const multiplicative = new Map<string, Operation>([
  ["*", numeric((a, b) => a * b)],
  ["/", numeric((a, b) => (b === 0 ? null : a / b))],
  ["%", numeric((a, b) => (b === 0 ? null : a % b))],
]);

/** Binary operators from the loosest to the tightest binding, as in CEL. */
const precedence: readonly ReadonlyMap<string, Operation>[] = [
  new Map([["||", logicalOr]]),
  new Map([["&&", logicalAnd]]),
  relations,
  additive,
  multiplicative,
];

const absorbing = new Set<Operation>([logicalOr, logicalAnd, equals, notEquals]);

const unaryOperations = new Map<string, (value: unknown) => unknown>([
  ["!", (value) => (typeof value === "boolean" ? !value : null)],
  ["-", (value) => (typeof value === "number" ? -value : null)],
]);

function add(a: unknown, b: unknown): unknown {
  if (typeof a === "number" && typeof b === "number") {
    return a + b;
  }
  if (typeof a === "string" && typeof b === "string") {
    return a + b;
  }
  return Array.isArray(a) && Array.isArray(b) ? [...a, ...b] : null;
}

const stringMethods = new Map<string, (text: string, search: string) => boolean>([
  ["startsWith", (text, search) => text.startsWith(search)],
  ["endsWith", (text, search) => text.endsWith(search)],
  ["contains", (text, search) => text.includes(search)],
]);

function sizeOf(value: unknown): number | null {
  if (typeof value === "string") {
    return [...value].length;
  }
  if (Array.isArray(value)) {
    return value.length;
  }
  return isPlainObject(value) ? Object.keys(value).length : null;
}
