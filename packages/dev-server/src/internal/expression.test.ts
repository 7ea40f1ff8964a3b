import { describe, expect, it } from "vitest";
import { compileExpression, matchesExpression } from "./expression.ts";

const event = { name: "app/start", data: { id: "order-1", n: 2, tags: ["a", "b"], user: { name: "Ada" } } };
const incoming = { name: "app/approve", data: { id: "order-1", n: 5, approved: true, user: "ada", amount: 12.5 } };
const variables = { event, async: incoming };

function evaluate(source: string, values: Readonly<Record<string, unknown>> = variables): unknown {
  return compileExpression(source)(values);
}

describe("expressions the SDK sends", () => {
  it.each([
    ["event.data.id == async.data.id", true],
    ["async.data.id == event.data.id", true],
    ["async.data.n > 3", true],
    ["event.data.n > 3", false],
    ["async.data.approved == true && async.data.user != null", true],
    ["event.data.function_id == 'my-app-errs'", false],
  ])("%s is %j", (source, expected) => {
    expect(matchesExpression(source, variables)).toBe(expected);
  });

  it("matches the onFailure trigger against an inngest/function.failed event", () => {
    const failed = { name: "inngest/function.failed", data: { function_id: "my-app-errs", run_id: "01J" } };
    expect(matchesExpression("event.data.function_id == 'my-app-errs'", { event: failed })).toBe(true);
  });

  it('never matches `match: "data.id"` when the id is missing on one side or both', () => {
    const withoutId = { name: "app/approve", data: { n: 5 } };
    const startedWithoutId = { name: "app/start", data: { n: 2 } };
    const cases = [
      { event, async: withoutId },
      { event: startedWithoutId, async: incoming },
      { event: startedWithoutId, async: withoutId },
      { event: startedWithoutId, async: { name: "app/approve" } },
      { event: {}, async: {} },
    ];
    for (const values of cases) {
      expect(matchesExpression("event.data.id == async.data.id", values)).toBe(false);
      expect(matchesExpression("async.data.id == event.data.id", values)).toBe(false);
    }
  });

  it("still treats `async.data.user != null` as a presence check", () => {
    expect(matchesExpression("async.data.user != null", variables)).toBe(true);
    expect(matchesExpression("async.data.user != null", { ...variables, async: { data: {} } })).toBe(false);
    expect(matchesExpression("async.data.user == null", { ...variables, async: { data: {} } })).toBe(true);
  });
});

describe("has()", () => {
  it("tests whether a member is present, a present null included", () => {
    expect(evaluate("has(event.data.user)")).toBe(true);
    expect(evaluate("has(event.data.other)")).toBe(false);
    expect(evaluate("has(event.data.other.deeper)")).toBe(false);
    expect(evaluate("has(event.data.empty)", { event: { data: { empty: null } } })).toBe(true);
    expect(evaluate('has(event.data.thread) ? "t:" + event.data.thread : "r:" + event.data.id')).toBe("r:order-1");
  });

  it("takes exactly one argument", () => {
    expect(() => compileExpression("has()")).toThrow("has() takes one argument");
    expect(() => compileExpression("has(event.data.a, event.data.b)")).toThrow("has() takes one argument");
  });
});

