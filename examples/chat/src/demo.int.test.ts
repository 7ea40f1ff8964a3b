import { type ChildProcess, spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { findFreePort, until } from "@mastra/inngest-testing/helpers";
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { scriptedAnswer } from "./agent.ts";
import { browserScenario } from "./browser-test/browser-session.ts";
import { launchChromium } from "./browser-test/chromium.ts";

const packageDirectory = fileURLToPath(new URL("..", import.meta.url));
/** The screenshot the README shows; the test writes it each time (the run id is hidden, so it stays the same). */
const readmeScreenshot = fileURLToPath(new URL("../docs/pending-approval.png", import.meta.url));

let browser: Browser;
let demo: ChildProcess;
let output = "";
let url: string;

// `pnpm demo:chat` as a user starts it: the local engine and the chat server in one process, the
// history in memory, Inngest Realtime through the engine, the scripted model.
beforeAll(async () => {
  browser = await launchChromium();
  const environment: NodeJS.ProcessEnv = { ...process.env, PORT: String(await findFreePort()) };
  delete environment.OPENAI_API_KEY;
  delete environment.REDIS_URL;
  demo = spawn(process.execPath, ["--conditions=@mastra/inngest-source", "src/main.ts"], {
    cwd: packageDirectory,
    env: environment,
    stdio: ["ignore", "pipe", "pipe"],
  });
  demo.stdout?.setEncoding("utf8").on("data", (data: string) => {
    output += data;
  });
  demo.stderr?.setEncoding("utf8").on("data", (data: string) => {
    output += data;
  });
  url = await until(() => /Open (http:\/\/\S+) /.exec(output)?.[1], {
    timeoutMs: 30_000,
    intervalMs: 50,
    description: "the demo printing its URL",
  }).catch((error: Error) => {
    throw new Error(`${error.message}; it printed:\n${output}`);
  });
});

afterAll(async () => {
  await browser?.close();
  if (demo?.exitCode === null) {
    demo.kill("SIGKILL");
  }
});

describe("pnpm demo:chat", () => {
  it("prints its URL; the page streams the answer, shows Approve / Deny, and goes on in place once approved", async () => {
    expect(output).toContain("model   scripted (no API key needed)");
    await browserScenario(browser, url, "demo approve", async (users) => {
      const erin = await users.signIn("erin");
      await erin.send("Order #1042 arrived broken. Can you refund it?");
      const stages = await erin.waitForAnswer(scriptedAnswer.beforeToolCall);
      // Streamed: the text grew word by word, each stage the start of the next.
      expect(stages.filter((stage) => stage !== "").length).toBeGreaterThan(10);
      expect(stages.every((stage) => scriptedAnswer.beforeToolCall.startsWith(stage))).toBe(true);

      await erin.page.getByTestId("approve").waitFor();
      await erin.waitForPosition("waiting");
      await erin.page
        .locator(".app")
        .screenshot({ path: readmeScreenshot, style: ".position { visibility: hidden; }" });

      await erin.page.getByTestId("approve").click();
      await erin.page.getByTestId("tool-result").waitFor();
      await erin.waitForAnswer(scriptedAnswer.beforeToolCall + scriptedAnswer.afterToolCall);
      expect(await erin.page.getByTestId("tool-result").textContent()).toContain('"status":"refunded"');
      expect(await erin.toolCallStates()).toEqual(["output-available"]);
      expect(await erin.page.getByTestId("assistant-message").count()).toBe(1);
    });
  });

  it("stops on Ctrl-C, closing the server and the engine", async () => {
    const exited = new Promise<number | null>((resolve) => demo.once("exit", (code) => resolve(code)));
    demo.kill("SIGINT");
    expect(await exited).toBe(130);
    expect(output).toContain("Stopping the chat server and the engine.");
  });
});
