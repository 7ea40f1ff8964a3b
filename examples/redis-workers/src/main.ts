// `pnpm demo:redis`: a durable agent served by two worker processes behind a round-robin proxy, with
// Redis carrying its live events and their history. The caller streams a run; mid-run one worker is
// killed with SIGKILL, the engine retries the interrupted step on the other, and the stream goes on.
import { type DevServer, startDevServer } from "@mastra/inngest-dev-server";
import { type RedisServer, startRedis } from "@mastra/inngest-testing";
import { findFreePort } from "@mastra/inngest-testing/helpers";
import { createInventoryAgent, expectedText, expectedToolCalls, type InventoryAgent } from "./inventory-agent.ts";
import { type RoundRobinProxy, startRoundRobinProxy } from "./round-robin-proxy.ts";
import { trackSupersededAttempts } from "./superseded-attempts.ts";
import { bold, count, cyan, dim, green, red, writeLine, writeText, yellow } from "./terminal.ts";
import { startWorkerProcess, stopWorkerProcess, type WorkerProcess } from "./worker-process.ts";

const deadlineMs = 35_000;
// Scales the engine's retry backoff (15 s before a first retry) down to 300 ms.
const engineTimeScale = 0.02;

/** The fields of Mastra's stream chunks that the demo reads. */
interface Chunk {
  type: string;
  payload?: { text?: string; toolName?: string; args?: unknown; result?: unknown };
}

let redis: RedisServer | undefined;
let engine: DevServer | undefined;
let proxy: RoundRobinProxy | undefined;
let caller: InventoryAgent | undefined;
const workers: WorkerProcess[] = [];
let stopping = false;

async function cleanUp(): Promise<void> {
  stopping = true;
  await caller?.close().catch(() => {});
  await Promise.all(workers.map((worker) => stopWorkerProcess(worker)));
  await proxy?.close().catch(() => {});
  await engine?.close().catch(() => {});
  await redis?.stop().catch(() => {});
}

async function fail(error: unknown): Promise<never> {
  if (!stopping) {
    writeLine();
    writeLine(red(`✘ redis-workers failed: ${error instanceof Error ? error.message : String(error)}`));
    for (const worker of workers) {
      if (worker.log().trim() !== "") {
        writeLine(dim(`--- ${worker.name} stderr ---\n${worker.log().trimEnd()}`));
      }
    }
    await cleanUp();
  }
  process.exit(1);
}

async function withTimeout<T>(promise: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(message)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** The text of a stream's text chunks, and how many there were. */
async function readText(stream: ReadableStream<unknown>): Promise<{ text: string; chunks: number }> {
  let text = "";
  let chunks = 0;
  const reader = stream.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) {
      return { text, chunks };
    }
    if ((value as Chunk).type === "text-delta") {
      text += (value as Chunk).payload?.text ?? "";
      chunks++;
    }
  }
}

