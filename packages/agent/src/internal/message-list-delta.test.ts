import { describe, expect, it } from "vitest";
import { applyMessageListDelta, diffMessageList } from "./message-list-delta.ts";

const message = (id: string, text: string) => ({ id, role: "user", content: { parts: [{ type: "text", text }] } });

const base = {
  messages: [message("a", "one"), message("b", "two")],
  systemMessages: [{ role: "system", content: "Be brief." }],
  newResponseMessages: ["b"],
  memoryInfo: null,
};

describe("message list deltas", () => {
  it("carries only new and changed messages, and the new tail of growing id lists", () => {
    const next = {
      ...base,
      messages: [message("a", "one"), message("b", "two, edited"), message("c", "three")],
      newResponseMessages: ["b", "c"],
    };
    const delta = diffMessageList(base, next);
    expect(delta).toEqual({
      messages: {
        messages: {
          removed: [],
          upserts: [message("c", "three")],
          patches: [
            {
              id: "b",
              patch: {
                fields: {
                  content: { fields: { parts: { items: { 0: { fields: { text: { set: "two, edited" } } } } } } },
                },
              },
            },
          ],
        },
      },
      newResponseMessages: { append: ["c"] },
    });
    expect(applyMessageListDelta(base, delta)).toEqual(next);
  });

  it("carries a message that grew by parts as its new parts, leaving the base's message as it was", () => {
    const grown = {
      ...message("b", "two"),
      content: { parts: [{ type: "text", text: "two" }, { type: "step-start" }, { type: "text", text: "more" }] },
    };
    const next = { ...base, messages: [message("a", "one"), grown] };
    const delta = diffMessageList(base, next);
    expect(delta.messages).toEqual({
      messages: {
        removed: [],
        upserts: [],
        patches: [
          {
            id: "b",
            patch: {
              fields: {
                content: {
                  fields: { parts: { items: {}, append: [{ type: "step-start" }, { type: "text", text: "more" }] } },
                },
              },
            },
          },
        ],
      },
    });
    const before = structuredClone(base);
    expect(applyMessageListDelta(base, delta)).toEqual(next);
    expect(base).toEqual(before);
  });

  it("is empty when nothing changed", () => {
    expect(diffMessageList(base, structuredClone(base))).toEqual({});
    expect(applyMessageListDelta(base, {})).toEqual(base);
  });

  it("rebuilds removals, reordering, replaced and removed fields", () => {
    const next = {
      messages: [message("c", "three"), message("a", "one")],
      systemMessages: [{ role: "system", content: "Be verbose." }],
      newResponseMessages: ["c"],
      memoryInfo: { threadId: "t" },
    };
    const delta = diffMessageList(base, next);
    expect(delta.messages).toEqual({
      messages: { removed: ["b"], upserts: [message("c", "three")], order: ["c", "a"] },
    });
    expect(applyMessageListDelta(base, delta)).toEqual(next);
  });

  it("compares in JSON form, as a replay reads the memo back", () => {
    const createdAt = new Date("2026-01-01T00:00:00.000Z");
    const next = { ...base, messages: [...base.messages, { ...message("c", "three"), createdAt }] };
    const rebuilt = applyMessageListDelta(base, diffMessageList(base, next));
    expect(rebuilt).toEqual(JSON.parse(JSON.stringify(next)));
  });

  it("sends a messages field whole when ids do not identify its messages", () => {
    const withoutIds = { messages: [{ role: "user" }] };
    const next = { messages: [{ role: "user" }, { role: "assistant" }] };
    const delta = diffMessageList(withoutIds, next);
    expect(delta.messages).toEqual({ append: [{ role: "assistant" }] });
    expect(applyMessageListDelta(withoutIds, delta)).toEqual(next);
  });

  it("rebuilds what an earlier delta built, step after step", () => {
    let state: unknown = base;
    const history: unknown[] = [];
    for (let turn = 0; turn < 5; turn++) {
      const current = state as typeof base;
      const next = {
        ...current,
        messages: [...current.messages, message(`m${turn}`, `turn ${turn}`)],
        newResponseMessages: [...current.newResponseMessages, `m${turn}`],
      };
      const delta = diffMessageList(state, next);
      history.push(delta);
      state = applyMessageListDelta(state, delta);
      expect(state).toEqual(next);
    }
    // Each delta holds one message: the history is stored once across the steps.
    for (const delta of history) {
      expect(JSON.stringify(delta).match(/"role"/g)?.length).toBe(1);
    }
  });
});
