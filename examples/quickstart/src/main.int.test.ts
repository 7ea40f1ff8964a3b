import { spawn } from "node:child_process";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { scriptedAnswer } from "./agent.ts";

const packageDirectory = join(dirname(fileURLToPath(import.meta.url)), "..");

/** Runs the demo as `pnpm demo` does, without a terminal and without an API key. */
function runDemo(): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const environment: NodeJS.ProcessEnv = { ...process.env, CI: "true" };
  delete environment.OPENAI_API_KEY;
  const child = spawn(process.execPath, ["--conditions=@mastra/inngest-source", "src/main.ts"], {
    cwd: packageDirectory,
    env: environment,
    stdio: ["ignore", "pipe", "pipe"],
    timeout: 30_000,
  });
  let stdout = "";
  let stderr = "";
  child.stdout.setEncoding("utf8").on("data", (data: string) => {
    stdout += data;
  });
  child.stderr.setEncoding("utf8").on("data", (data: string) => {
    stderr += data;
  });
  return new Promise((resolve, reject) => {
    child.once("error", reject);
    child.once("close", (code) => resolve({ code, stdout, stderr }));
  });
}

describe("the quickstart", () => {
  it("streams, drops and resumes its connection, gets the tool call approved, and exits 0", async () => {
    const { code, stdout, stderr } = await runDemo();
    expect(code, `exit code 0 expected; stderr:\n${stderr}\nstdout:\n${stdout}`).toBe(0);

    const dropped = Number(/✂ connection dropped after (\d+) chunks/.exec(stdout)?.[1]);
    const offset = Number(/↻ reconnected with observe\(runId, \{ offset: (\d+) \}\)/.exec(stdout)?.[1]);
    expect(dropped).toBeGreaterThan(0);
    expect(offset).toBe(dropped);

    // The text before the drop and after the reconnect join into the answer: nothing lost or repeated.
    const lines = stdout.split("\n");
    const beforeDrop = lines.find((text) => text.startsWith("Agent: I'm sorry"))?.slice("Agent: ".length) ?? "";
    const afterReconnect = lines.find((text) => text.startsWith("Agent: …"))?.slice("Agent: …".length) ?? "";
    expect(beforeDrop.length).toBeGreaterThan(0);
    expect(beforeDrop.length).toBeLessThan(scriptedAnswer.beforeToolCall.length);
    expect(beforeDrop + afterReconnect).toBe(scriptedAnswer.beforeToolCall);

    expect(stdout).toContain('refundOrder({"orderId":"1042","amountUsd":49.9}) needs approval');
    expect(stdout).toContain("approving automatically");
    expect(stdout).toContain("resume(runId, { approved: true })");
    expect(stdout).toContain(
      '✓ refundOrder ran and returned {"orderId":"1042","refundedUsd":49.9,"status":"refunded"}',
    );
    expect(stdout).toContain(`Agent: ${scriptedAnswer.afterToolCall}`);

    expect(stdout).toMatch(/run {7}\S+: Completed in/);
    expect(stdout).toMatch(
      /steps {5}\d+ executed: llm:0 → tool:0:0 → (decisions:0:\d+ → )+tool:0:0:resume:\d+ → .*finish/,
    );
    expect(stdout).toMatch(new RegExp(`chunks {4}\\d+ received: ${dropped} before the drop, \\d+ after reconnecting`));
    expect(stdout).toMatch(new RegExp(`replayed {2}\\d+ events, from offset ${offset}`));
    expect(stdout).toContain("no chunk lost or repeated");
    expect(stdout).toContain("Done: the app and the dev server are closed.");
  }, 35_000);
});
