#!/usr/bin/env node
import { parseArgs } from "node:util";
import { type ExecutionMode, startDevServer } from "./start-dev-server.ts";

const usage = `Usage: mastra-inngest-dev [options]

A local engine that speaks Inngest's protocol, for development and CI. Never for production.

Options:
  --port <number>         port to listen on (default 8288; 0 picks a free one)
  --host <address>        interface to listen on (default 127.0.0.1)
  --mode <mode>           checkpoint (default, as production) or classic
  --time-scale <number>   multiply sleeps, timeouts and retry backoff (default 1)
  --retry-interval <s>    wait this many seconds before every retry, in place of the backoff table
  --signing-key <key>     sign calls to apps (cloud mode); also read from INNGEST_SIGNING_KEY
  --sync <url>            sync this app URL after starting; repeatable
  --help                  show this help

Point apps at it with INNGEST_DEV=<url> (or the client's baseUrl option).`;

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      port: { type: "string", default: "8288" },
      host: { type: "string", default: "127.0.0.1" },
      mode: { type: "string", default: "checkpoint" },
      "time-scale": { type: "string", default: "1" },
      "retry-interval": { type: "string" },
      "signing-key": { type: "string" },
      sync: { type: "string", multiple: true },
      help: { type: "boolean", default: false },
    },
  });
  if (values.help) {
    process.stdout.write(`${usage}\n`);
    return;
  }
  const port = Number(values.port);
  const timeScale = Number(values["time-scale"]);
  if (!Number.isInteger(port) || port < 0 || port > 65_535) {
    throw new Error(`--port must be an integer from 0 to 65535, got ${values.port}`);
  }
  const signingKey = values["signing-key"] ?? process.env.INNGEST_SIGNING_KEY;
  const retryInterval = values["retry-interval"];
  if (retryInterval !== undefined && !(Number(retryInterval) >= 0)) {
    throw new Error(`--retry-interval must be a non-negative number of seconds, got ${retryInterval}`);
  }
  const server = await startDevServer({
    port,
    host: values.host,
    mode: values.mode as ExecutionMode,
    timeScale,
    ...(signingKey === undefined ? {} : { signingKey }),
    ...(retryInterval === undefined ? {} : { retryIntervalMs: Number(retryInterval) * 1000 }),
  });
  process.stdout.write(`mastra-inngest-dev listening on ${server.url} (${server.mode} mode)\n`);
  for (const url of values.sync ?? []) {
    const app = await server.syncApp(url);
    process.stdout.write(`synced ${app.name}: ${app.functionIds.join(", ")}\n`);
  }
  const stop = (): void => {
    void server.close().then(() => process.exit(0));
  };
  process.once("SIGINT", stop);
  process.once("SIGTERM", stop);
}

main().catch((error: unknown) => {
  process.stderr.write(`mastra-inngest-dev: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
