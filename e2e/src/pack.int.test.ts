import { spawn } from "node:child_process";
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { gunzipSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

// The published shape, outside the workspace: the packed tarballs of @mastra/inngest and of every
// workspace package it depends on are installed into a temporary project, with registry versions of
// everything else, and the API reference's usage example runs there with plain Node. A missing
// export, a file left out of `files`, a `workspace:` range, or a dependency only the workspace
// provides fails here and nowhere else: the other tests resolve siblings to their sources.

const repositoryRoot = join(dirname(fileURLToPath(import.meta.url)), "../..");
const fixtures = join(dirname(fileURLToPath(import.meta.url)), "fixtures/pack-app");
const sourceCondition = "@mastra/inngest-source";
/** What the example imports besides the tarballs, at the versions the workspace tests with. */
const registryDependencies: Record<string, string> = {
  "@mastra/core": "1.71.0",
  inngest: "4.24.0",
  zod: "^4.1.0",
  hono: "^4.13.19",
  "@hono/node-server": "^2.1.9",
  express: "^5.3.0",
  ioredis: "^6.0.0",
  typescript: "~5.9.3",
  "@types/node": "^22.20.5",
};
/** The packages the project depends on directly; their workspace dependencies are packed too. */
const entryPackages = ["@mastra/inngest", "@mastra/inngest-dev-server", "@mastra/inngest-testing"];
/** Frameworks of the serve adapters that the project does not ask for. */
const unrequestedFrameworks = ["next", "fastify", "koa"];
const answer = "Hello from the packed tarballs.";

interface Manifest {
  name: string;
  version: string;
  exports?: unknown;
  bin?: string | Record<string, string>;
  dependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
  peerDependenciesMeta?: Record<string, { optional?: boolean }>;
  optionalDependencies?: Record<string, string>;
}

interface WorkspacePackage {
  directory: string;
  manifest: Manifest;
}

interface Packed {
  tarball: string;
  manifest: Manifest;
  /** Paths inside the tarball, without the leading `package/`. */
  files: Set<string>;
}

interface Result {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a command to its end, or kills it after `timeoutMs`; never rejects on a non-zero exit. */
function run(
  command: string,
  args: string[],
  options: { cwd: string; env?: NodeJS.ProcessEnv; timeoutMs: number },
): Promise<Result> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: options.cwd, env: options.env ?? process.env });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk: Buffer) => {
      stdout += chunk;
    });
    child.stderr.on("data", (chunk: Buffer) => {
      stderr += chunk;
    });
    const timer = setTimeout(() => {
      stderr += `\n[killed after ${options.timeoutMs} ms]`;
      child.kill("SIGKILL");
    }, options.timeoutMs);
    child.on("error", (error: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      reject(
        error.code === "ENOENT"
          ? new Error(`${command} is not on PATH; run \`source scripts/toolchain.sh\` first`, { cause: error })
          : error,
      );
    });
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** {@link run}, failing with the command's output unless it exits 0. */
async function mustRun(
  command: string,
  args: string[],
  options: { cwd: string; env?: NodeJS.ProcessEnv; timeoutMs: number },
): Promise<Result> {
  const result = await run(command, args, options);
  if (result.code !== 0) {
    throw new Error(
      `\`${command} ${args.join(" ")}\` in ${options.cwd} exited with ${result.code}\n${result.stdout}\n${result.stderr}`,
    );
  }
  return result;
}

const readManifest = (path: string): Manifest => JSON.parse(readFileSync(path, "utf8")) as Manifest;

function workspacePackages(): Map<string, WorkspacePackage> {
  const packages = new Map<string, WorkspacePackage>();
  for (const name of readdirSync(join(repositoryRoot, "packages"))) {
    const directory = join(repositoryRoot, "packages", name);
    if (existsSync(join(directory, "package.json"))) {
      const manifest = readManifest(join(directory, "package.json"));
      packages.set(manifest.name, { directory, manifest });
    }
  }
  return packages;
}

/** The entry packages and, transitively, every workspace package they depend on. */
function packagesToPack(workspace: Map<string, WorkspacePackage>): WorkspacePackage[] {
  const names = new Set<string>();
  const visit = (name: string): void => {
    const found = workspace.get(name);
    if (found === undefined) {
      throw new Error(`${name} is not a package of ${join(repositoryRoot, "packages")}`);
    }
    if (names.has(name)) {
      return;
    }
    names.add(name);
    for (const [dependency, range] of Object.entries(found.manifest.dependencies ?? {})) {
      if (range.startsWith("workspace:")) {
        visit(dependency);
      }
    }
  };
  entryPackages.forEach(visit);
  return [...names].map((name) => workspace.get(name) as WorkspacePackage);
}

