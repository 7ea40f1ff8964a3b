import { Mastra } from "@mastra/core/mastra";
import { ErrorCode, MastraInngestError } from "@mastra/inngest-core";
import { RedisStreamCache } from "@mastra/inngest-stream-cache-redis";
import { type RedisServer, startRedis } from "@mastra/inngest-testing";
import { silentLogger } from "@mastra/inngest-testing/helpers";
import { Inngest } from "inngest";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createInngestAgent } from "./create-inngest-agent.ts";
import type { InngestAgentRunAccessOptions, RunTokenScope } from "./inngest-agent-options.ts";
import type { InngestAgent } from "./inngest-agent-types.ts";
import { signRunToken } from "./internal/run-tokens.ts";
import { bank } from "./test/bank-agent.ts";
import { startTestWorld, type TestWorld } from "./test/test-world.ts";

// Two replicas of one app on one Redis: replica A starts runs (and serves the loop), replica B is
// where another caller arrives with a run id. Every operation x credential gives its outcome, and
// a refusal reads none of the run's history and sends nothing.
const secret = "a-run-token-secret-of-32-bytes!!";
const owner = "user-a";
type Operation = "observe" | "resume" | "abort" | "delete";
type Credential = "owner" | "other" | "none" | "token" | "expired" | "tampered" | "other-run" | "no-scope";

let world: TestWorld;
let redis: RedisServer;
/** Reads of the watched run's stream keys, and publishes, while `watching` is set. */
const touched: string[] = [];
let watching: string | undefined;
let monitor: Redis | undefined;
const caches: RedisStreamCache[] = [];
let replicaA: InngestAgent;
let replicaB: InngestAgent;

beforeAll(async () => {
  redis = await startRedis();
  world = await startTestWorld();
  const inngest = new Inngest({ id: "ownership", isDev: true, baseUrl: world.engine.url, logger: silentLogger });
  const replica = () => {
    const cache = new RedisStreamCache({ url: redis.url });
    caches.push(cache);
    return createInngestAgent({ agent: bank(), inngest, cache, runTokenSecret: secret });
  };
  replicaA = replica();
  replicaB = replica();
  new Mastra({ agents: { bank: replicaA }, logger: false });
  new Mastra({ agents: { bank: replicaB }, logger: false });
  await world.serve(inngest, replicaA.getInngestFunctions());
  monitor = await new Redis(redis.url).monitor();
  // Reads of the watched run's history by a caller (the worker's own appends run as a script and
  // may still land while a refused call is tried: a step is at least once).
  monitor.on("monitor", (_time: string, args: string[], source: string) => {
    const runId = watching;
    const command = args[0]?.toLowerCase() ?? "";
    const reads = ["lrange", "lindex", "llen", "get", "mget", "hget", "hgetall", "publish", "spublish"];
    if (runId !== undefined && source !== "lua" && reads.includes(command)) {
      if (command.endsWith("publish") || args.some((argument) => argument.includes(`agent.stream.${runId}`))) {
        touched.push(args.join(" "));
      }
    }
  });
}, 60_000);

afterAll(async () => {
  monitor?.disconnect();
  await replicaA?.pubsub.close();
  await replicaB?.pubsub.close();
  for (const cache of caches) {
    await cache.close();
  }
  await world?.close();
  await redis?.kill();
});

/** Starts an owned run on replica A and reads it to its approval request. */
async function suspendedRun(): Promise<string> {
  const started = await replicaA.stream("Send 5", { memory: { thread: `thread-${Math.random()}`, resource: owner } });
  for await (const _chunk of started.fullStream) {
    // The stream ends where the run waits for the approval.
  }
  expect(await started.output.finishReason).toBe("suspended");
  return started.runId;
}

/** The claim of a run, as a token carries it: read from the token the agent makes. */
async function claimIdOf(runId: string): Promise<string> {
  const made = await replicaA.createRunToken(runId, { scopes: ["observe"], expiresIn: 60 });
  const claims = JSON.parse(Buffer.from(made.split(".")[0] as string, "base64url").toString("utf8")) as {
    claim: string;
  };
  return claims.claim;
}

async function credentialFor(
  credential: Credential,
  operation: Operation,
  runId: string,
): Promise<InngestAgentRunAccessOptions> {
  const scope = (operation === "delete" ? "abort" : operation) as RunTokenScope;
  const token = (scopes: RunTokenScope[], forRun = runId) => replicaA.createRunToken(forRun, { scopes, expiresIn: 60 });
  switch (credential) {
    case "owner":
      return { resourceId: owner };
    case "other":
      return { resourceId: "user-b" };
    case "none":
      return {};
    case "token":
      return { token: await token([scope]) };
    case "expired":
      return {
        token: signRunToken(
          secret,
          { runId, agentId: "bank", claimId: await claimIdOf(runId), scopes: [scope], expiresInSeconds: 1 },
          Date.now() - 5_000,
        ),
      };
    case "tampered": {
      const valid = await token([scope]);
      return { token: `${valid.slice(0, -2)}${valid.endsWith("AA") ? "BB" : "AA"}` };
    }
    case "other-run":
      return { token: await token([scope], await suspendedRun()) };
    case "no-scope":
      return { token: await token([operation === "observe" ? "resume" : "observe"]) };
  }
}

