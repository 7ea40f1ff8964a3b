// The worker of the split topology: its own process, the same agent and Inngest app id as the
// caller, serving the agent's functions until it is killed.
import { createInterface } from "node:readline";
import { Mastra } from "@mastra/core/mastra";
import { createInngestAgent } from "@mastra/inngest-agent";
import { silentLogger } from "@mastra/inngest-testing/helpers";
import { Inngest } from "inngest";
import { serveFunctions } from "./systems.ts";
import type { WorkerOptions } from "./worker-process.ts";
import { createBenchAgent, workloads } from "./workloads.ts";

const options = JSON.parse(process.argv[2] ?? "{}") as WorkerOptions;
const workload = workloads.find((candidate) => candidate.name === options.workload);
if (workload === undefined) {
  throw new Error(`unknown workload ${JSON.stringify(options.workload)}`);
}
const inngest = new Inngest({ id: options.id, isDev: true, baseUrl: options.engineUrl, logger: silentLogger });
const durable = createInngestAgent({ agent: createBenchAgent(workload, options.delayMs, options.id), inngest });
new Mastra({ agents: { [options.id]: durable as never }, logger: false });
const app = await serveFunctions(inngest, durable.getInngestFunctions());
process.stdout.write(`serving ${app.url}\n`);
// The caller reads this process's CPU time around each run: a "cpu" line asks for it.
createInterface({ input: process.stdin }).on("line", (line) => {
  if (line !== "cpu") return;
  const used = process.cpuUsage();
  process.stdout.write(`cpu ${used.user + used.system}\n`);
});
process.once("SIGTERM", () => {
  void Promise.all([durable.pubsub.close(), app.close()]).then(() => process.exit(0));
});
