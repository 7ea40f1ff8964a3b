import { type DevServer, startDevServer } from "@mastra/inngest-dev-server";
import { silentLogger } from "@mastra/inngest-testing/helpers";
import { describePubSubConformance } from "@mastra/inngest-testing/pubsub";
import { Inngest } from "inngest";
import { afterAll, beforeAll } from "vitest";
import { InngestPubSub } from "./inngest-pubsub.ts";

let engine: DevServer;

beforeAll(async () => {
  engine = await startDevServer();
});

afterAll(async () => {
  await engine?.close();
});

describePubSubConformance({
  name: "InngestPubSub on the dev server's Realtime (inngest v4)",
  capabilities: { ordered: true, crossProcess: true },
  // Each instance gets its own client, as separate processes would have.
  create: () =>
    new InngestPubSub(new Inngest({ id: "conformance", isDev: true, baseUrl: engine.url, logger: silentLogger })),
});
