import { Mastra } from "@mastra/core/mastra";
import { createInngestAgent } from "@mastra/inngest";
import { startDevServer } from "@mastra/inngest-dev-server";
import { Inngest } from "inngest";
import { createSupportAgent, question } from "./agent.ts";
import { type ApprovalRequest, runClient } from "./client.ts";
import { startApp } from "./server.ts";
import { confirm, isInteractive, line } from "./terminal.ts";

// Engine delays (the slices of the wait for an approval, retry backoff) in real time.
const timeScale = 1;
const silentLogger = { info() {}, warn() {}, error() {}, debug() {} };
const closers: Array<() => Promise<void>> = [];

async function main(): Promise<void> {
  line("Mastra + Inngest quickstart: a durable agent streams, survives a dropped connection and waits for approval");
  line();
  const engine = await startDevServer({ timeScale });
  closers.push(() => engine.close());
  const inngest = new Inngest({ id: "quickstart", isDev: true, baseUrl: engine.url, logger: silentLogger });
  const { agent, model } = createSupportAgent();
  const support = createInngestAgent({ agent, inngest });
  closers.push(() => support.pubsub.close());
  const mastra = new Mastra({ agents: { support }, logger: false });
  const app = await startApp(mastra, inngest);
  closers.push(() => app.close());
  const synced = await engine.syncApp(app.serveUrl);
  line(`  engine  ${engine.url}  (local dev server, speaks Inngest's protocol)`);
  line(`  app     ${app.serveUrl}  (Hono, serves ${synced.functionIds.join(", ")})`);
  line(`  model   ${model}`);
  line();

  const startedAt = Date.now();
  let decidedBy = "";
  const report = await runClient(support, {
    question,
    decide: async (request: ApprovalRequest) => {
      if (isInteractive()) {
        decidedBy = "by you";
        return confirm(`  Approve ${request.toolName}?`);
      }
      decidedBy = "automatically (stdin is not a terminal, or CI is set)";
      line(`  approving ${decidedBy}`);
      return true;
    },
  });

  const engineRun = engine.runs().find((run) => (run.event.data as { runId?: string }).runId === report.runId);
  if (engineRun === undefined) {
    throw new Error(`the engine has no run for ${report.runId}`);
  }
  const run = await engine.waitForRun(engineRun.id, { timeoutMs: 15_000 });
  if (run.status !== "Completed") {
    throw new Error(`the run ended ${run.status}: ${JSON.stringify(run.error)}`);
  }
  const steps = run.steps.filter((step) => !step.discarded).map((step) => step.name);
  const { beforeDrop, afterReconnect, afterResume } = report.chunks;
  line();
  line("Summary");
  line(`  run       ${report.runId}: ${run.status} in ${((Date.now() - startedAt) / 1000).toFixed(1)} s`);
  line(`  steps     ${steps.length} executed: ${steps.join(" → ")}`);
  line(
    `  chunks    ${beforeDrop + afterReconnect + afterResume} received: ${beforeDrop} before the drop, ${afterReconnect} after reconnecting, ${afterResume} after resuming`,
  );
  line(`  replayed  ${report.replayed} events, from offset ${report.offset}`);
  line(`  approval  ${report.approval.toolName} ${report.approval.approved ? "approved" : "denied"} ${decidedBy}`);
  line("  ✓ the text received equals a full replay of the run: no chunk lost or repeated");
}

async function close(): Promise<void> {
  for (const closer of closers.splice(0).reverse()) {
    await closer().catch((error: unknown) => console.error(`  (while closing: ${messageOf(error)})`));
  }
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

process.once("SIGINT", () => {
  line();
  line("Interrupted: closing the app and the dev server.");
  void close().finally(() => process.exit(130));
});

try {
  await main();
  await close();
  line("Done: the app and the dev server are closed.");
} catch (error) {
  await close();
  if (error instanceof Error && error.name === "AbortError") {
    console.error("\nInterrupted: the app and the dev server are closed.");
    process.exitCode = 130;
  } else {
    console.error(`\n✗ The quickstart failed: ${messageOf(error)}`);
    process.exitCode = 1;
  }
}
