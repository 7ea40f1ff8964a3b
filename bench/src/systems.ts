import { createDurableAgent } from "@mastra/core/agent/durable";
import { Mastra } from "@mastra/core/mastra";
import type { MastraModelOutput } from "@mastra/core/stream";
import { createInngestAgent } from "@mastra/inngest-agent";
import type { DevServer } from "@mastra/inngest-dev-server";
import { type HttpTestServer, silentLogger, startHttpServer } from "@mastra/inngest-testing/helpers";
import { createInngestAgent as createPublishedInngestAgent } from "@mastra/inngest-v1";
import { Inngest, type InngestFunction } from "inngest";
import { serve } from "inngest/node";
import { type RunTiming, timeRun } from "./measure.ts";
import { startWorker } from "./worker-process.ts";
import { createBenchAgent, type Workload } from "./workloads.ts";

/** What the engine counted for one run; zero for systems without an engine. */
export interface EngineFigures {
  /** Steps the SDK reported as executed. */
  stepsExecuted: number;
  /** Engine calls to the app plus checkpoint posts from the app. */
  httpCalls: number;
  /** Realtime publishes. */
  publishes: number;
  /** Bytes of step state memoized. */
  memoizedBytes: number;
  /** Engine CPU time, in milliseconds. */
  engineCpuMs: number;
  /** CPU time of the worker process, in milliseconds; 0 when the steps run in the caller's process. */
  workerCpuMs: number;
}

/** One measured run. */
export interface RunFigures extends RunTiming, EngineFigures {}

/** A system prepared for one workload. */
export interface PreparedSystem {
  /** Runs the workload once and measures it. */
  run(): Promise<RunFigures>;
  /** Releases what the system holds. */
  close(): Promise<void>;
}

/** A system under test. */
export interface BenchSystem {
  /** Its label in tables. */
  name: string;
  /** Builds it for a workload and model delay. */
  prepare(workload: Workload, delayMs: number): Promise<PreparedSystem>;
}

const noEngine: EngineFigures = {
  stepsExecuted: 0,
  httpCalls: 0,
  publishes: 0,
  memoizedBytes: 0,
  engineCpuMs: 0,
  workerCpuMs: 0,
};
// Every system gets the same cap: the 5-iteration workload needs 6 LLM calls, over the default 5.
const streamOptions = { maxSteps: 10 };

/** The plain agent's in-process `stream()`: no durability, the floor. */
export const plainSystem: BenchSystem = {
  name: "plain agent.stream()",
  async prepare(workload, delayMs) {
    const agent = createBenchAgent(workload, delayMs);
    new Mastra({ agents: { bench: agent }, logger: false });
    return {
      run: async () => ({
        ...(await timeRun(() => agent.stream("What is the weather?", streamOptions) as never)),
        ...noEngine,
      }),
      close: async () => {},
    };
  },
};

/** `@mastra/core`'s `createDurableAgent()`: durable steps in one process, in-memory cache. */
export const coreDurableSystem: BenchSystem = {
  name: "core createDurableAgent()",
  async prepare(workload, delayMs) {
    const durable = createDurableAgent({ agent: createBenchAgent(workload, delayMs) });
    new Mastra({ agents: { bench: durable as never }, logger: false });
    return {
      async run() {
        let cleanup = () => {};
        const timing = await timeRun(async () => {
          const result = await durable.stream("What is the weather?", streamOptions);
          cleanup = result.cleanup;
          return result.output as MastraModelOutput<undefined>;
        });
        cleanup();
        return { ...timing, ...noEngine };
      },
      close: async () => {},
    };
  },
};

/** What an Inngest-backed agent offers the benchmark. */
export interface InngestBacked {
  stream(message: string, options: typeof streamOptions): Promise<{ output: unknown; cleanup: () => void }>;
}

/** Serves `functions` with `inngest/node` on a free port; resolves to its URL and a way to close it. */
export async function serveFunctions(inngest: Inngest.Any, functions: InngestFunction.Like[]): Promise<HttpTestServer> {
  return await startHttpServer(serve({ client: inngest, functions: functions as InngestFunction.Any[] }));
}

/**
 * Syncs the app at `serveUrl` with `engine` and measures runs of `agent`: the engine's counters are
 * read once every run the stream started (parent and children) has ended.
 */
