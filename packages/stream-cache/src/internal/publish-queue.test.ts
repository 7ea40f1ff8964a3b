import { describe, expect, it } from "vitest";
import { failedTopicLimit, PublishOwner } from "./publish-queue.ts";

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