async function main(): Promise<void> {
  writeLine(bold("redis-workers: one durable run, two worker processes, Redis in between"));
  try {
    redis = await startRedis();
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    throw new Error(
      message.includes("was not found")
        ? "this demo starts its own redis-server, and none was found: install it with " +
            "`apt-get install -y redis-server` (Debian, Ubuntu) or `brew install redis` (macOS), " +
            "or set REDIS_SERVER_BIN to its path."
        : `could not start redis-server: ${message}`,
    );
  }
  writeLine(`  ${"redis-server".padEnd(13)}${redis.url}`);
  // Classic mode: one engine call per step, so the proxy spreads a run's steps over both workers.
  engine = await startDevServer({ mode: "classic", timeScale: engineTimeScale });
  writeLine(`  ${"dev server".padEnd(13)}${engine.url}`);
  const engineUrl = engine.url;
  const redisUrl = redis.url;
  const ports = [await findFreePort(), await findFreePort()];
  const started = await Promise.all(
    ports.map((port, position) =>
      startWorkerProcess({ name: `worker-${position + 1}`, port, engineUrl, redisUrl, timeoutMs: 30_000 }),
    ),
  );
  workers.push(...started);
  for (const worker of workers) {
    writeLine(`  ${worker.name.padEnd(13)}pid ${worker.child.pid}, http://127.0.0.1:${worker.port}/api/inngest`);
  }
  const balancer = await startRoundRobinProxy(workers.map(({ name, port }) => ({ name, port })));
  proxy = balancer;
  await engine.syncApp(`${balancer.url}/api/inngest`);
  writeLine(`  ${"proxy".padEnd(13)}${balancer.url}/api/inngest (round robin; the engine calls this URL)`);

  const deaths = new Map<string, string>();
  for (const worker of workers) {
    void worker.exited.then(({ code, signal }) => {
      deaths.set(worker.name, signal === null ? `exited with code ${code}` : `killed by ${signal}`);
      balancer.remove(worker.name);
      if (!stopping) {
        writeLine(red(`    ✝ ${worker.name} (pid ${worker.child.pid}) died: ${deaths.get(worker.name)}`));
      }
    });
  }

  const agent = createInventoryAgent({ engineUrl, redisUrl, processName: "caller" });
  caller = agent;
  const startedAt = Date.now();
  const live = await agent.durable.stream("How many units do we have in stock?", { maxSteps: 10 });
  writeLine();
  writeLine(bold(`Streaming run ${live.runId} (the caller reads it from Redis):`));

  // Beside the stream, the caller listens to the run's topic for the notice that a step which
  // already streamed runs again: what that step's failed attempt delivered is then superseded.
  const topic = `agent.stream.${live.runId}`;
  const attempts = trackSupersededAttempts((notice) => {
    const survivor = workers.find((worker) => !deaths.has(worker.name))?.name ?? "another worker";
    writeLine(
      yellow(
        `    ↺ ${notice.stepId} runs again on ${survivor} (attempt ${notice.attempt + 1}): ` +
          `drop the ${count(notice.droppedTextChunks, "text chunk")} its failed attempt streamed`,
      ),
    );
  });
  await agent.durable.pubsub.subscribeWithReplay(topic, attempts.listener);

  let textChunks = 0;
  let textChunksAfterFirstTool = 0;
  let toolResults = 0;
  let lastType = "";
  let victim: WorkerProcess | undefined;
  const reader = live.fullStream.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) {
      break;
    }
    const chunk = value as Chunk;
    lastType = chunk.type;
    if (chunk.type === "text-delta") {
      textChunks++;
      textChunksAfterFirstTool += toolResults === 1 ? 1 : 0;
      writeText(chunk.payload?.text ?? "");
    } else if (chunk.type === "tool-result") {
      toolResults++;
      const { units, countedBy } = (chunk.payload?.result ?? {}) as { units?: number; countedBy?: string };
      writeLine(
        cyan(
          `    ↳ ${chunk.payload?.toolName}(${JSON.stringify(chunk.payload?.args)}) → ${units} units, counted on ${countedBy}`,
        ),
      );
    } else if (chunk.type === "error") {
      writeLine(red(`    error: ${JSON.stringify(chunk.payload)}`));
    }
    // A few words into the second iteration, one worker is in the middle of that LLM step: kill it.
    if (victim === undefined && textChunksAfterFirstTool === 3) {
      const busy = workers.find((worker) => (balancer.statistics.get(worker.name)?.inFlight ?? 0) > 0);
      victim = busy ?? workers[0];
      writeLine(
        yellow(`    ✂ SIGKILL → ${victim?.name} (pid ${victim?.child.pid})${busy ? ", in the middle of a call" : ""}`),
      );
      victim?.child.kill("SIGKILL");
    }
  }
  writeLine();
  await agent.durable.pubsub.unsubscribe(topic, attempts.listener);

  if (victim === undefined) {
    throw new Error("the run ended before a worker could be killed");
  }
  const victimExit = await withTimeout(victim.exited, 5_000, `${victim.name} was still running after SIGKILL`);
  const found = engine.runs().find((candidate) => (candidate.event.data as { runId?: string }).runId === live.runId);
  if (found === undefined) {
    throw new Error(`the engine has no run for ${live.runId}`);
  }
  const finished = await engine.waitForRun(found.id, { timeoutMs: 15_000 });
  const seconds = ((Date.now() - startedAt) / 1000).toFixed(1);
  const liveText = attempts.text();
  // A new subscription reads the run's history from Redis: only the attempts that completed.
  const replay = await agent.durable.observe(live.runId);
  const { text: replayText, chunks: replayChunks } = await readText(replay.fullStream);

  const survivor = workers.find((worker) => worker !== victim);
  const survivorStatistics = balancer.statistics.get(survivor?.name ?? "");
  writeLine(bold("Workers (calls from the engine, through the proxy):"));
  for (const worker of workers) {
    const statistics = balancer.statistics.get(worker.name);
    const served = count(statistics?.served ?? 0, "call");
    const detail =
      worker === victim
        ? `${served} answered, ${statistics?.interrupted ?? 0} interrupted by the kill`
        : `${served} answered, ${statistics?.servedAfterRemoval ?? 0} of them after the kill`;
    const state = deaths.has(worker.name)
      ? red(`died: ${deaths.get(worker.name)}`.padEnd(26))
      : green("alive".padEnd(26));
    writeLine(`  ${worker.name.padEnd(10)}pid ${String(worker.child.pid).padEnd(8)}${state}${detail}`);
  }

  const problems: string[] = [];
  if (finished.status !== "Completed") {
    problems.push(`the run ended ${finished.status}: ${JSON.stringify(finished.error)}`);
  }
  if (victimExit.signal !== "SIGKILL") {
    problems.push(`${victim.name} was not killed by SIGKILL (code ${victimExit.code}, signal ${victimExit.signal})`);
  }
  if ((survivorStatistics?.servedAfterRemoval ?? 0) === 0) {
    problems.push(`${survivor?.name} answered no call after the kill`);
  }
  if (lastType !== "finish") {
    problems.push(`the stream ended with a ${JSON.stringify(lastType)} chunk, not "finish"`);
  }
  if (toolResults !== expectedToolCalls) {
    problems.push(`${toolResults} tool results streamed, expected ${expectedToolCalls}`);
  }
  const { notices } = attempts;
  const dropped = notices.reduce((total, notice) => total + notice.droppedTextChunks, 0);
  if (replayChunks !== textChunks - dropped) {
    problems.push(`${replayChunks} text chunks replayed, expected ${textChunks - dropped} (live minus superseded)`);
  }
  for (const [name, text] of [
    ["the live text without superseded attempts", liveText],
    ["the text replayed from Redis", replayText],
  ] as const) {
    if (text !== expectedText) {
      problems.push(
        `${name} is not the answer:\n  got      ${JSON.stringify(text)}\n  expected ${JSON.stringify(expectedText)}`,
      );
    }
  }

  const retried = notices.map((notice) => notice.stepId).join(", ");
  writeLine();
  writeLine(bold("Summary:"));
  writeLine(
    `  run       ${finished.status} in ${seconds} s, ${count(finished.counters.serveCalls, "call")} from the engine`,
  );
  writeLine(
    `  live      ${count(textChunks, "text chunk")}, ${count(toolResults, "tool result")}; ` +
      (notices.length === 0
        ? "no step had streamed before the kill"
        : `${count(dropped, "chunk")} of the interrupted step (${retried}) superseded by its retry`),
  );
  writeLine(
    `  replay    observe() from Redis: ${count(replayChunks, "text chunk")}, the completed attempts only; ` +
      (replayText === expectedText ? "the whole answer, once" : "NOT the answer"),
  );
  writeLine(`  workers   ${victim.name} was killed mid-run; ${survivor?.name} answered every call after that`);
  if (problems.length > 0) {
    throw new Error(problems.join("\n"));
  }
  writeLine();
  writeLine(green("✔ The run survived the loss of a worker: it completed on the other, and its text is whole."));
}

for (const [signal, code] of [
  ["SIGINT", 130],
  ["SIGTERM", 143],
] as const) {
  process.once(signal, () => {
    writeLine(yellow(`${signal}: stopping the workers and redis-server`));
    void cleanUp().then(() => process.exit(code));
  });
}
setTimeout(() => void fail(new Error(`the demo did not finish within ${deadlineMs / 1000} s`)), deadlineMs).unref();

try {
  await main();
} catch (error) {
  await fail(error);
}
await cleanUp();
process.exit(0);
