// `pnpm soak`: many short agent runs in one process for a while, on the dev server and a Redis of its
// own, sampling what must not grow with the number of runs: heap, core's run registry, the Redis
// channels subscribed, the Redis keys (past the retention window). SOAK_MINUTES (default 60) and
// SOAK_RUNS (default 5000) size it; the figures go to results/soak-<date>.md.
import { execFile } from "node:child_process";
import { writeFile } from "node:fs/promises";
import { setTimeout as sleep } from "node:timers/promises";
import { promisify } from "node:util";
import { Agent } from "@mastra/core/agent";
import { globalRunRegistry } from "@mastra/core/agent/durable";
import { Mastra } from "@mastra/core/mastra";
import { createInngestAgent } from "@mastra/inngest-agent";
import { startDevServer } from "@mastra/inngest-dev-server";
import { RedisPubSub } from "@mastra/inngest-pubsub-redis";
import { RedisStreamCache } from "@mastra/inngest-stream-cache-redis";
import { startRedis } from "@mastra/inngest-testing";
import { serveFunctions, silentLogger } from "@mastra/inngest-testing/helpers";
import { scriptedModel, textTurn } from "@mastra/inngest-testing/model";
import { Inngest } from "inngest";
import { serve } from "inngest/node";

const minutes = Number(process.env.SOAK_MINUTES ?? 60);
const runs = Number(process.env.SOAK_RUNS ?? 5000);
const concurrency = 4;
// Short, so the keys of the first runs expire while the soak goes on and the count must level off.
const retention = { activeMs: 60_000, endedMs: 30_000 };
const settleMs = retention.endedMs + retention.activeMs + 10_000;

interface Sample {
  minute: number;
  runsEnded: number;
  heapMiB: number;
  registry: number;
  channels: number;
  redisKeys: number;
}

// The engine keeps few ended runs, so its own memory does not hide the agent's.
const engine = await startDevServer({ mode: "checkpoint", retention: 200 });
const redis = await startRedis();
const inngest = new Inngest({ id: "soak", isDev: true, baseUrl: engine.url, logger: silentLogger });
const turns = Array.from({ length: runs + 10 }, () => textTurn("A short answer."));
const durable = createInngestAgent({
  agent: new Agent({ id: "soaker", name: "Soaker", instructions: "-", model: scriptedModel(turns) }),
  inngest,
  cache: new RedisStreamCache({ url: redis.url }),
  pubsub: new RedisPubSub({ url: redis.url }),
  retention,
});
new Mastra({ agents: { soaker: durable }, logger: false });
const app = await serveFunctions(engine, serve({ client: inngest, functions: durable.getInngestFunctions() }));

const started = Date.now();
const samples: Sample[] = [];
let ended = 0;
let failed = 0;

/** A `redis-cli` reply, from the soak's own Redis: the probe holds no connection of its own. */
async function cli(...command: string[]): Promise<string> {
  const { stdout } = await promisify(execFile)("redis-cli", ["-p", String(redis.port), ...command]);
  return stdout.trim();
}

async function sample(): Promise<Sample> {
  (globalThis as { gc?: () => void }).gc?.();
  const channels = (await cli("PUBSUB", "CHANNELS")).split("\n").filter((line) => line !== "").length;
  return {
    minute: Math.round((Date.now() - started) / 6_000) / 10,
    runsEnded: ended,
    heapMiB: Math.round(process.memoryUsage().heapUsed / 1_048_576),
    registry: globalRunRegistry.size,
    channels,
    redisKeys: Number(await cli("DBSIZE")),
  };
}

/** One short run, paced so `runs` spread over `minutes`. */
async function worker(first: number): Promise<void> {
  const spacingMs = (minutes * 60_000 * concurrency) / runs;
  for (let index = first; index < runs; index += concurrency) {
    const due = started + (index / concurrency) * spacingMs;
    await sleep(Math.max(0, due - Date.now()));
    try {
      const { output, cleanup } = await durable.stream(`Question ${index}`);
      if ((await output.text) !== "A short answer.") {
        failed++;
      }
      cleanup();
    } catch {
      failed++;
    }
    ended++;
  }
}

const sampling = setInterval(() => {
  void sample().then((figures) => {
    samples.push(figures);
    console.log(JSON.stringify(figures));
  });
}, 60_000);
await Promise.all(Array.from({ length: concurrency }, (_, first) => worker(first)));
clearInterval(sampling);
const atEnd = await sample();
await sleep(settleMs);
const settled = await sample();

const table = [
  "| minute | runs ended | heap MiB | run registry | Redis channels | Redis keys |",
  "|---|---|---|---|---|---|",
  ...[...samples, atEnd, settled].map(
    (row) =>
      `| ${row.minute} | ${row.runsEnded} | ${row.heapMiB} | ${row.registry} | ${row.channels} | ${row.redisKeys} |`,
  ),
].join("\n");
const report = `# Soak, ${new Date().toISOString().slice(0, 10)}\n\n${runs} runs over ${minutes} min, ${concurrency} at a time, ${failed} failed; retention ${JSON.stringify(retention)}; the last row is ${settleMs / 1000} s after the last run.\n\n${table}\n`;
console.log(report);
await writeFile(new URL(`../results/soak-${new Date().toISOString().slice(0, 10)}.md`, import.meta.url), report);

await durable.pubsub.close();
await app.close();
await engine.close();
await redis.stop();
process.exit(failed === 0 ? 0 : 1);
