import { afterEach, describe, expect, it, vi } from "vitest";
import { failedTopicLimit, PublishOwner, PublishQueue } from "./publish-queue.ts";

describe("PublishOwner", () => {
  it("keeps the first failure of a topic until taken, and reports the oldest", () => {
    const owner = new PublishOwner();
    owner.record("a", "first of a");
    owner.record("b", "first of b");
    owner.record("a", "second of a");
    expect(owner.failureOf("a")).toEqual({ error: "first of a" });
    expect(owner.take()).toEqual({ error: "first of a" });
    expect(owner.failureOf("a")).toBeUndefined();
    expect(owner.failureOf("b")).toBeUndefined();
    expect(owner.take()).toBeUndefined();
  });

  it("keeps at most failedTopicLimit topics' failures, forgetting the oldest, and forgets a topic on request", () => {
    const owner = new PublishOwner();
    for (let index = 0; index <= failedTopicLimit; index++) {
      owner.record(`topic-${index}`, index);
    }
    expect(owner.failureOf("topic-0")).toBeUndefined();
    expect(owner.failureOf("topic-1")).toEqual({ error: 1 });
    owner.forget("topic-1");
    expect(owner.failureOf("topic-1")).toBeUndefined();
    expect(owner.take()).toEqual({ error: 2 });
  });
});

/** A queue whose writes wait until the test lets them return, recording each batch. */
function controlledQueue(options: { maxBatchEvents?: number; batchWindowMs?: number; maxQueuedEvents?: number } = {}) {
  const batches: string[][] = [];
  const returns: Array<() => void> = [];
  const queue = new PublishQueue<{ topic: string; name: string }>({
    batchWindowMs: options.batchWindowMs ?? 0,
    maxBatchEvents: options.maxBatchEvents ?? 100,
    maxQueuedEvents: options.maxQueuedEvents ?? 10_000,
    write: (items) => {
      batches.push(items.map((item) => item.name));
      return new Promise((resolve) => returns.push(() => resolve(new Map())));
    },
  });
  const owner = new PublishOwner();
  const publish = (name: string, urgent = false) =>
    queue.enqueue({ item: { topic: "agent.stream.run-1", name }, owner, urgent });
  /** Lets the oldest write in flight return, then lets the queue react. */
  const returnWrite = async () => {
    returns.shift()?.();
    await settleTurns();
  };
  return { queue, batches, publish, returnWrite, inFlight: () => returns.length };
}

/** A few turns of the event loop's microtasks and immediates, no timers. */
async function settleTurns(): Promise<void> {
  for (let turn = 0; turn < 5; turn++) {
    await new Promise((resolve) => setImmediate(resolve));
  }
}

describe("PublishQueue group commit", () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it("writes a publish at once when no write is in flight, with no timer involved", async () => {
    vi.useFakeTimers({ toFake: ["setTimeout", "setInterval"] });
    const { batches, publish } = controlledQueue();
    await publish("a");
    await settleTurns();
    expect(batches).toEqual([["a"]]);
    expect(vi.getTimerCount()).toBe(0);
  });

  it("sends the publishes of one tick as one write", async () => {
    const { batches, publish } = controlledQueue();
    void publish("a");
    void publish("b");
    void publish("c");
    await settleTurns();
    expect(batches).toEqual([["a", "b", "c"]]);
  });

  it("gathers what arrives while a write is in flight and sends it as the next write when that one returns", async () => {
    const { batches, publish, returnWrite, inFlight } = controlledQueue();
    await publish("a");
    await settleTurns();
    await publish("b");
    await settleTurns();
    await publish("c");
    await publish("d");
    await settleTurns();
    // One write at a time: b, c and d wait for a's.
    expect(batches).toEqual([["a"]]);
    expect(inFlight()).toBe(1);
    await returnWrite();
    expect(batches).toEqual([["a"], ["b", "c", "d"]]);
    await returnWrite();
    expect(inFlight()).toBe(0);
  });

  it("caps a write at maxBatchEvents, the rest going in the writes after it, in order", async () => {
    const { batches, publish, returnWrite } = controlledQueue({ maxBatchEvents: 2 });
    await publish("a");
    await settleTurns();
    for (const name of ["b", "c", "d", "e", "f"]) {
      await publish(name);
    }
    await returnWrite();
    await returnWrite();
    await returnWrite();
    expect(batches).toEqual([["a"], ["b", "c"], ["d", "e"], ["f"]]);
  });

  it("resolves an urgent publish and settle() only once their events' write returned", async () => {
    const { queue, publish, returnWrite, batches } = controlledQueue();
    await publish("a");
    await settleTurns();
    let urgentDone = false;
    let settled = false;
    void publish("finish", true).then(() => {
      urgentDone = true;
    });
    void queue.settle().then(() => {
      settled = true;
    });
    await returnWrite();
    // a's write returned; finish is in the write now in flight.
    expect(batches).toEqual([["a"], ["finish"]]);
    expect([urgentDone, settled]).toEqual([false, false]);
    await returnWrite();
    expect([urgentDone, settled]).toEqual([true, true]);
  });

  it("with batchWindowMs, waits that long before a write that starts with none in flight, and an urgent publish cuts it short", async () => {
    vi.useFakeTimers({ toFake: ["setTimeout"] });
    const { batches, publish } = controlledQueue({ batchWindowMs: 50 });
    await publish("a");
    await publish("b");
    await settleTurns();
    expect(batches).toEqual([]);
    vi.advanceTimersByTime(50);
    await settleTurns();
    expect(batches).toEqual([["a", "b"]]);

    const second = controlledQueue({ batchWindowMs: 10_000 });
    await second.publish("c");
    void second.publish("finish", true);
    await settleTurns();
    expect(second.batches).toEqual([["c", "finish"]]);
  });

  it("past maxQueuedEvents, holds publishes back and lets them through in their order as writes make room", async () => {
    const { batches, publish, returnWrite } = controlledQueue({ maxQueuedEvents: 3, maxBatchEvents: 2 });
    const accepted: string[] = [];
    const publishes = ["a", "b", "c", "d", "e", "f", "g"].map((name) =>
      publish(name).then(() => {
        accepted.push(name);
      }),
    );
    await settleTurns();
    // Three accepted (the room), the rest held back; one write in flight.
    expect(accepted).toEqual(["a", "b", "c"]);
    expect(batches).toEqual([["a", "b", "c"].slice(0, 2)]);
    while (accepted.length < 7) {
      await returnWrite();
    }
    await Promise.all(publishes);
    await returnWrite();
    await returnWrite();
    expect(accepted).toEqual(["a", "b", "c", "d", "e", "f", "g"]);
    expect(batches.flat()).toEqual(["a", "b", "c", "d", "e", "f", "g"]);
  });
});
