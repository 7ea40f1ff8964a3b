// The critical path of one agent run, caller and worker in this process (one clock): when the
// caller called stream(), sent the event, the engine received it and started the run, each HTTP
// call between engine and app, each step's start and end, each publish and flush, each send to
// the transport, and the caller's first and last chunk.
import { type Event, type EventCallback, PubSub } from "@mastra/core/events";
import { Mastra } from "@mastra/core/mastra";
import type { MastraModelOutput } from "@mastra/core/stream";
import { createInngestAgent } from "@mastra/inngest-agent";
import type { DevServer } from "@mastra/inngest-dev-server";
import { InngestPubSub } from "@mastra/inngest-pubsub-realtime";
import type { CachingPubSub } from "@mastra/inngest-stream-cache";
import { silentLogger } from "@mastra/inngest-testing/helpers";
import { Inngest, Middleware } from "inngest";
import { serveFunctions } from "./systems.ts";
import { createBenchAgent, type Workload } from "./workloads.ts";

/** One span of the trace, in milliseconds since the caller called `stream()`. */
export interface TraceSpan {
  /** What happened, for example `step llm:0` or `HTTP engine → app`. */
  label: string;
  startMs: number;
  endMs: number;
}

/** The trace of one run, and the totals the breakdown is made of. */
export interface CriticalPath {
  workload: string;
  spans: TraceSpan[];
  /** Milliseconds from `stream()` to the last chunk. */
  wallMs: number;
}

/** Now on the epoch clock, with sub-millisecond resolution, as the dev server's `Date.now()` stamps. */
const now = () => performance.timeOrigin + performance.now();

/** Collects the spans of the run being traced; one run at a time. */
class Recorder {
  origin = now();
  spans: TraceSpan[] = [];

  reset(): void {
    this.origin = now();
    this.spans = [];
  }

  /** Records a span from `start` (epoch ms) to now. */
  end(label: string, start: number): void {
    this.spans.push({ label, startMs: start - this.origin, endMs: now() - this.origin });
  }

  /** Records an instant. */
  mark(label: string, at = now()): void {
    this.spans.push({ label, startMs: at - this.origin, endMs: at - this.origin });
  }

  /**
   * Records an instant the engine stamped with `Date.now()`: the wall clock can stand apart from
   * `performance.timeOrigin` by a millisecond or more, so it is moved by the gap measured now.
   */
  markWallClock(label: string, epochMs: number): void {
    this.mark(label, epochMs - (Date.now() - now()));
  }

  /** Times `work` as a span named `label`. */
  async time<T>(label: string, work: () => Promise<T>): Promise<T> {
    const start = now();
    try {
      return await work();
    } finally {
      this.end(label, start);
    }
  }
}

/** Inngest middleware recording the requests the engine makes, each step's handler and each send. */
function tracingMiddleware(recorder: Recorder): Middleware.Class {
  return class TracingMiddleware extends Middleware.BaseMiddleware {
    readonly id = "bench-critical-path";
    override wrapRequest(args: Middleware.WrapRequestArgs) {
      return recorder.time("HTTP engine → app (serve call)", () => args.next() as Promise<Middleware.Response>);
    }
    override wrapStepHandler(args: Middleware.WrapStepHandlerArgs) {
      return recorder.time(`step ${args.stepInfo.options.id}`, () => args.next());
    }
    override wrapSendEvent(args: Middleware.WrapSendEventArgs) {
      return recorder.time("send the run event (caller → engine)", () => args.next());
    }
  };
}

/** The transport, recording each send and each delivery to this process's subscribers. */
class TracingPubSub extends PubSub {
  readonly #inner: PubSub;
  readonly #recorder: Recorder;
  readonly #wrapped = new Map<EventCallback, EventCallback>();

  constructor(inner: PubSub, recorder: Recorder) {
    super();
    this.#inner = inner;
    this.#recorder = recorder;
  }

  override publish(topic: string, event: Omit<Event, "id" | "createdAt">): Promise<void> {
    return this.#recorder.time("transport publish (Realtime HTTP)", () => this.#inner.publish(topic, event));
  }

  override subscribe(topic: string, callback: EventCallback, options?: never): Promise<void> {
    const wrapped: EventCallback = (event, ack) => {
      this.#recorder.mark("transport delivery to a subscriber");
      return callback(event, ack);
    };
    this.#wrapped.set(callback, wrapped);
    return this.#recorder.time("transport subscribe", () => this.#inner.subscribe(topic, wrapped, options));
  }

  override unsubscribe(topic: string, callback: EventCallback): Promise<void> {
    return this.#inner.unsubscribe(topic, this.#wrapped.get(callback) ?? callback);
  }

  override flush(): Promise<void> {
    return this.#inner.flush();
  }

