import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type DevServer, startDevServer } from "@mastra/inngest-dev-server";
import { type RedisServer, startRedis } from "@mastra/inngest-testing";
import { findFreePort } from "@mastra/inngest-testing/helpers";
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { scriptedAnswer } from "./agent.ts";
import { type AppProcess, startAppProcess } from "./browser-test/app-process.ts";
import { browserScenario } from "./browser-test/browser-session.ts";
import { launchChromium } from "./browser-test/chromium.ts";
import { buildPage } from "./page-build.ts";

const question = "Order #1042 arrived broken. Can you refund it?";
const beforeDecision = scriptedAnswer.beforeToolCall;
const wholeAnswer = scriptedAnswer.beforeToolCall + scriptedAnswer.afterToolCall;

// Headless Chromium on the chat page, against the chat server in a process of its own with its
// run history on Redis, so that a scenario can kill the server and start it again.
let browser: Browser;
let redis: RedisServer;
let engine: DevServer;
let pageDirectory: string;
let port: number;
let app: AppProcess;

const startApp = (): Promise<AppProcess> =>
  startAppProcess({ engineUrl: engine.url, pageDirectory, port, redisUrl: redis.url });

beforeAll(async () => {
  // Chromium first: without it, the suite fails at once, saying how to install it.
  browser = await launchChromium();
  pageDirectory = mkdtempSync(join(tmpdir(), "chat-page-"));
  // Engine delays at a tenth (a retry after 1.5 s instead of 15 s), so a killed server's step is retried soon.
  [redis, engine] = await Promise.all([startRedis(), startDevServer({ timeScale: 0.1 }), buildPage(pageDirectory)]);
  port = await findFreePort();
  app = await startApp();
  await engine.syncApp(`${app.url}/api/inngest`);
});

afterAll(async () => {
  await browser?.close();
  await app?.stop();
  await engine?.close();
  await redis?.stop();
  // Unset when the suite failed before making it (no Chromium).
  if (pageDirectory !== undefined) {
    rmSync(pageDirectory, { recursive: true, force: true });
  }
});

/** Whether every text shown on the way is the start of the answer: nothing shown twice, nothing out of order. */
function onlyPrefixesOf(answer: string, stages: readonly string[]): boolean {
  return stages.every((stage) => answer.startsWith(stage));
}