describe("missing members and variables", () => {
  it.each([
    // Both sides missing: an error, never true.
    ["event.data.other == async.data.other", null],
    ["event.data.other != async.data.other", null],
    ["nothing == alsoNothing", null],
    ["event.data.missing.deeper == async.data.missing.deeper", null],
    // Missing against a literal or a present value: an error, whichever the operator.
    ["event.data.missing == 1", null],
    ["event.data.missing != 1", null],
    ["1 == event.data.missing", null],
    ["event.data.missing == 'order-1'", null],
    ["event.data.missing == false", null],
    ["event.data.missing == []", null],
    ["event.data.id == async.data.missing", null],
    ["event.data.id != async.data.missing", null],
    ["event.data.missing < 1", null],
    ["event.data.missing >= 1", null],
    ["event.data.missing in [1]", null],
    ["1 in event.data.missing", null],
    ["!(event.data.missing == 1)", null],
    // Missing against null: the presence checks.
    ["event.data.missing == null", true],
    ["null == event.data.missing", true],
    ["event.data.missing != null", false],
    ["null != event.data.missing", false],
    ["event.data.missing.deeper == null", true],
    ["nothing == null", true],
    ["event.data.id != null", true],
    ["event.data.id == null", false],
    // Any other operation on a missing value is the same error.
    ["!event.data.missing", null],
    ["!!event.data.missing", null],
    ["-event.data.missing", null],
    ["size(event.data.a) == size(async.data.a)", null],
    ["event.data.a.size() == async.data.a.size()", null],
    ["event.data.a + 1 == async.data.a + 1", null],
    ["event.data.a.startsWith('x') == async.data.a.startsWith('x')", null],
    ["[event.data.a] == [async.data.a]", null],
    ["[event.data.a] == [null]", null],
    ["(event.data.a ? 1 : 2) == (async.data.a ? 1 : 2)", null],
    ["event.data[event.data.missing] == async.data[async.data.missing]", null],
    // && and || still let a decisive side win over the error.
    ["event.data.missing == 1 || true", true],
    ["true || event.data.missing == 1", true],
    ["event.data.missing == 1 && false", false],
    ["false && event.data.missing", false],
    ["event.data.missing == 1 && true", null],
    ["event.data.missing || false", null],
    ["(event.data.a && true) == (async.data.a && true)", null],
  ])("%s is %j", (source, expected) => {
    expect(evaluate(source)).toEqual(expected);
  });

  it("compares a present null as null, which a missing value equals", () => {
    const withNulls = { event: { data: { id: null } }, async: { data: { id: null } } };
    expect(evaluate("event.data.id == async.data.id", withNulls)).toBe(true);
    expect(evaluate("event.data.id == async.data.other", withNulls)).toBe(true);
    expect(evaluate("event.data.id.deeper == null", withNulls)).toBe(true);
    expect(evaluate("event.data.id.deeper == async.data.id.deeper", withNulls)).toBeNull();
  });
});

describe("literals", () => {
  it.each([
    ['"double"', "double"],
    ["'single'", "single"],
    ['"say \\"hi\\""', 'say "hi"'],
    ["'it\\'s'", "it's"],
    ['"tab\\tnew\\nline\\\\"', "tab\tnew\nline\\"],
    ['"\\x41\\u00e9\\U0001F600\\101"', "Aé😀A"],
    ['"é ünïcode"', "é ünïcode"],
    ["42", 42],
    ["3.25", 3.25],
    ["1e3", 1000],
    ["0x1F", 31],
    ["-7", -7],
    ["- -7", 7],
    ["-2.5", -2.5],
    ["true", true],
    ["false", false],
    ["null", null],
    ["[1, 'two', [3]]", [1, "two", [3]]],
    ["[1, 2,]", [1, 2]],
    ["[]", []],
  ])("%s", (source, expected) => {
    expect(evaluate(source)).toEqual(expected);
  });
});

