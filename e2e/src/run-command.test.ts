import { execFile } from "node:child_process";
import { chmod, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

// The README's first two commands: `./run demo` and `./run test`. The commands themselves run the
// demo and the whole suite, so these tests check what surrounds them: the help, the refusal of an
// unknown command, and, with a stand-in pnpm on PATH, that a command installs from the lockfile
// before it runs the pnpm script of the same name with the arguments it was given.

const root = join(dirname(fileURLToPath(import.meta.url)), "../..");
const runScript = join(root, "run");

interface Outcome {
  code: number;
  stdout: string;
  stderr: string;
}

function run(args: string[], env: NodeJS.ProcessEnv = process.env): Promise<Outcome> {
  return new Promise((resolve) => {
    execFile(runScript, args, { env, timeout: 30_000 }, (error, stdout, stderr) => {
      const code = error === null ? 0 : typeof error.code === "number" ? error.code : -1;
      resolve({ code, stdout, stderr });
    });
  });
}

describe("./run", () => {
  it("prints its commands for --help and succeeds", async () => {
    const { code, stdout } = await run(["--help"]);
    expect(code).toBe(0);
    expect(stdout).toContain("Usage: ./run <command>");
    expect(stdout).toMatch(/^ {2}demo {4}/m);
    expect(stdout).toMatch(/^ {2}test {4}/m);
  });

  it("refuses an unknown command, naming the allowed ones", async () => {
    const { code, stdout, stderr } = await run(["deploy"]);
    expect(code).toBe(2);
    expect(stdout).toBe("");
    expect(stderr).toContain("./run: unknown command 'deploy'; the commands are: demo, test");
  });

  it("refuses to run without a command, naming the allowed ones", async () => {
    const { code, stderr } = await run([]);
    expect(code).toBe(2);
    expect(stderr).toContain("./run: no command given; the commands are: demo, test");
  });

  describe("with a stand-in pnpm", () => {
    let bin: string;
    let log: string;

    beforeAll(async () => {
      bin = await mkdtemp(join(tmpdir(), "run-command-"));
      log = join(bin, "pnpm.log");
      const manifest = JSON.parse(await readFile(join(root, "package.json"), "utf8")) as { packageManager: string };
      const pnpmVersion = manifest.packageManager.split("@")[1]?.split("+")[0];
      // The toolchain script accepts a pnpm on PATH that reports the pinned version; this one only
      // writes down how it was called.
      await writeFile(
        join(bin, "pnpm"),
        `#!/bin/sh\nif [ "$1" = "--version" ]; then echo ${pnpmVersion}; exit 0; fi\necho "$*" >> "${log}"\n`,
      );
      // So that the toolchain script finds what the tests need and installs nothing.
      for (const [name, version] of [
        ["redis-server", "Redis server v=7.0.0"],
        ["chromium", "Chromium 140.0.0.0"],
      ] as const) {
        await writeFile(join(bin, name), `#!/bin/sh\necho '${version}'\n`);
        await chmod(join(bin, name), 0o755);
      }
      await chmod(join(bin, "pnpm"), 0o755);
    });

    afterAll(async () => {
      await rm(bin, { recursive: true, force: true });
    });

    it("installs from the lockfile, then runs the pnpm script with the arguments given", async () => {
      const env = { ...process.env, PATH: `${bin}:${process.env.PATH}`, MASTRA_INNGEST_TOOLCHAIN_DIR: bin };
      const outcome = await run(["test", "packages/agent", "--reporter=dot"], env);
      expect(outcome.code, outcome.stderr).toBe(0);
      expect((await readFile(log, "utf8")).trim().split("\n")).toEqual([
        "install --frozen-lockfile",
        "test packages/agent --reporter=dot",
      ]);
    });
  });
});
