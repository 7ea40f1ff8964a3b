// A worker process: serves the durable agent's Inngest functions on its own port and prints "ready"
// once it listens. Usage: node worker.ts <engine URL> <redis URL> <port> <name>
import { createServer } from "node:http";
import { createServe } from "@mastra/inngest";
import { serve } from "inngest/node";
import { createInventoryAgent } from "./inventory-agent.ts";

const [engineUrl = "", redisUrl = "", portText = "", name = "worker"] = process.argv.slice(2);
const port = Number(portText);
if (engineUrl === "" || redisUrl === "" || !Number.isInteger(port) || port <= 0) {
  process.stderr.write("usage: node worker.ts <engine URL> <redis URL> <port> <name>\n");
  process.exit(2);
}

const { mastra, inngest, close } = createInventoryAgent({ engineUrl, redisUrl, processName: name });
const handler = createServe(serve)({ mastra, inngest });
const server = createServer((request, response) => void handler(request, response));

const stop = async (): Promise<void> => {
  server.closeAllConnections();
  server.close();
  await close();
  process.exit(0);
};
process.once("SIGTERM", () => void stop());
// The parent holds our stdin open: when it ends, the parent is gone and nobody needs this worker.
process.stdin.on("end", () => void stop());
process.stdin.resume();

server.listen(port, "127.0.0.1", () => {
  process.stdout.write("ready\n");
});
