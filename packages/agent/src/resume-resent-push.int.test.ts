import { ErrorCode, MastraInngestError } from "@mastra/inngest-core";
import { RedisStreamCache } from "@mastra/inngest-stream-cache-redis";
import { afterAll, beforeAll, expect, it } from "vitest";
import type { InngestAgent } from "./inngest-agent-types.ts";
import { type BankOnRedis, startBankOnRedis } from "./test/bank-on-redis.ts";
import { readRunRecord, untilRunStatus } from "./test/run-record-reads.ts";

// The connection to Redis drops after Redis ran resume()'s push of the decision but before its
// reply arrived; the client sends the push again once reconnected, and it comes back with index
// 1 although this decision is the only one. Found by the fault suite (seed 20261206): resume()
// said DUPLICATE_RESUME for a decision that was its own and that the run applied, and the caller,
// told the call was decided by someone else, never followed the run.

// The same holds for the push that claims a run id in stream(): found by the fault suite (seed
// 20261206 on 45ee329), where a start got RUN_IN_USE for its own claim.

/** A cache whose next decision (or claim) push runs twice, as a push resent after a lost reply does. */
class ResendingCache extends RedisStreamCache {
  resendNextDecision = false;
  resendNextClaim = false;
  resent = 0;

  override async listPushIndexed(listKey: string, counterKey: string, value: Record<string, unknown>): Promise<number> {
    const decision = this.resendNextDecision && listKey.includes(":decision");
    const claim = this.resendNextClaim && listKey.endsWith(":claimants");
    if (!decision && !claim) {
      return super.listPushIndexed(listKey, counterKey, value);
    }
    this.resendNextDecision = false;
    this.resendNextClaim = false;
    await super.listPushIndexed(listKey, counterKey, value);
    this.resent++;
    return super.listPushIndexed(listKey, counterKey, value);
  }
}

let setup: BankOnRedis<ResendingCache>;
let agent: InngestAgent;
let cache: ResendingCache;

beforeAll(async () => {
  setup = await startBankOnRedis({ appId: "resume-resent-push", cache: (url) => new ResendingCache({ url }) });
  ({ agent, cache } = setup);
});

afterAll(async () => {
  await setup?.close();
});

it("a resume() whose push of the decision was sent twice is still the one that decided", async () => {
  const started = await agent.stream("Send 5", { memory: { thread: "resent", resource: "ada" } });
  expect(await started.output.finishReason).toBe("suspended");
  cache.resendNextDecision = true;
  const resumed = await agent.resume(started.runId, { approved: true }, { resourceId: "ada" });
  expect(cache.resent).toBe(1);
  expect(await resumed.output.text).toBe("Done.");
  const record = await untilRunStatus(cache, started.runId, "finished", 10_000);
  expect(record.pendingResumes).toEqual([]);
});

it("a second resume() of a decided call is still refused", async () => {
  const started = await agent.stream("Send 5", { memory: { thread: "twice", resource: "ada" } });
  expect(await started.output.finishReason).toBe("suspended");
  const [pending] = (await readRunRecord(cache, started.runId))?.pendingResumes ?? [];
  // Two decisions for the same request at once: exactly one of them decides.
  const outcomes = await Promise.allSettled([
    agent.resume(started.runId, { approved: true }, { resourceId: "ada", toolCallId: pending?.toolCallId }),
    agent.resume(started.runId, { approved: false }, { resourceId: "ada", toolCallId: pending?.toolCallId }),
  ]);
  const refused = outcomes.filter(
    (outcome) =>
      outcome.status === "rejected" && MastraInngestError.isInstance(outcome.reason, ErrorCode.DUPLICATE_RESUME),
  );
  expect(refused).toHaveLength(1);
  const winner = outcomes.find((outcome) => outcome.status === "fulfilled");
  expect(winner?.status).toBe("fulfilled");
  if (winner?.status === "fulfilled") {
    expect(await winner.value.output.finishReason).toBe("stop");
  }
});

it("a stream() whose push of the run's claim was sent twice starts its run, and the run id stays taken", async () => {
  cache.resendNextClaim = true;
  const resentBefore = cache.resent;
  const started = await agent.stream("Send 5", { runId: "claim-resent", memory: { thread: "claim", resource: "ada" } });
  expect(cache.resent).toBe(resentBefore + 1);
  expect(await started.output.finishReason).toBe("suspended");
  const again = await agent
    .stream("Send 5", { runId: "claim-resent", memory: { thread: "claim", resource: "ada" } })
    .catch((error: unknown) => error);
  expect(MastraInngestError.isInstance(again, ErrorCode.RUN_IN_USE)).toBe(true);
});
