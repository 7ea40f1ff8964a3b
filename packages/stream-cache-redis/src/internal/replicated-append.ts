import { ErrorCode, MastraInngestError } from "@mastra/inngest-core";
import type { Cluster, Redis } from "ioredis";
import type { AppendReply } from "./append-request.ts";
import { isCluster } from "./cluster.ts";

/** A connection with the append script defined on it. */
type AppendClient = (Redis | Cluster) & {
  mastraInngestAppend(...keysAndArguments: Array<string | number>): Promise<AppendReply>;
};

/** What {@link appendAndWait} waits for. */
export interface ReplicaWait {
  /** Replicas that must acknowledge the append. */
  replicas: number;
  /** How long `WAIT` waits for them, in milliseconds. */
  timeoutMs: number;
  packageName: string;
}

/** Tries after a `MOVED` reply, each after the slots were read again. */
const movedRetries = 3;

/**
 * Runs the append script and `WAIT` in one pipeline, so both reach the node that stored the
 * events, and rejects with `TRANSPORT_CLOSED` when fewer replicas than asked acknowledged it. On
 * a cluster, ioredis does not follow a `MOVED` for a pipeline whose `WAIT` succeeded (it only
 * resends pipelines of read-only commands), so a `MOVED` here makes the client read the slots
 * again and the pipeline is sent again; an `ASK` (a slot being migrated) rejects, and the stream
 * cache's retry sends it again once the slot has moved.
 */
export async function appendAndWait(
  client: AppendClient,
  keysAndArguments: Array<string | number>,
  wait: ReplicaWait,
): Promise<AppendReply> {
  for (let attempt = 0; ; attempt++) {
    const pipeline = client.pipeline() as ReturnType<Redis["pipeline"]> & {
      mastraInngestAppend(...keysAndArguments: Array<string | number>): unknown;
    };
    pipeline.mastraInngestAppend(...keysAndArguments);
    pipeline.wait(wait.replicas, wait.timeoutMs);
    const [appended, waited] = (await pipeline.exec()) ?? [];
    const appendError = appended === undefined ? new Error("no reply to the append") : appended[0];
    if (appendError instanceof Error && appendError.message.startsWith("MOVED ") && isCluster(client)) {
      if (attempt < movedRetries) {
        await new Promise<void>((resolve) => client.refreshSlotsCache(() => resolve()));
        continue;
      }
    }
    for (const error of [appendError, waited === undefined ? new Error("no reply to WAIT") : waited[0]]) {
      if (error !== null && error !== undefined) {
        throw error;
      }
    }
    const replicas = Number(waited?.[1]);
    if (replicas < wait.replicas) {
      throw new MastraInngestError(
        `[${wait.packageName}] an append reached ${replicas} of ${wait.replicas} replicas within ${wait.timeoutMs} ms ` +
          "(waitForReplicas, replicaTimeoutMs); it may be lost in a failover, so it is not reported as stored",
        { code: ErrorCode.TRANSPORT_CLOSED },
      );
    }
    return appended?.[1] as AppendReply;
  }
}