export async function prepareOnEngine(
  engine: DevServer,
  serveUrl: string,
  agent: InngestBacked,
  release: () => Promise<void>,
  workerCpuMicros: () => Promise<number> = async () => 0,
): Promise<PreparedSystem> {
  await engine.syncApp(serveUrl);
  return {
    async run() {
      const before = engine.counters();
      const workerBefore = await workerCpuMicros();
      let cleanup = () => {};
      const timing = await timeRun(async () => {
        const result = await agent.stream("What is the weather?", streamOptions);
        cleanup = result.cleanup;
        return result.output as MastraModelOutput<undefined>;
      });
      // The stream ends with the finish chunk; the engine's runs end a moment later.
      for (const run of engine.runs()) {
        if (run.endedAt === undefined) await engine.waitForRun(run.id);
      }
      const after = engine.counters();
      const workerAfter = await workerCpuMicros();
      cleanup();
      return {
        ...timing,
        stepsExecuted: after.stepsExecuted - before.stepsExecuted,
        httpCalls: after.serveCalls + after.checkpointPosts - before.serveCalls - before.checkpointPosts,
        publishes: after.realtime.publishes - before.realtime.publishes,
        memoizedBytes: after.memoizedBytes - before.memoizedBytes,
        engineCpuMs: (after.engineCpuMicros - before.engineCpuMicros) / 1000,
        workerCpuMs: (workerAfter - workerBefore) / 1000,
      };
    },
    close: release,
  };
}

/** An Inngest client of its own per workload: apps stay synced after they close. */
export function createClient(engine: DevServer, id: string): Inngest {
  return new Inngest({ id, isDev: true, baseUrl: engine.url, logger: silentLogger });
}

/** This project's `createInngestAgent()` on the dev server, caller and worker in this process. */
export function inngestSystem(engine: DevServer): BenchSystem {
  return {
    name: `@mastra/inngest (${engine.mode})`,
    async prepare(workload, delayMs) {
      // Each workload gets its own agent id, hence its own function ids and event names.
      const id = `ours-${workload.toolIterations}-${workload.callsPerIteration}-${delayMs}`;
      const inngest = createClient(engine, id);
      const durable = createInngestAgent({ agent: createBenchAgent(workload, delayMs, id), inngest });
      new Mastra({ agents: { [id]: durable as never }, logger: false });
      const app = await serveFunctions(inngest, durable.getInngestFunctions());
      return prepareOnEngine(engine, app.url, durable as never, async () => {
        await durable.pubsub.close();
        await app.close();
      });
    },
  };
}

/**
 * `@mastra/inngest@1.9.0` from npm. With `@mastra/core` 1.71 its `serve()` finds neither agent
 * function, so the functions of its durable workflows are served explicitly.
 */
export function publishedInngestSystem(engine: DevServer): BenchSystem {
  return {
    name: `@mastra/inngest@1.9.0 (${engine.mode})`,
    async prepare(workload, delayMs) {
      const id = `v1-${workload.toolIterations}-${workload.callsPerIteration}-${delayMs}`;
      const inngest = createClient(engine, id);
      const durable = createPublishedInngestAgent({
        agent: createBenchAgent(workload, delayMs, id),
        inngest: inngest as never,
      });
      new Mastra({ agents: { [id]: durable as never }, logger: false });
      const functions = durable
        .getDurableWorkflows()
        .flatMap((workflow) => (workflow as unknown as { getFunctions(): InngestFunction.Like[] }).getFunctions());
      const app = await serveFunctions(inngest, functions);
      return prepareOnEngine(engine, app.url, durable as never, () => app.close());
    },
  };
}

/**
 * This project with the worker in its own Node process, as production runs: this process only
 * sends the event and reads the stream; the worker serves the functions and executes every step.
 */
export function splitInngestSystem(engine: DevServer): BenchSystem {
  return {
    name: `@mastra/inngest split (${engine.mode})`,
    async prepare(workload, delayMs) {
      const id = `split-${workload.toolIterations}-${workload.callsPerIteration}-${delayMs}`;
      const worker = await startWorker({ engineUrl: engine.url, id, workload: workload.name, delayMs });
      const inngest = createClient(engine, id);
      const durable = createInngestAgent({ agent: createBenchAgent(workload, delayMs, id), inngest });
      new Mastra({ agents: { [id]: durable as never }, logger: false });
      const release = async () => {
        await durable.pubsub.close();
        await worker.stop();
      };
      return prepareOnEngine(engine, worker.url, durable as never, release, () => worker.cpuMicros());
    },
  };
}
