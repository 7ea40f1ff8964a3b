import type { MastraServerCache } from "@mastra/core/cache";
import type { Event } from "@mastra/core/events";
import { createKeyLayout, streamTopic } from "@mastra/inngest-core";
import type { DevServer } from "@mastra/inngest-dev-server";
import type { CachingPubSub } from "@mastra/inngest-stream-cache";
import { beforeDeadline } from "./deadline.ts";
import type { RunResult } from "./drive-run.ts";
import type { FaultLog } from "./fault-log.ts";
import { type EngineRunState, faultsThatStruck, type HangEvidence, type Readout } from "./hang-report.ts";

/** Where the evidence of a hang is read: the caller's cache, the observers' transport, the engine, the fault log. */
export interface HangSources {
  /** The cache the agent keeps its run records in. */
  cache: MastraServerCache;
  /** Reads the run's stream history. */
  observers: CachingPubSub;
  engine: DevServer;
  faults: FaultLog;
  /** How long a run may take, in ms. */
  runBoundMs: number;
}

/** How long each read of the evidence may take: it must not hang where the run did. */
const readBoundMs = 10_000;

/**
 * Gathers what is known of a run that did not end in time: what its driver saw, the run record,
 * its history, the engine's state of the run and the events it received for it, and the faults
 * that struck while it went on. Every read is bounded and reports its own failure, so the report is
 * written even while the cache does not answer.
 */
export async function collectHangEvidence(sources: HangSources, result: RunResult): Promise<HangEvidence> {
  const runId = result.plan.runId;
  const [record, history] = await Promise.all([
    readout<unknown>(sources.cache.get(createKeyLayout().run(runId).record), "the run record"),
    readout<Event[]>(sources.observers.getHistory(streamTopic(runId)), "the history"),
  ]);
  const reportedAt = Date.now();
  return {
    runId,
    startedAt: result.startedAt,
    reportedAt,
    boundMs: sources.runBoundMs,
    ...(result.waits.length === 0 ? {} : { driverWaitingFor: result.waits.join(", ") }),
    caller: {
      ended: result.callerEnded,
      chunkTypes: result.callerTypes,
      resumes: result.resumes,
      startFailures: result.startFailures,
      problems: result.problems,
      subscriptions: result.callerSubscriptions,
    },
    record,
    history,
    engine: engineState(sources.engine, runId, result.engineRunId),
    faults: faultsThatStruck(sources.faults.records(), runId, result.startedAt, reportedAt),
  };
}

async function readout<Value>(read: Promise<Value>, what: string): Promise<Readout<Value>> {
  try {
    return { value: await beforeDeadline(read, Date.now() + readBoundMs, what) };
  } catch (error) {
    return { error: error instanceof Error ? error.message : String(error) };
  }
}

function engineState(engine: DevServer, runId: string, engineRunId: string | undefined): EngineRunState | undefined {
  const ofRun = (data: unknown): boolean => (data as { runId?: unknown } | undefined)?.runId === runId;
  const run =
    engineRunId === undefined
      ? engine.runs().find((candidate) => ofRun(candidate.event.data))
      : engine.run(engineRunId);
  if (run === undefined) {
    return undefined;
  }
  return {
    id: run.id,
    status: run.status,
    blockedOn: run.blockedOn,
    steps: run.steps,
    events: engine
      .events()
      .filter((event) => ofRun(event.data))
      .map((event) => ({ name: event.name, ts: event.ts })),
  };
}