describe("member access", () => {
  it("reads with dots, quoted keys and list indexes", () => {
    expect(evaluate("event.data.user.name")).toBe("Ada");
    expect(evaluate('event["data"]["user"].name')).toBe("Ada");
    expect(evaluate("event.data['id']")).toBe("order-1");
    expect(evaluate("event.data.tags[1]")).toBe("b");
    expect(evaluate("event.data.tags[1 - 1]")).toBe("a");
    expect(evaluate("async.data[event.data.id == 'order-1' ? 'user' : 'id']")).toBe("ada");
  });

  it("evaluates a missing member or variable to null instead of throwing", () => {
    expect(evaluate("event.data.missing")).toBeNull();
    expect(evaluate("event.data.missing.deeper.still")).toBeNull();
    expect(evaluate("nothing.at.all")).toBeNull();
    expect(evaluate("event.data.tags[5]")).toBeNull();
    expect(evaluate("event.data.tags[-1]")).toBeNull();
    expect(evaluate("event.data.tags[0.5]")).toBeNull();
    expect(evaluate("event.data.tags['0']")).toBeNull();
    expect(evaluate("event.data.id.length")).toBeNull();
    expect(evaluate("event.data.tags.length")).toBeNull();
    expect(evaluate("event.data.missing == null")).toBe(true);
    expect(evaluate("event", {})).toBeNull();
    expect(evaluate("event.data", { event: { data: undefined } })).toBeNull();
  });

  it("reads own properties only, never the prototype chain", () => {
    expect(evaluate("event.constructor")).toBeNull();
    expect(evaluate("event.__proto__")).toBeNull();
    expect(evaluate("event['__proto__']")).toBeNull();
    expect(evaluate("event.data.toString")).toBeNull();
    expect(evaluate("event.data.hasOwnProperty")).toBeNull();
    expect(evaluate("event.data.tags.map")).toBeNull();
    expect(evaluate("constructor")).toBeNull();
    expect(evaluate("toString", Object.create({ toString: "inherited" }))).toBeNull();
    expect(evaluate("'x'.constructor")).toBeNull();
  });

  it("reads an own __proto__ key that JSON.parse created, as plain data", () => {
    const parsed = JSON.parse('{"data":{"__proto__":{"admin":true}}}') as unknown;
    expect(evaluate("event.data.__proto__.admin", { event: parsed })).toBe(true);
    expect(evaluate("event.data.admin", { event: parsed })).toBeNull();
  });
});

describe("operators", () => {
  it.each([
    ["1 == 1", true],
    ["1 == 1.0", true],
    ["1 != 2", true],
    ["'a' == 'a'", true],
    ["1 == '1'", false],
    ["1 != '1'", true],
    ["null == null", true],
    ["null == false", false],
    ["[1, [2, 3]] == [1, [2, 3]]", true],
    ["[1, 2] == [2, 1]", false],
    ["async.data.n >= 5 && async.data.n <= 5", true],
    ["'apple' < 'banana'", true],
    ["'b' > 'a'", true],
    ["false < true", true],
    ["2 < 10", true],
    ["1 < '2'", false],
    ["'1' > 0", false],
    ["null < 1", false],
    ["null >= null", false],
    ["!(1 < '2')", true],
    ["!true", false],
    ["!!true", true],
    ["!null", null],
    ["1 + 2 * 3", 7],
    ["(1 + 2) * 3", 9],
    ["10 - 4 - 3", 3],
    ["7 / 2", 3.5],
    ["7 % 4", 3],
    ["1 / 0", null],
    ["1 % 0", null],
    ["'ab' + 'cd'", "abcd"],
    ["[1] + [2]", [1, 2]],
    ["1 + '1'", null],
    ["null + 1", null],
    ["-'a'", null],
    ["async.data.amount * 2 > 20", true],
    ["true ? 'yes' : 'no'", "yes"],
    ["false ? 'yes' : 'no'", "no"],
    ["null ? 'yes' : 'no'", null],
    ["false ? 1 : true ? 2 : 3", 2],
  ])("%s", (source, expected) => {
    expect(evaluate(source)).toEqual(expected);
  });

  it("compares objects and lists by value", () => {
    expect(
      evaluate("event.data.user == async.data.profile", {
        ...variables,
        async: { data: { profile: { name: "Ada" } } },
      }),
    ).toBe(true);
    expect(evaluate("event.data.tags == ['a', 'b']")).toBe(true);
    expect(evaluate("event.data.tags != ['a']")).toBe(true);
    expect(evaluate("event.data == async.data")).toBe(false);
  });

  it("follows CEL's commutative && and || so a decisive side wins over an error", () => {
    expect(evaluate("true || 1")).toBe(true);
    expect(evaluate("1 || true")).toBe(true);
    expect(evaluate("false && 1")).toBe(false);
    expect(evaluate("1 && false")).toBe(false);
    expect(evaluate("1 && true")).toBeNull();
    expect(evaluate("false || 'x'")).toBeNull();
    expect(evaluate("false || false")).toBe(false);
    expect(evaluate("true && true")).toBe(true);
    expect(evaluate("true || false && false")).toBe(true);
    expect(evaluate("(true || false) && false")).toBe(false);
  });

  it("tests membership with in", () => {
    expect(evaluate("'a' in event.data.tags")).toBe(true);
    expect(evaluate("'z' in event.data.tags")).toBe(false);
    expect(evaluate("async.data.n in [1, 5, 9]")).toBe(true);
    expect(evaluate("[1] in [[1], [2]]")).toBe(true);
    expect(evaluate("'name' in event.data.user")).toBe(true);
    expect(evaluate("'toString' in event.data.user")).toBe(false);
    expect(evaluate("'a' in 'abc'")).toBeNull();
    expect(evaluate("1 + 1 in [2]")).toBe(true);
  });
});

