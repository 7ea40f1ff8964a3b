import { InMemoryServerCache } from "@mastra/core/cache";
import { describe, expect, it } from "vitest";
import {
  getNotificationChannel,
  getStreamCacheCapabilities,
  type IndexedAppendOutcome,
  type IndexedAppendRequest,
  supportsIndexedAppend,
} from "./cache-capabilities.ts";

class DeclaringCache extends InMemoryServerCache {
  readonly streamCacheCapabilities = { crossProcess: true, indexedAppend: true };
  async appendIndexed(request: IndexedAppendRequest): Promise<IndexedAppendOutcome[]> {
    return request.entries.map((_entry, index) => ({ status: "appended", index }));
  }
  async retain(): Promise<void> {}
}

class ClaimingWithoutMethod extends InMemoryServerCache {
  readonly streamCacheCapabilities = { crossProcess: false, indexedAppend: true };
}

describe("stream cache capabilities", () => {
  it("are none for a plain MastraServerCache, such as @mastra/core's in-memory one", () => {
    const cache = new InMemoryServerCache();
    expect(getStreamCacheCapabilities(cache)).toEqual({ crossProcess: false, indexedAppend: false, notifies: false });
    expect(supportsIndexedAppend(cache)).toBe(false);
  });

  it("are read from what a cache declares", () => {
    const cache = new DeclaringCache();
    expect(getStreamCacheCapabilities(cache)).toEqual({ crossProcess: true, indexedAppend: true, notifies: false });
    expect(supportsIndexedAppend(cache)).toBe(true);
  });

  it("do not include indexed append when the method is missing, whatever is declared", () => {
    expect(supportsIndexedAppend(new ClaimingWithoutMethod())).toBe(false);
  });
});

class NotifyingCache extends DeclaringCache {
  override readonly streamCacheCapabilities = { crossProcess: true, indexedAppend: true, notifies: true };
}

describe("getNotificationChannel", () => {
  const pubsub = { notificationChannel: (topic: string) => `channel:${topic}` };

  it("asks the PubSub for a channel when the cache can notify", () => {
    expect(getNotificationChannel(pubsub, new NotifyingCache(), "agent.stream.r")).toBe("channel:agent.stream.r");
  });

  it("gives none when the cache cannot notify, or the PubSub has no channel", () => {
    expect(getNotificationChannel(pubsub, new DeclaringCache(), "agent.stream.r")).toBeUndefined();
    expect(getNotificationChannel({}, new NotifyingCache(), "agent.stream.r")).toBeUndefined();
    expect(getNotificationChannel(null, new NotifyingCache(), "agent.stream.r")).toBeUndefined();
  });
});