// Users do not share anything but the server: their scenarios run at the same time.
describe.concurrent("the chat page in Chromium", () => {
  it("reloaded mid-answer, continues from the event it had rendered and shows the whole answer once", async ({
    expect,
  }) => {
    await browserScenario(browser, app.url, "reload mid-answer", async (users) => {
      const alice = await users.signIn("alice");
      await alice.send(question);
      const partial = await alice.waitForPartialAnswer(60);
      const saved = await alice.savedPosition();
      const kept = await alice.savedAnswer();
      expect(partial.length).toBeLessThan(beforeDecision.length);
      expect(saved).toMatchObject({ state: "streaming" });
      expect(saved?.offset).toBeGreaterThan(3);

      const reconnects: URL[] = [];
      alice.page.on("request", (request) => {
        if (request.url().includes("/stream?")) {
          reconnects.push(new URL(request.url()));
        }
      });
      await alice.page.reload();
      const stages = await alice.waitForAnswer(beforeDecision);

      // The page asked for the rest of the run from where it was, not for the run from its start.
      expect(reconnects).toHaveLength(1);
      expect(reconnects[0]?.searchParams.get("runId")).toBe(saved?.runId);
      expect(Number(reconnects[0]?.searchParams.get("offset"))).toBeGreaterThanOrEqual(saved?.offset ?? 0);
      // Once the page rendered, it showed what it had kept at once (no answer rebuilt from the
      // start), then only ever more of the same answer.
      const rendered = stages.filter((stage) => stage.length > 0);
      expect(kept.length).toBeGreaterThan(0);
      expect(rendered[0]?.startsWith(kept)).toBe(true);
      expect(onlyPrefixesOf(beforeDecision, stages), JSON.stringify(stages)).toBe(true);
      await alice.page.getByTestId("approve").waitFor();
      expect(await alice.toolCallStates()).toEqual(["approval-requested"]);
      expect((await alice.waitForPosition("waiting")).runId).toBe(saved?.runId);
    });
  });

  it("Deny: the tool does not run, and the answer goes on in place", async ({ expect }) => {
    await browserScenario(browser, app.url, "deny", async (users) => {
      const bob = await users.signIn("bob");
      await bob.send(question);
      await bob.waitForAnswer(beforeDecision);
      await bob.page.getByTestId("deny").click();
      await bob.page.getByTestId("tool-denied").waitFor();
      await bob.waitForAnswer(wholeAnswer);
      expect(await bob.toolCallStates()).toEqual(["output-denied"]);
      expect(await bob.page.getByTestId("tool-result").count()).toBe(0);
      expect(await bob.page.getByTestId("assistant-message").count()).toBe(1);
      await bob.waitForPosition("ended");
    });
  });

  it("another user is refused the run (RUN_FORBIDDEN), while its owner can open it by link", async ({ expect }) => {
    await browserScenario(browser, app.url, "second user", async (users) => {
      const alice = await users.signIn("alice");
      await alice.send(question);
      await alice.waitForPartialAnswer(20);
      const runId = (await alice.savedPosition())?.runId ?? "";
      expect(runId).not.toBe("");

      const carol = await users.signIn("carol");
      await carol.page.goto(`${app.url}/?run=${runId}`);
      await carol.page.getByTestId("error").waitFor();
      expect(await carol.page.getByTestId("error").textContent()).toContain("RUN_FORBIDDEN");
      expect(await carol.answer()).toBe("");
      // Nor through the API: neither the stream nor a decision on the pending call.
      const refused = await carol.page.evaluate(async (id) => {
        const stream = await fetch(`/api/chat/c1/stream?runId=${id}&offset=0`);
        const decision = await fetch("/api/chat", {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({
            id: "c1",
            messages: [
              {
                id: "m1",
                role: "assistant",
                parts: [
                  {
                    type: "tool-refundOrder",
                    toolCallId: "call_0_0",
                    state: "approval-responded",
                    input: {},
                    approval: { id: `${id}::call_0_0`, approved: true },
                  },
                ],
              },
            ],
          }),
        });
        return [stream.status, ((await stream.json()) as { code: string }).code, decision.status];
      }, runId);
      expect(refused).toEqual([403, "RUN_FORBIDDEN", 403]);

      await alice.waitForAnswer(beforeDecision);
      const aliceElsewhere = await users.signIn("alice");
      await aliceElsewhere.page.goto(`${app.url}/?run=${runId}`);
      await aliceElsewhere.waitForAnswer(beforeDecision);
      expect(await aliceElsewhere.toolCallStates()).toEqual(["approval-requested"]);
    });
  });
});

describe("the chat page in Chromium, with its server killed", () => {
  it("the server killed mid-answer: the page reconnects to the restarted server and shows the whole answer once", async () => {
    await browserScenario(browser, app.url, "server killed", async (users) => {
      const dave = await users.signIn("dave");
      await dave.send(question);
      await dave.waitForPartialAnswer(60);
      const { runId } = (await dave.savedPosition()) ?? { runId: "" };
      await app.kill();
      await dave.page.getByText("reconnecting").waitFor();
      app = await startApp();

      const stages = await dave.waitForAnswer(beforeDecision, 40_000);
      expect(onlyPrefixesOf(beforeDecision, stages), JSON.stringify(stages)).toBe(true);
      await dave.page.getByTestId("approve").click();
      await dave.page.getByTestId("tool-result").waitFor();
      await dave.waitForAnswer(wholeAnswer);
      expect(await dave.toolCallStates()).toEqual(["output-available"]);

      // The kill was real: the model's step completed on a later attempt, on the new process.
      const engineRun = engine.runs().find((run) => (run.event.data as { runId?: string }).runId === runId);
      const modelStep = engineRun?.steps.find((step) => step.name === "llm:0" && !step.discarded);
      expect(modelStep?.attempt, JSON.stringify(engineRun?.steps)).toBeGreaterThan(0);
    });
  });
});
