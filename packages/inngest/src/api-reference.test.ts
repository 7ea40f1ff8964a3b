import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import ts from "typescript";
import { describe, expect, it } from "vitest";

// The code blocks of Mastra's reference page for createInngestAgent() must type-check as written
// against @mastra/inngest. Each block is compiled as its own module, after a short prelude that
// declares what the page assumes (`agent`, `inngest`, `durableAgent`, `runId`, `mastra`, `app`).

const packageDirectory = join(dirname(fileURLToPath(import.meta.url)), "..");
const reference = readFileSync(join(packageDirectory, "../../docs/api-reference.md"), "utf8");
const blocks = [...reference.matchAll(/```typescript\n([\s\S]*?)```/g)].map((match) => match[1] as string);

const assumed: Record<string, { type: string; imports: string[] }> = {
  agent: { type: "Agent", imports: ['import type { Agent } from "@mastra/core/agent";'] },
  inngest: { type: "Inngest", imports: ['import type { Inngest } from "inngest";'] },
  durableAgent: { type: "InngestAgent", imports: ['import type { InngestAgent } from "@mastra/inngest";'] },
  runId: { type: "string", imports: [] },
  mastra: { type: "Mastra", imports: ['import type { Mastra } from "@mastra/core";'] },
};

/** The prelude a block needs: declarations of the names it uses without defining them. */
function prelude(block: string): string {
  const lines: string[] = ['import type { MastraModelOutput } from "@mastra/core/stream";'];
  for (const [name, { type, imports }] of Object.entries(assumed)) {
    const defined = new RegExp(`(const|let|var)\\s+(\\{[^}]*\\b${name}\\b[^}]*\\}|${name}\\b)`).test(block);
    if (!defined && new RegExp(`\\b${name}\\b`).test(block)) {
      lines.push(...imports, `declare const ${name}: ${type};`);
    }
  }
  if (/\bapp\./.test(block)) {
    const express = block.includes("inngest/express");
    lines.push(express ? 'import type { Express } from "express";' : 'import type { Hono } from "hono";');
    lines.push(`declare const app: ${express ? "Express" : "Hono"};`);
  }
  // Unused, but keeps the import legal in blocks that declare interfaces using it.
  lines.push("export type { MastraModelOutput };");
  return `${lines.join("\n")}\n`;
}

describe("the API reference's examples", () => {
  it("has the code blocks this test expects", () => {
    expect(blocks.length).toBeGreaterThanOrEqual(13);
  });

  it("type-check as written against @mastra/inngest", () => {
    const files = new Map(
      blocks.map((block, position) => [
        join(packageDirectory, "src", `reference-block-${position + 1}.ts`),
        `${prelude(block)}${block}\nexport {};\n`,
      ]),
    );
    const options: ts.CompilerOptions = {
      target: ts.ScriptTarget.ES2023,
      module: ts.ModuleKind.Preserve,
      moduleResolution: ts.ModuleResolutionKind.Bundler,
      customConditions: ["@mastra/inngest-source"],
      strict: true,
      noEmit: true,
      skipLibCheck: true,
      allowImportingTsExtensions: true,
      types: ["node"],
      baseUrl: packageDirectory,
      paths: { "@mastra/inngest": ["./src/index.ts"], "@mastra/inngest/*": ["./src/*.ts"] },
    };
    const host = ts.createCompilerHost(options);
    const readFile = host.readFile.bind(host);
    const fileExists = host.fileExists.bind(host);
    host.readFile = (path) => files.get(path) ?? readFile(path);
    host.fileExists = (path) => files.has(path) || fileExists(path);
    const getSourceFile = host.getSourceFile.bind(host);
    host.getSourceFile = (path, languageVersion, onError, shouldCreate) => {
      const text = files.get(path);
      return text === undefined
        ? getSourceFile(path, languageVersion, onError, shouldCreate)
        : ts.createSourceFile(path, text, languageVersion, true);
    };
    const program = ts.createProgram([...files.keys()], options, host);
    const diagnostics = ts
      .getPreEmitDiagnostics(program)
      .filter((diagnostic) => diagnostic.file === undefined || files.has(diagnostic.file.fileName))
      .map((diagnostic) => {
        const where = diagnostic.file?.fileName.split("/").at(-1) ?? "";
        return `${where}: ${ts.flattenDiagnosticMessageText(diagnostic.messageText, "\n")}`;
      });
    expect(diagnostics).toEqual([]);
  }, 60_000);
});
