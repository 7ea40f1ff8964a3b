import { type ChildProcess, spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { until } from "@mastra/inngest-testing/helpers";
import { afterEach, describe, expect, it } from "vitest";

const binPath = fileURLToPath(new URL("./bin.ts", import.meta.url));
const children: ChildProcess[] = [];

afterEach(() => {
  for (const child of children.splice(0)) {
    child.kill("SIGKILL");
  }
});

function runBin(args: string[]): { child: ChildProcess; output: () => string; exited: Promise<number | null> } {
  const child = spawn(process.execPath, [binPath, ...args], { stdio: ["ignore", "pipe", "pipe"] });
  children.push(child);
  let output = "";
  child.stdout?.on("data", (data: Buffer) => {
    output += data.toString("utf8");
  });
  child.stderr?.on("data", (data: Buffer) => {
    output += data.toString("utf8");
  });
  return { child, output: () => output, exited: new Promise((resolve) => child.once("exit", (code) => resolve(code))) };
}

describe("mastra-inngest-dev", () => {
  it("starts from a shell, prints its URL, answers, and stops on SIGTERM", async () => {
    const bin = runBin(["--port", "0", "--mode", "classic"]);
    await until(() => /listening on http:\/\/127\.0\.0\.1:\d+/.test(bin.output()), {
      timeoutMs: 15_000,
      intervalMs: 20,
    });
    const url = /listening on (http:\/\/[^ ]+)/.exec(bin.output())?.[1] ?? "";
    expect(bin.output()).toContain("classic mode");
    const health = await fetch(`${url}/dev`);
    expect(health.status).toBe(200);
    bin.child.kill("SIGTERM");
    expect(await bin.exited).toBe(0);
  });

  it("rejects a bad port with a clear message and exit code 1", async () => {
    const bin = runBin(["--port", "99999"]);
    expect(await bin.exited).toBe(1);
    expect(bin.output()).toContain("--port must be an integer from 0 to 65535");
  });
});
