import { describe, expect, it } from "vitest";
import { ErrorCode } from "./error-codes.ts";
import { assertValidKeyPrefix, createKeyLayout, DEFAULT_KEY_PREFIX } from "./keys.ts";
import { MastraInngestError } from "./mastra-inngest-error.ts";

/** Redis Cluster's key slot: CRC16 (XMODEM) of the hash tag, or of the whole key without one, mod 16384. */
function keySlot(key: string): number {
  const open = key.indexOf("{");
  let hashed = key;
  if (open !== -1) {
    const close = key.indexOf("}", open + 1);
    if (close > open + 1) {
      hashed = key.slice(open + 1, close);
    }
  }
  let crc = 0;
  for (const byte of Buffer.from(hashed, "utf8")) {
    crc ^= byte << 8;
    for (let bit = 0; bit < 8; bit++) {
      crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff;
    }
  }
  return crc % 16384;
}

function allKeys(keys: ReturnType<ReturnType<typeof createKeyLayout>["run"]>): string[] {
  return [keys.record, ...Object.values(keys.stream), ...Object.values(keys.control)];
}

describe("key layout", () => {
  it("computes Redis Cluster slots as Redis does", () => {
    // Reference values from the Redis Cluster specification.
    expect(keySlot("123456789")).toBe(0x31c3 % 16384);
    expect(keySlot("{user1000}.following")).toBe(keySlot("{user1000}.followers"));
  });

  it("puts every key of one run in one Cluster slot, and other runs elsewhere", () => {
    const layout = createKeyLayout();
    for (const runId of ["run-1", "a.b:c", "0f8fad5b-d9cb-469f-a165-70867728950e"]) {
      const slots = new Set(allKeys(layout.run(runId)).map(keySlot));
      expect(slots.size).toBe(1);
    }
    expect(keySlot(layout.run("run-1").record)).not.toBe(keySlot(layout.run("run-2").record));
  });

  it("lays keys out under the prefix with the run id as hash tag", () => {
    const keys = createKeyLayout({ keyPrefix: "myapp" }).run("run-1");
    expect(keys.record).toBe("myapp:{run-1}:run");
    expect(keys.stream).toEqual({
      events: "myapp:{run-1}:agent.stream.run-1:events",
      index: "myapp:{run-1}:agent.stream.run-1:index",
      producers: "myapp:{run-1}:agent.stream.run-1:producers",
      attempts: "myapp:{run-1}:agent.stream.run-1:attempts",
    });
    expect(keys.control.events).toBe("myapp:{run-1}:agent.control.run-1:events");
  });

  it("names the run's claim and each suspension's decision keys in the run's slot", () => {
    const keys = createKeyLayout({ keyPrefix: "myapp" }).run("run-1");
    expect(keys.claim).toBe("myapp:{run-1}:run:claim");
    expect(keys.claimants).toBe("myapp:{run-1}:run:claimants");
    const decision = keys.decision("call 1/x", "2026-12-06T10:00:00.000Z");
    expect(decision.list).toMatch(/^myapp:\{run-1\}:run:decision:tc_call_1_x_[0-9a-f]{24}:2026-12-06T10:00:00\.000Z$/);
    expect(decision.claim).toBe(`${decision.list}:claim`);
    const spansEnd = keys.spansEnd("80621243e70897d2");
    expect(spansEnd).toEqual({
      list: "myapp:{run-1}:run:spans-end:80621243e70897d2",
      claim: "myapp:{run-1}:run:spans-end:80621243e70897d2:claim",
    });
    expect(keys.rootSpans).toBe("myapp:{run-1}:run:root-spans");
    expect(keySlot(decision.list)).toBe(keySlot(keys.record));
    expect(() => keys.decision("call-1", "yesterday}")).toThrow(/requestedAt must be an ISO 8601/);
  });

  it("uses the default prefix", () => {
    expect(createKeyLayout().keyPrefix).toBe(DEFAULT_KEY_PREFIX);
    expect(createKeyLayout().run("r").record.startsWith(`${DEFAULT_KEY_PREFIX}:`)).toBe(true);
  });

  it("tags a topic that is not a run topic with itself", () => {
    const layout = createKeyLayout();
    expect(layout.hashTag("agent.stream.run-1")).toBe("run-1");
    expect(layout.hashTag("custom.topic")).toBe("custom.topic");
    expect(layout.topic("custom.topic").events).toBe("mastra:inngest:{custom.topic}:custom.topic:events");
  });

  it("never gives two topics or a topic and a run record the same key", () => {
    const layout = createKeyLayout();
    const topics = ["agent.stream.a", "agent.control.a", "a", "agent.stream.a.b", "agent.stream.a:b", "run", "a:run"];
    const keys = [
      ...topics.flatMap((topic) => Object.values(layout.topic(topic))),
      ...["a", "run", "a.b"].map((runId) => layout.run(runId).record),
    ];
    expect(new Set(keys).size).toBe(keys.length);
  });

  it("rejects bad run ids and topics before building a key", () => {
    const layout = createKeyLayout();
    expect(() => layout.run("{x}")).toThrow(/runId must match/);
    expect(() => layout.topic("a*")).toThrow(/topic must match/);
  });

  it.each(["", "{app}", "my app", "a\nb", "*", `a${"b".repeat(64)}`, 5])("rejects the key prefix %j", (keyPrefix) => {
    let thrown: unknown;
    try {
      assertValidKeyPrefix(keyPrefix);
    } catch (error) {
      thrown = error;
    }
    expect(MastraInngestError.isInstance(thrown, ErrorCode.INVALID_OPTION)).toBe(true);
    expect((thrown as Error).message).toContain("keyPrefix must match");
    expect(() => createKeyLayout({ keyPrefix: keyPrefix as string })).toThrow(/keyPrefix must match/);
  });
});