/** Runs `operation` from replica B; resolves to what the caller gets to see. */
async function perform(operation: Operation, runId: string, access: InngestAgentRunAccessOptions): Promise<string> {
  switch (operation) {
    case "observe": {
      const observed = await replicaB.observe(runId, { offset: 0, ...access });
      return `finishReason ${await observed.output.finishReason}`;
    }
    case "resume": {
      const resumed = await replicaB.resume(runId, { approved: true }, access);
      return `text ${await resumed.output.text}`;
    }
    case "abort":
      await replicaB.abort(runId, access);
      return "aborted";
    case "delete": {
      // A run that still waits is aborted first: deleteRun() refuses a run that is going.
      await replicaB.deleteRun(runId, access).catch(async (error: unknown) => {
        if (!MastraInngestError.isInstance(error, ErrorCode.RUN_IN_USE)) {
          throw error;
        }
        await replicaB.abort(runId, access);
        await replicaB.deleteRun(runId, access);
      });
      const after = await replicaB.observe(runId, { resourceId: owner }).catch((caught: unknown) => caught);
      return `afterwards ${(after as MastraInngestError).code}`;
    }
  }
}

const allowed: Record<Operation, string> = {
  observe: "finishReason suspended",
  resume: "text Done.",
  abort: "aborted",
  delete: "afterwards RUN_NOT_FOUND",
};
const credentials: Credential[] = ["owner", "other", "none", "token", "expired", "tampered", "other-run", "no-scope"];
const cases = (["observe", "resume", "abort", "delete"] as const).flatMap((operation) =>
  credentials.map((credential) => {
    // A token never deletes: that is the owner's alone.
    const allowedHere = credential === "owner" || (credential === "token" && operation !== "delete");
    return [operation, credential, allowedHere] as const;
  }),
);

describe("run ownership across two replicas", () => {
  it.each(cases)(
    "%s with %s credentials: allowed %s",
    async (operation, credential, allowedHere) => {
      const runId = await suspendedRun();
      const access = await credentialFor(credential, operation, runId);
      if (allowedHere) {
        touched.length = 0;
        watching = runId;
        expect(await perform(operation, runId, access)).toBe(allowed[operation]);
        await new Promise((resolve) => setTimeout(resolve, 50));
        watching = undefined;
        // The watch sees an allowed read of the run's history, so an empty one below means something.
        if (operation === "observe" || operation === "resume") {
          expect(touched.length).toBeGreaterThan(0);
        }
        return;
      }
      touched.length = 0;
      watching = runId;
      const eventsBefore = world.engine.events().length;
      const error = await perform(operation, runId, access).catch((caught: unknown) => caught);
      // The monitor's feed lags the commands a little.
      await new Promise((resolve) => setTimeout(resolve, 50));
      watching = undefined;
      expect(MastraInngestError.isInstance(error, ErrorCode.RUN_FORBIDDEN), String(error)).toBe(true);
      expect(touched).toEqual([]);
      expect(world.engine.events().length).toBe(eventsBefore);
      // The run is as it was: still waiting, its history whole.
      await expect((await replicaA.observe(runId, { resourceId: owner })).output.finishReason).resolves.toBe(
        "suspended",
      );
    },
    30_000,
  );

  it("tells a caller with no identity nothing about whether an owned run exists", async () => {
    const runId = await suspendedRun();
    const [owned, unknown] = await Promise.all(
      [runId, "run-that-never-was"].map((id) => replicaB.observe(id).catch((caught: unknown) => caught as Error)),
    );
    expect((owned as MastraInngestError).code).toBe(ErrorCode.RUN_FORBIDDEN);
    expect((unknown as MastraInngestError).code).toBe(ErrorCode.RUN_FORBIDDEN);
    expect((owned as Error).message.replace(runId, "<run>")).toBe(
      (unknown as Error).message.replace("run-that-never-was", "<run>"),
    );
  });

  it("a run without owner stays readable by run id, and requireOwner refuses to start one", async () => {
    const unowned = await replicaA.stream("Send 5");
    for await (const _chunk of unowned.fullStream) {
      // To the approval request.
    }
    const observed = await replicaB.observe(unowned.runId, { offset: 0 });
    expect(await observed.output.finishReason).toBe("suspended");
    const strict = createInngestAgent({
      agent: bank(),
      inngest: replicaA.inngest,
      cache: caches[0] as RedisStreamCache,
      requireOwner: true,
    });
    const refused = await strict.stream("Send 5").catch((caught: unknown) => caught);
    expect(MastraInngestError.isInstance(refused, ErrorCode.INVALID_OPTION)).toBe(true);
    expect((refused as Error).message).toContain("requireOwner");
  });
});