  close(): Promise<void> {
    return (this.#inner as { close?: () => Promise<void> }).close?.() ?? Promise.resolve();
  }
}

/** Records each step publisher's publishes and flushes (`CachingPubSub.createPublisher()`). */
function traceCachingPublishers(pubsub: CachingPubSub, recorder: Recorder): void {
  const create = pubsub.createPublisher.bind(pubsub);
  pubsub.createPublisher = () => {
    const publisher = create();
    return {
      publish: (topic, event, options) => {
        recorder.mark(`publish ${event.type}`);
        return publisher.publish(topic, event, options);
      },
      flush: () => recorder.time("step publisher flush", () => publisher.flush()),
    };
  };
}

/** Runs traced per workload (after one warm-up); the one of median wall time is reported. */
const tracedRuns = 5;

/**
 * Traces runs of `workload` on `engine`, caller and worker in this process, and returns the trace of
 * the run of median wall time.
 */
export async function traceCriticalPath(engine: DevServer, workload: Workload): Promise<CriticalPath> {
  const recorder = new Recorder();
  const id = `traced-${workload.toolIterations}-${workload.callsPerIteration}`;
  const inngest = new Inngest({
    id,
    isDev: true,
    baseUrl: engine.url,
    logger: silentLogger,
    middleware: [tracingMiddleware(recorder)],
    // Every HTTP call the SDK makes: checkpoint posts, Realtime publishes and tokens, event sends.
    fetch: (async (input: string | URL | Request, init?: RequestInit) => {
      const path = new URL(input instanceof Request ? input.url : String(input)).pathname;
      return recorder.time(`HTTP app → engine ${path.replace(/[0-9a-f-]{36}/g, ":id")}`, () => fetch(input, init));
    }) as typeof fetch,
  });
  const pubsub = new TracingPubSub(new InngestPubSub(inngest), recorder);
  const durable = createInngestAgent({ agent: createBenchAgent(workload, 0, id), inngest, pubsub });
  new Mastra({ agents: { [id]: durable as never }, logger: false });
  traceCachingPublishers(durable.pubsub, recorder);
  const app = await serveFunctions(inngest, durable.getInngestFunctions());
  await engine.syncApp(app.url);
  try {
    const traced: CriticalPath[] = [];
    for (let attempt = 0; attempt < 1 + tracedRuns; attempt++) {
      recorder.reset();
      const result = await durable.stream("What is the weather?", { maxSteps: 10 });
      recorder.mark("stream() returned");
      const output = result.output as MastraModelOutput<undefined>;
      let firstChunk = true;
      let firstText = true;
      for await (const chunk of output.fullStream as unknown as AsyncIterable<{ type: string }>) {
        if (firstChunk) recorder.mark(`caller's first chunk (${chunk.type})`);
        if (firstText && chunk.type === "text-delta") recorder.mark("caller's first text delta");
        if (chunk.type === "finish") recorder.mark("caller's finish chunk");
        firstChunk = false;
        firstText &&= chunk.type !== "text-delta";
      }
      const wallMs = now() - recorder.origin;
      result.cleanup();
      for (const run of engine.runs()) {
        if (run.endedAt === undefined) await engine.waitForRun(run.id);
      }
      const event = engine.events().find((candidate) => (candidate.data as { runId?: string })?.runId === result.runId);
      if (event !== undefined) {
        recorder.markWallClock("engine received the run event", event.ts);
        const run = engine.runsForEvent(String(event.id)).at(0);
        if (run !== undefined) recorder.markWallClock("engine started the run", run.startedAt);
      }
      // The first run warms up (compiles the path); it is not kept.
      if (attempt > 0) {
        traced.push({
          workload: workload.name,
          wallMs,
          spans: [...recorder.spans].sort((a, b) => a.startMs - b.startMs),
        });
      }
    }
    // The run of median wall time: one run's trace, as typical as the runs traced.
    traced.sort((a, b) => a.wallMs - b.wallMs);
    return traced[Math.floor(traced.length / 2)] as CriticalPath;
  } finally {
    await durable.pubsub.close();
    await app.close();
  }
}

/** The trace as a Markdown table: every span in start order, publishes of a step folded into one row. */
export function criticalPathTable(path: CriticalPath): string {
  const rows: string[] = [];
  let folded: { label: string; count: number; first: number; last: number } | undefined;
  const flush = () => {
    if (folded === undefined) return;
    rows.push(
      `| ${folded.count} × ${folded.label} | ${folded.first.toFixed(1)} | ${folded.last.toFixed(1)} | ${(folded.last - folded.first).toFixed(1)} |`,
    );
    folded = undefined;
  };
  for (const span of path.spans) {
    const instant = span.endMs === span.startMs;
    if (instant && folded?.label === span.label) {
      folded.count++;
      folded.last = span.startMs;
      continue;
    }
    flush();
    if (instant && (span.label.startsWith("publish") || span.label.startsWith("transport delivery"))) {
      folded = { label: span.label, count: 1, first: span.startMs, last: span.startMs };
      continue;
    }
    rows.push(
      `| ${span.label} | ${span.startMs.toFixed(1)} | ${span.endMs.toFixed(1)} | ${(span.endMs - span.startMs).toFixed(1)} |`,
    );
  }
  flush();
  return [
    `Critical path of the run of median wall time of ${tracedRuns} (after a warm-up), ${path.workload}, @mastra/inngest (checkpoint), caller and worker in one process, ${path.wallMs.toFixed(1)} ms from \`stream()\` to the finish chunk (ms since \`stream()\`; the engine's own stamps have millisecond resolution).`,
    "",
    "| what | start ms | end ms | ms |",
    "|---|---|---|---|",
    ...rows,
  ].join("\n");
}