/** The files the exports map and `bin` point at, for a consumer without the source condition. */
function publishedTargets(manifest: Manifest): string[] {
  const targets: string[] = [];
  const walk = (value: unknown): void => {
    if (typeof value === "string") {
      targets.push(value);
    } else if (typeof value === "object" && value !== null) {
      for (const [condition, target] of Object.entries(value)) {
        if (condition !== sourceCondition) {
          walk(target);
        }
      }
    }
  };
  walk(manifest.exports);
  walk(manifest.bin);
  return targets.map((target) => target.replace(/^\.\//, ""));
}

function newestInput(directory: string): number {
  const inputs = [
    join(directory, "package.json"),
    join(directory, "tsdown.config.ts"),
    join(directory, "tsconfig.json"),
    join(repositoryRoot, "tsdown.config.ts"),
  ];
  for (const entry of readdirSync(join(directory, "src"), { recursive: true, withFileTypes: true })) {
    if (entry.isFile() && !entry.name.endsWith(".test.ts")) {
      inputs.push(join(entry.parentPath, entry.name));
    }
  }
  return Math.max(...inputs.filter((path) => existsSync(path)).map((path) => statSync(path).mtimeMs));
}

function builtFiles({ directory, manifest }: WorkspacePackage): string[] {
  return publishedTargets(manifest)
    .filter((target) => target !== "package.json")
    .map((target) => join(directory, target));
}

const isMissingFiles = (workspacePackage: WorkspacePackage): boolean => {
  const files = builtFiles(workspacePackage);
  return files.length === 0 || files.some((file) => !existsSync(file));
};

/** Whether a package's dist is missing a published file or is older than its sources. */
function isStale(workspacePackage: WorkspacePackage): boolean {
  if (isMissingFiles(workspacePackage)) {
    return true;
  }
  const oldest = Math.min(...builtFiles(workspacePackage).map((file) => statSync(file).mtimeMs));
  return oldest < newestInput(workspacePackage.directory);
}

/** The regular files of a `.tgz`, by path without the leading `package/`. */
function readTarball(path: string): Map<string, Buffer> {
  const archive = gunzipSync(readFileSync(path));
  const field = (header: Buffer, start: number, length: number): string =>
    header
      .subarray(start, start + length)
      .toString("utf8")
      .replace(/\0.*$/s, "");
  const files = new Map<string, Buffer>();
  let offset = 0;
  while (offset + 512 <= archive.length) {
    const header = archive.subarray(offset, offset + 512);
    if (header.every((byte) => byte === 0)) {
      break;
    }
    const size = Number.parseInt(field(header, 124, 12).trim() || "0", 8);
    const prefix = field(header, 345, 155);
    const name = `${prefix === "" ? "" : `${prefix}/`}${field(header, 0, 100)}`;
    const type = field(header, 156, 1);
    if (type === "0" || type === "") {
      files.set(name.replace(/^package\//, ""), archive.subarray(offset + 512, offset + 512 + size));
    }
    offset += 512 + Math.ceil(size / 512) * 512;
  }
  return files;
}

function writeJson(path: string, value: unknown): void {
  writeFileSync(path, `${JSON.stringify(value, null, 2)}\n`);
}

/** The environment of a consumer: none of the test runner's or the workspace's own settings. */
function consumerEnvironment(): NodeJS.ProcessEnv {
  return Object.fromEntries(
    Object.entries(process.env).filter(
      ([name]) => !/^(INNGEST_|VITEST|NODE_ENV$|TEST$|npm_package_|npm_lifecycle_|PNPM_SCRIPT_SRC_DIR$)/.test(name),
    ),
  );
}

/** The pnpm store the workspace installed into, so the project installs from it instead of the network. */
function workspaceStore(): string | undefined {
  const modules = join(repositoryRoot, "node_modules/.modules.yaml");
  return existsSync(modules) ? /"storeDir":\s*"([^"]+)"/.exec(readFileSync(modules, "utf8"))?.[1] : undefined;
}

describe("the packed tarballs of @mastra/inngest, installed outside the workspace", () => {
  let root: string | undefined;
  let project = "";
  const packed = new Map<string, Packed>();
  const environment = consumerEnvironment();

  beforeAll(async () => {
    await mustRun("pnpm", ["--version"], { cwd: repositoryRoot, timeoutMs: 30_000 });
    root = mkdtempSync(join(tmpdir(), "mastra-inngest-pack-"));
    const tarballs = join(root, "tarballs");
    project = join(root, "project");
    const workspace = workspacePackages();
    const packages = packagesToPack(workspace);
    if (packages.some(isStale)) {
      await mustRun("pnpm", ["run", "build"], { cwd: repositoryRoot, timeoutMs: 180_000 });
      // Turbo leaves a dist whose sources only changed their mtime as it was, so only presence is checked.
      const unbuilt = packages.filter(isMissingFiles).map(({ manifest }) => manifest.name);
      if (unbuilt.length > 0) {
        throw new Error(`after \`pnpm run build\`, the dist of ${unbuilt.join(", ")} still lacks published files`);
      }
    }

    mkdirSync(tarballs);
    // One recursive pack: pnpm starts once and rewrites every `workspace:` range as publishing does.
    const { stdout } = await mustRun(
      "pnpm",
      [
        "--recursive",
        ...packages.flatMap(({ manifest }) => ["--filter", manifest.name]),
        "pack",
        "--pack-destination",
        tarballs,
        "--json",
      ],
      { cwd: repositoryRoot, timeoutMs: 60_000 },
    );
    for (const { filename } of JSON.parse(stdout) as { filename: string }[]) {
      const contents = readTarball(filename);
      const packedManifest = contents.get("package.json");
      if (packedManifest === undefined) {
        throw new Error(`${filename} has no package.json`);
      }
      const manifest = JSON.parse(packedManifest.toString("utf8")) as Manifest;
      packed.set(manifest.name, { tarball: filename, manifest, files: new Set(contents.keys()) });
    }
    const unpacked = packages.map(({ manifest }) => manifest.name).filter((name) => !packed.has(name));
    if (unpacked.length > 0) {
      throw new Error(`pnpm pack produced no tarball for ${unpacked.join(", ")}`);
    }

    const fileOf = (name: string): string => `file:${(packed.get(name) as Packed).tarball}`;
    const manifest = {
      name: "mastra-inngest-pack-consumer",
      private: true,
      type: "module",
      dependencies: {
        ...Object.fromEntries(entryPackages.map((name) => [name, fileOf(name)])),
        ...registryDependencies,
      },
      // The tarballs ask for their siblings by version, which no registry has yet.
      pnpm: { overrides: Object.fromEntries([...packed.keys()].map((name) => [name, fileOf(name)])) },
    };
    mkdirSync(project);
    writeJson(join(project, "package.json"), manifest);
    for (const fixture of readdirSync(fixtures)) {
      copyFileSync(join(fixtures, fixture), join(project, fixture));
    }
    const store = workspaceStore();
    await mustRun(
      "pnpm",
      [
        "install",
        "--prefer-offline",
        "--no-frozen-lockfile",
        "--ignore-workspace",
        "--reporter=append-only",
        // Each package sees only what it declares, so a dependency the workspace happened to provide fails here.
        "--config.hoist=false",
        ...(store === undefined ? [] : ["--store-dir", store]),
      ],
      { cwd: project, env: environment, timeoutMs: 180_000 },
    );
  }, 240_000);

  afterAll(() => {
    if (root !== undefined) {
      rmSync(root, { recursive: true, force: true });
    }
  });

  it("ships every file its exports point at, with real versions instead of workspace ranges", () => {
    const problems: string[] = [];
    for (const [name, { manifest, files }] of packed) {
      for (const target of publishedTargets(manifest)) {
        if (!files.has(target)) {
          problems.push(`${name}: exports or bin point at ${target}, which the tarball does not contain`);
        }
      }
      for (const field of ["dependencies", "peerDependencies", "optionalDependencies"] as const) {
        for (const [dependency, range] of Object.entries(manifest[field] ?? {})) {
          const sibling = packed.get(dependency);
          if (range.startsWith("workspace:")) {
            problems.push(`${name}: ${field}.${dependency} is still ${range}`);
          } else if (
            sibling !== undefined &&
            ![sibling.manifest.version, `^${sibling.manifest.version}`].includes(range)
          ) {
            problems.push(`${name}: ${field}.${dependency} is ${range}, not the packed ${sibling.manifest.version}`);
          }
        }
      }
      const shippedSources = [...files].filter((file) => file.startsWith("src/"));
      if (shippedSources.length > 0) {
        problems.push(`${name}: ships its sources (${shippedSources.join(", ")})`);
      }
    }
    expect(problems).toEqual([]);
  });

  it("runs the API reference's usage example with plain Node", async () => {
    const result = await run(process.execPath, ["usage-example.mjs", answer], {
      cwd: project,
      env: environment,
      timeoutMs: 60_000,
    });
    expect(result, `the example failed:\n${result.stdout}\n${result.stderr}`).toMatchObject({ code: 0 });
    expect(result.stdout).toContain(`text: ${answer}`);
    expect(result.stdout).toContain("run: Completed");
  });

  it("compiles a TypeScript app that calls the wrapped agent's members and writes callbacks as users do", async () => {
    const compiler = join(project, "node_modules/typescript/bin/tsc");
    const result = await run(process.execPath, [compiler, "-p", "tsconfig.json"], {
      cwd: project,
      env: environment,
      timeoutMs: 120_000,
    });
    expect(result, `tsc failed:\n${result.stdout}\n${result.stderr}`).toMatchObject({ code: 0 });
  }, 150_000);

  it("streams, ends and calls back as the plain agent.stream(): abort, suspension, callbacks, raw chunks, processor retries, structured output", async () => {
    const result = await run(process.execPath, ["stream-parity.mjs"], {
      cwd: project,
      env: environment,
      timeoutMs: 90_000,
    });
    expect(result, `the script failed:\n${result.stdout}\n${result.stderr}`).toMatchObject({ code: 0 });
    const rows = result.stdout
      .split("\n")
      .filter((line) => line.startsWith("{"))
      .map((line) => JSON.parse(line) as { row: string; plain: unknown; durable: unknown });
    expect(rows.map(({ row }) => row)).toEqual([
      "abort",
      "suspension",
      "callbacks",
      "rawChunks",
      "processorRetries",
      "structuredOutput",
    ]);
    for (const { row, plain, durable } of rows) {
      expect(durable, row).toEqual(plain);
    }
    expect(rows[0]?.plain).toMatchObject({ last: ["abort", "finish"], finishReason: "aborted", onAbort: true });
    expect(rows[1]?.plain).toMatchObject({ last: "tool-call-approval", finishReason: "suspended" });
    const [rawChunks, processorRetries, structured] = rows.slice(3).map(({ plain }) => plain as { types: string[] });
    expect(rawChunks?.types).toContain("raw");
    expect(processorRetries).toMatchObject({ modelCalls: 3, text: "Third time lucky." });
    expect(structured?.types.slice(-3)).toEqual(["object-result", "step-finish", "finish"]);
  }, 120_000);

  it("resolves every entry point of @mastra/inngest to its built files", async () => {
    const umbrella = packed.get("@mastra/inngest") as Packed;
    const subpaths = Object.keys(umbrella.manifest.exports as Record<string, unknown>).filter(
      (subpath) => subpath !== "./package.json",
    );
    expect([...subpaths].sort()).toEqual([".", "./express", "./fastify", "./hono", "./koa", "./next", "./redis"]);

    const expected: Record<string, string[]> = {
      ".": [
        "CachingPubSub",
        "InMemoryStreamCache",
        "InngestPubSub",
        "MastraInngestError",
        "createInngestAgent",
        "createServe",
        "isInngestAgent",
        "serve",
      ],
      "./redis": ["RedisPubSub", "RedisStreamCache"],
    };
    const specifiers = subpaths.map((subpath) => {
      const framework = subpath.slice(2);
      // The project installs hono and express; the other frameworks are optional peers it lacks.
      const optionalPeer = unrequestedFrameworks.includes(framework) ? `=${framework}` : "";
      return `@mastra/inngest${subpath.slice(1)}${optionalPeer}`;
    });
    const result = await run(process.execPath, ["import-subpaths.mjs", ...specifiers], {
      cwd: project,
      env: environment,
      timeoutMs: 60_000,
    });
    expect(result, `importing the entry points failed:\n${result.stdout}\n${result.stderr}`).toMatchObject({ code: 0 });
    const imports = (JSON.parse(result.stdout) as { file: string; exports?: string[]; missingPeer?: string }[]).map(
      (imported, position) => ({ subpath: subpaths[position] as string, ...imported }),
    );
    expect(imports).toHaveLength(subpaths.length);
    for (const { subpath, file, exports, missingPeer } of imports) {
      expect(relative(project, file), subpath).toMatch(/\/dist\/[^/]+\.mjs$/);
      if (missingPeer === undefined) {
        expect(exports, subpath).toEqual(expect.arrayContaining(expected[subpath] ?? ["serve"]));
      }
    }
  });

  it("does not install frameworks the project did not ask for", () => {
    const installed = readdirSync(join(project, "node_modules/.pnpm")).filter((entry) =>
      unrequestedFrameworks.some((framework) => entry.startsWith(`${framework}@`)),
    );
    const requiredPeers = [...packed.values()].flatMap(({ manifest }) =>
      Object.keys(manifest.peerDependencies ?? {})
        .filter(
          (peer) => unrequestedFrameworks.includes(peer) && manifest.peerDependenciesMeta?.[peer]?.optional !== true,
        )
        .map((peer) => `${manifest.name} requires the peer ${peer}`),
    );
    expect(
      installed,
      `npm and pnpm install the required peers of dependencies, so every user of @mastra/inngest gets these ` +
        `(${requiredPeers.join("; ")}); inngest marks its framework peers optional in peerDependenciesMeta`,
    ).toEqual([]);
  });
});
