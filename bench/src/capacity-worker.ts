// The capacity benchmark's worker: one process streaming every live run's chunks through one
// CachingPubSub over Redis, as a worker's steps do: 20 chunks a second per run, 30 tokens each, a
// publisher of its own per step (20 chunks) flushed at the step's end.
import { RedisPubSub } from "@mastra/inngest-pubsub-redis";
import { CachingPubSub } from "@mastra/inngest-stream-cache";
import { RedisStreamCache } from "@mastra/inngest-stream-cache-redis";
import { capacityRunTopic, chunkIntervalMs, chunksPerStep, chunkText } from "./capacity-settings.ts";
import { answerLines } from "./child-lines.ts";

const [url] = process.argv.slice(2);
const cache = new RedisStreamCache({ url: url as string });
const pubsub = new CachingPubSub(new RedisPubSub({ url: url as string }), cache);
const timers: Array<ReturnType<typeof setInterval>> = [];
let published = 0;
let failed = 0;
let cpuMark = process.cpuUsage();

/** Starts run `index`: a chunk every chunkIntervalMs, after a random part of one interval. */
function startRun(index: number): void {
  const topic = capacityRunTopic(index);
  const runId = topic.slice(topic.lastIndexOf(".") + 1);
  let sequence = 0;
  let step = 0;
  let publisher = pubsub.createPublisher();
  setTimeout(() => {
    timers.push(
      setInterval(() => {
        const producer = { stepId: `llm:${step}`, attempt: 0, sequence: sequence % chunksPerStep };
        const sentAt = performance.timeOrigin + performance.now();
        publisher
          .publish(topic, {
            type: "chunk",
            runId,
            data: { type: "text-delta", text: chunkText, sentAt },
            producer,
          } as never)
          .catch(() => failed++);
        published++;
        sequence++;
        if (sequence % chunksPerStep === 0) {
          // The step ends: its events must be stored before its result is (the agent's flush).
          publisher.flush().catch(() => failed++);
          publisher = pubsub.createPublisher();
          step++;
        }
      }, chunkIntervalMs),
    );
  }, Math.random() * chunkIntervalMs);
}

let live = 0;
answerLines(async (command) => {
  const [verb, argument] = command.split(" ");
  if (verb === "ready") return "ready";
  if (verb === "runs") {
    const target = Number(argument);
    while (live < target) startRun(live++);
    return live;
  }
  if (verb === "stats") {
    // With "gc", after a collection, so the heap is what the live runs hold, not garbage (only
    // after a window: the pause would show in the latency measured).
    if (argument === "gc") (globalThis as { gc?: () => void }).gc?.();
    const cpu = process.cpuUsage(cpuMark);
    cpuMark = process.cpuUsage();
    const memory = process.memoryUsage();
    return { cpuMicros: cpu.user + cpu.system, heapUsed: memory.heapUsed, rss: memory.rss, published, failed };
  }
  throw new Error(`unknown command ${command}`);
});
process.once("beforeExit", () => {
  for (const timer of timers) clearInterval(timer);
});
