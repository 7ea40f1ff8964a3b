// The v3 SDK runs in its own package and files: v3 and v4 keep their async context in the same
// global (Symbol.for("inngest:als")) in different shapes, so they cannot share a process.
import { type DevServer, startDevServer } from "@mastra/inngest-dev-server";
import { InngestPubSub } from "@mastra/inngest-pubsub-realtime";
import { silentLogger } from "@mastra/inngest-testing/helpers";
import { describePubSubConformance } from "@mastra/inngest-testing/pubsub";
import { Inngest } from "inngest-v3";
import { afterAll, beforeAll } from "vitest";

let engine: DevServer;

beforeAll(async () => {
  engine = await startDevServer();
});

afterAll(async () => {
  await engine?.close();
});

describePubSubConformance({
  name: "InngestPubSub on the dev server's Realtime (inngest v3)",
  capabilities: { ordered: true, crossProcess: true },
  create: () =>
    new InngestPubSub(new Inngest({ id: "conformance-v3", isDev: true, baseUrl: engine.url, logger: silentLogger })),
});
