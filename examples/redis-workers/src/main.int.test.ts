import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { expect, it } from "vitest";

const packageDirectory = fileURLToPath(new URL("..", import.meta.url));

it("runs the demo: a worker is killed mid-run and the run completes on the other", async () => {
  const child = spawn(process.execPath, ["--conditions=@mastra/inngest-source", "src/main.ts"], {
    cwd: packageDirectory,
    env: { ...process.env, CI: "true" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  child.stdout.on("data", (data: Buffer) => {
    output += data.toString("utf8");
  });
  child.stderr.on("data", (data: Buffer) => {
    output += data.toString("utf8");
  });
  const code = await new Promise<number | null>((resolve) => child.once("exit", resolve));

  expect(output).not.toContain("✘");
  expect(code, output).toBe(0);
  expect(output).toContain("Paris has 12 units, Berlin 7 and Tokyo 30: 49 units in stock across the three warehouses.");
  expect(output).toMatch(/✂ SIGKILL → worker-\d/);
  expect(output).toMatch(/worker-\d {2}pid \d+ +died: killed by SIGKILL/);
  expect(output).toMatch(/worker-\d {2}pid \d+ +alive +\d+ calls answered, [1-9]\d* of them after the kill/);
  expect(output).toContain("Completed in");
  expect(output).toContain("the completed attempts only; the whole answer, once");
  expect(output).toContain("✔ The run survived the loss of a worker");
  // No color codes when CI is set.
  expect(output).not.toContain("\u001b[");
}, 40_000);
