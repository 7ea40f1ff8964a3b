// The capacity benchmark's observers: one process subscribed to every live run from offset 0
// through one CachingPubSub over Redis, recording publish-to-observer latency.
import { RedisPubSub } from "@mastra/inngest-pubsub-redis";
import { CachingPubSub } from "@mastra/inngest-stream-cache";
import { RedisStreamCache } from "@mastra/inngest-stream-cache-redis";
import { capacityRunTopic } from "./capacity-settings.ts";
import { answerLines } from "./child-lines.ts";

const [url] = process.argv.slice(2);
const pubsub = new CachingPubSub(new RedisPubSub({ url: url as string }), new RedisStreamCache({ url: url as string }));
let latencies: number[] = [];
let subscribed = 0;
let cpuMark = process.cpuUsage();

answerLines(async (command) => {
  const [verb, argument] = command.split(" ");
  if (verb === "ready") return "ready";
  if (verb === "runs") {
    const target = Number(argument);
    const subscribing: Promise<void>[] = [];
    for (; subscribed < target; subscribed++) {
      subscribing.push(
        pubsub.subscribeFromOffset(capacityRunTopic(subscribed), 0, (event) => {
          const sentAt = (event.data as { sentAt?: number } | undefined)?.sentAt;
          if (sentAt !== undefined) latencies.push(performance.timeOrigin + performance.now() - sentAt);
        }),
      );
    }
    await Promise.all(subscribing);
    return subscribed;
  }
  if (verb === "reset") {
    latencies = [];
    cpuMark = process.cpuUsage();
    return null;
  }
  if (verb === "stats") {
    const sorted = latencies.sort((a, b) => a - b);
    const at = (fraction: number) => sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * fraction))] ?? null;
    const cpu = process.cpuUsage(cpuMark);
    const stats = {
      delivered: sorted.length,
      p50Ms: at(0.5),
      p99Ms: at(0.99),
      maxMs: sorted.at(-1) ?? null,
      cpuMicros: cpu.user + cpu.system,
    };
    latencies = [];
    return stats;
  }
  throw new Error(`unknown command ${command}`);
});
