import { ErrorCode } from "@mastra/inngest-core";
import { describe, expect, it, vi } from "vitest";
import { createRunSubscriptionToken } from "./run-subscription-token.ts";

function v4Client() {
  return {
    apiBaseUrl: "http://127.0.0.1:8288",
    realtime: {
      publish: vi.fn(),
      subscribe: vi.fn(),
      token: vi.fn(async ({ channel, topics }: { channel: string; topics: string[] }) => ({
        channel,
        topics,
        key: "jwt-v4",
        apiBaseUrl: "http://127.0.0.1:8288",
      })),
    },
  };
}

function v3Client() {
  return {
    apiBaseUrl: "http://127.0.0.1:9000",
    realtime: {
      publish: vi.fn(),
      getSubscriptionToken: vi.fn(async ({ channel, topics }: { channel: string; topics: string[] }) => ({
        channel,
        topics,
        key: "jwt-v3",
      })),
    },
  };
}

describe("createRunSubscriptionToken", () => {
  it("mints a v4 token for the run's channel and the stream topic only", async () => {
    const client = v4Client();
    const token = await createRunSubscriptionToken(client, "run-1");
    expect(client.realtime.token).toHaveBeenCalledExactlyOnceWith({ channel: "agent:run-1", topics: ["stream"] });
    expect(token).toEqual({
      key: "jwt-v4",
      channel: "agent:run-1",
      topics: ["stream"],
      apiBaseUrl: "http://127.0.0.1:8288",
    });
  });

  it("mints a v3 token the same way, with the client's API base URL", async () => {
    const client = v3Client();
    const token = await createRunSubscriptionToken(client, "run-1");
    expect(client.realtime.getSubscriptionToken).toHaveBeenCalledExactlyOnceWith({
      channel: "agent:run-1",
      topics: ["stream"],
    });
    expect(token).toEqual({
      key: "jwt-v3",
      channel: "agent:run-1",
      topics: ["stream"],
      apiBaseUrl: "http://127.0.0.1:9000",
    });
  });

  it("uses apiBaseUrl from the options when given", async () => {
    const token = await createRunSubscriptionToken(v4Client(), "run-1", { apiBaseUrl: "https://inngest.example.com" });
    expect(token.apiBaseUrl).toBe("https://inngest.example.com");
  });

  it.each(["", "a b", "run*", "{run}", "x".repeat(129)])(
    "rejects the run id %j with INVALID_ID before any network call",
    async (runId) => {
      const client = v4Client();
      await expect(createRunSubscriptionToken(client, runId)).rejects.toMatchObject({
        code: ErrorCode.INVALID_ID,
        message: expect.stringContaining("runId must match"),
      });
      expect(client.realtime.token).not.toHaveBeenCalled();
    },
  );

  it("rejects a bad apiBaseUrl and a bad client with INVALID_OPTION before any network call", async () => {
    const client = v4Client();
    await expect(createRunSubscriptionToken(client, "run-1", { apiBaseUrl: "ftp://x" })).rejects.toMatchObject({
      code: ErrorCode.INVALID_OPTION,
      message: expect.stringContaining("apiBaseUrl must be"),
    });
    await expect(createRunSubscriptionToken({ realtime: {} }, "run-1")).rejects.toMatchObject({
      code: ErrorCode.INVALID_OPTION,
      message: expect.stringContaining("inngest must be"),
    });
    expect(client.realtime.token).not.toHaveBeenCalled();
  });

  it("rejects with TRANSPORT_CLOSED when Inngest returns no key", async () => {
    const client = v4Client();
    client.realtime.token.mockResolvedValueOnce({
      channel: "agent:run-1",
      topics: ["stream"],
      key: "",
      apiBaseUrl: "",
    });
    await expect(createRunSubscriptionToken(client, "run-1")).rejects.toMatchObject({
      code: ErrorCode.TRANSPORT_CLOSED,
    });
  });
});
