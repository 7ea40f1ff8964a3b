import { type EventCallback, PubSub } from "@mastra/core/events";
import { Mastra } from "@mastra/core/mastra";
import { ErrorCode, MastraInngestError } from "@mastra/inngest-core";
import { InngestPubSub } from "@mastra/inngest-pubsub-realtime";
import { RedisStreamCache } from "@mastra/inngest-stream-cache-redis";
import { afterAll, beforeAll, expect, it } from "vitest";
import { createInngestAgent } from "./create-inngest-agent.ts";
import type { InngestAgent } from "./inngest-agent-types.ts";
import { bank } from "./test/bank-agent.ts";
import { type BankOnRedis, startBankOnRedis } from "./test/bank-on-redis.ts";
import { untilRunStatus } from "./test/run-record-reads.ts";

// A resume() that records its decision and then cannot follow the run (here: the replica's live
// transport refuses subscriptions, as when Redis restarts under it) still signals the run, which
// goes on at once, and says that the decision is recorded and how to follow the run.

/** A live transport whose subscriptions all fail; publishing works. */
class RefusingSubscriptions extends PubSub {
  readonly #inner: PubSub;
  subscribeAttempts = 0;

  constructor(inner: PubSub) {
    super();
    this.#inner = inner;
  }

  override publish(...args: Parameters<PubSub["publish"]>): Promise<void> {
    return this.#inner.publish(...args);
  }

  override async subscribe(_topic: string, _callback: EventCallback): Promise<void> {
    this.subscribeAttempts++;
    throw new MastraInngestError("the transport is closed", { code: ErrorCode.TRANSPORT_CLOSED });
  }

  override unsubscribe(topic: string, callback: EventCallback): Promise<void> {
    return this.#inner.unsubscribe(topic, callback);
  }

  override flush(): Promise<void> {
    return this.#inner.flush();
  }
}

let setup: BankOnRedis<RedisStreamCache>;
let starter: InngestAgent;
let resumer: InngestAgent;
let refusing: RefusingSubscriptions;

beforeAll(async () => {
  setup = await startBankOnRedis({ appId: "resume-recorded" });
  starter = setup.agent;
  // A second replica of the agent on the same Redis and app, whose live transport refuses subscriptions.
  refusing = new RefusingSubscriptions(new InngestPubSub(setup.inngest));
  resumer = createInngestAgent({
    agent: bank(),
    inngest: setup.inngest,
    cache: new RedisStreamCache({ url: setup.redis.url }),
    pubsub: refusing,
  });
  new Mastra({ agents: { bank: resumer }, logger: false });
});

afterAll(async () => {
  await resumer?.pubsub.close();
  await setup?.close();
});

it("a resume() that cannot open its stream still signals the run, and says the decision is recorded", async () => {
  const { output, runId } = await starter.stream("Send 5", { memory: { thread: "t", resource: "ada" } });
  expect(await output.finishReason).toBe("suspended");

  const failed = await resumer.resume(runId, { approved: true }, { resourceId: "ada" }).catch((error) => error);
  expect(refusing.subscribeAttempts).toBeGreaterThan(0);
  expect(MastraInngestError.isInstance(failed, ErrorCode.DECISION_RECORDED)).toBe(true);
  expect((failed as MastraInngestError).status).toBe(503);
  expect(MastraInngestError.isInstance((failed as Error).cause, ErrorCode.TRANSPORT_CLOSED)).toBe(true);
  expect((failed as Error).message).toContain("is recorded and the run applies it");
  expect((failed as Error).message).toContain("observe(runId)");

  // The run went on without waiting for a later check: it ends within seconds, with the decision.
  const record = await untilRunStatus(starter.cache, runId, "finished", 15_000);
  expect(record.status).toBe("finished");
  const followed = await starter.observe(runId, { resourceId: "ada" });
  expect(await followed.output.text).toBe("Done.");
  // A second resume() of the call is refused: the decision was taken.
  const again = await starter.resume(runId, { approved: true }, { resourceId: "ada" }).catch((error) => error);
  expect(MastraInngestError.isInstance(again, [ErrorCode.RUN_NOT_SUSPENDED, ErrorCode.DUPLICATE_RESUME])).toBe(true);
}, 60_000);
