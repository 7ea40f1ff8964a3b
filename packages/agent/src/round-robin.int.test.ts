import type { ChildProcess } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { request } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Mastra } from "@mastra/core/mastra";
import { findFreePort, type HttpTestServer, serveFunctions, silentLogger } from "@mastra/inngest-testing/helpers";
import { Inngest } from "inngest";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createInngestAgent } from "./create-inngest-agent.ts";
import { splitAgent, splitAnswer } from "./fixtures/split-agents.ts";
import { startWorker } from "./test/test-worker.ts";
import { startTestWorld, type TestWorld } from "./test/test-world.ts";

describe("two worker processes behind a round-robin proxy", () => {
  let world: TestWorld;
  const workers: ChildProcess[] = [];
  let proxy: HttpTestServer | undefined;
  const served = [0, 0];
  let caller: ReturnType<typeof createInngestAgent>;

  beforeAll(async () => {
    world = await startTestWorld("classic");
    const logFile = join(mkdtempSync(join(tmpdir(), "agent-round-robin-")), "tool-calls.log");
    const ports = [await findFreePort(), await findFreePort()];
    for (const port of ports) {
      workers.push(await startWorker(world.engine.url, port, logFile));
    }
    let next = 0;
    // Every call goes to the other worker than the one before, so consecutive steps of a run
    // execute in different processes.
    proxy = await serveFunctions(world.engine, (incoming, outgoing) => {
      const target = next;
      next = (next + 1) % ports.length;
      served[target] = (served[target] ?? 0) + 1;
      const forwarded = request(
        {
          host: "127.0.0.1",
          port: ports[target],
          method: incoming.method,
          path: incoming.url,
          headers: incoming.headers,
        },
        (response) => {
          outgoing.writeHead(response.statusCode ?? 502, response.headers);
          response.pipe(outgoing);
        },
      );
      forwarded.on("error", () => outgoing.writeHead(502).end());
      incoming.pipe(forwarded);
    });
    const inngest = new Inngest({ id: "split", isDev: true, baseUrl: world.engine.url, logger: silentLogger });
    caller = createInngestAgent({ agent: splitAgent(), inngest });
    new Mastra({ agents: { split: caller as never }, logger: false });
  }, 60_000);

  afterAll(async () => {
    for (const worker of workers) {
      worker.kill("SIGKILL");
    }
    await proxy?.close();
    await caller?.pubsub.close();
    await world?.close();
  });

  it("the caller's stream is complete and in order while steps alternate between the workers", async () => {
    const live = await caller.stream("Look up a, b and c", { maxSteps: 10 });
    const types: string[] = [];
    for await (const chunk of live.output.fullStream as unknown as AsyncIterable<{ type: string }>) {
      types.push(chunk.type);
    }
    expect(await live.output.text).toBe(splitAnswer);
    expect(types.filter((type) => type === "tool-result")).toHaveLength(3);
    expect(types.filter((type) => type === "text-delta")).toHaveLength(40);
    expect(types.at(-1)).toBe("finish");
    const found = world.engine
      .runs()
      .find((candidate) => (candidate.event.data as { runId?: string }).runId === live.runId);
    const run = await world.engine.waitForRun(found?.id ?? "");
    expect(run.status).toBe("Completed");
    // Both processes ran steps of this one run.
    expect(served[0]).toBeGreaterThan(3);
    expect(served[1]).toBeGreaterThan(3);
  }, 60_000);
});