describe("functions", () => {
  it.each([
    ["size('héllo')", 5],
    ["size('😀')", 1],
    ["size(event.data.tags)", 2],
    ["size(event.data.user)", 1],
    ["event.data.tags.size()", 2],
    ["size(event.data.missing)", null],
    ["size(3)", null],
    ["event.name.startsWith('app/')", true],
    ["event.name.endsWith('/start')", true],
    ["event.name.contains('pp/st')", true],
    ["event.name.contains('nope')", false],
    ["event.data.missing.startsWith('a')", null],
    ["event.name.startsWith(1)", null],
    ["event.data.tags.contains('a')", null],
    ["size(event.data.tags) > 1 && event.data.user.name.startsWith('A')", true],
  ])("%s", (source, expected) => {
    expect(evaluate(source)).toEqual(expected);
  });
});

describe("compile errors", () => {
  it.each([
    ["", 0, "expected a value, found the end"],
    ["event.data.id ==", 16, "expected a value, found the end"],
    ["event.data.id = 1", 14, 'unexpected character "="'],
    ["a & b", 2, 'unexpected character "&"'],
    ["(1 + 2", 6, 'expected ")", found the end'],
    ["1 2", 2, 'expected end of expression, found "2"'],
    ["event.data.items.exists(x, x > 1)", 17, 'unsupported method "exists"'],
    ["event.name.matches('^a')", 11, 'unsupported method "matches"'],
    ["has()", 0, "has() takes one argument"],
    ["int('1')", 0, 'unsupported function "int"'],
    ["size(1, 2)", 0, "size() takes one argument"],
    ["event.name.startsWith()", 11, 'unsupported method "startsWith" with 0 arguments'],
    ["{'a': 1}", 0, 'unexpected character "{"'],
    ["1u", 0, "malformed number"],
    ["1.", 0, "malformed number"],
    ["'unterminated", 0, "unterminated string"],
    ["'bad \\q escape'", 5, 'invalid escape "\\\\q"'],
    ["r'raw'", 0, "raw and bytes string literals are not supported"],
    ['"""triple"""', 0, "triple-quoted strings are not supported"],
    ["if", 0, '"if" is a reserved word'],
    ["event.data.0", 11, "expected a member name"],
    ["event?.data", 6, 'expected a value, found "."'],
  ])("rejects %j at position %i", (source, position, detail) => {
    let thrown: unknown;
    try {
      compileExpression(source);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(Error);
    expect((thrown as Error).message).toContain(
      `[@mastra/inngest-dev-server] unsupported expression syntax at position ${position} in ${JSON.stringify(source)}: ${detail}`,
    );
  });

  it("throws from matchesExpression rather than returning false", () => {
    expect(() => matchesExpression("event.data.items.all(x, x)", variables)).toThrow(/position 17/);
  });
});

describe("cache", () => {
  it("returns the same compiled function for the same source", () => {
    expect(compileExpression("event.data.n + 1")).toBe(compileExpression("event.data.n + 1"));
  });

  it("evicts the oldest entries beyond 1,000 sources and recompiles them on demand", () => {
    const first = compileExpression("event.data.n == 0");
    for (let index = 1; index <= 1_000; index += 1) {
      compileExpression(`event.data.n == ${index}`);
    }
    const recompiled = compileExpression("event.data.n == 0");
    expect(recompiled).not.toBe(first);
    expect(recompiled({ event: { data: { n: 0 } } })).toBe(true);
    expect(compileExpression("event.data.n == 1000")).toBe(compileExpression("event.data.n == 1000"));
  });
});
