// A subscriber in its own process, for the cross-process test: it subscribes to RUN_TOPIC on the
// engine at ENGINE_URL, prints "ready", and once a terminal event arrives prints one JSON line with
// the sequence numbers of the chunks it received, in arrival order. Test support only.
// Run with: node --conditions=@mastra/inngest-source subscriber-process.ts
import { silentLogger } from "@mastra/inngest-testing/helpers";
import { Inngest } from "inngest";
import { InngestPubSub } from "../inngest-pubsub.ts";

const engineUrl = process.env.ENGINE_URL;
const topic = process.env.RUN_TOPIC;
if (engineUrl === undefined || topic === undefined) {
  throw new Error("ENGINE_URL and RUN_TOPIC are required");
}
const pubsub = new InngestPubSub(
  new Inngest({ id: "subscriber-process", isDev: true, baseUrl: engineUrl, logger: silentLogger }),
);
const sequences: number[] = [];
const types: string[] = [];
const timeout = setTimeout(() => {
  process.stdout.write(`${JSON.stringify({ error: "timed out", received: sequences.length, types })}\n`);
  process.exit(1);
}, 30_000);

await pubsub.subscribe(topic, (event) => {
  types.push(event.type);
  if (event.type === "chunk") {
    sequences.push((event.data as { sequence: number }).sequence);
  }
  if (event.type === "finish") {
    clearTimeout(timeout);
    process.stdout.write(`${JSON.stringify({ sequences })}\n`);
    void pubsub.close().then(() => process.exit(0));
  }
});
process.stdout.write("ready\n");
