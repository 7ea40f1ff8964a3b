import { defaultClientConditions, defaultServerConditions } from "vite";
import { defineConfig } from "vitest/config";

// Tests import sibling packages through the "@mastra/inngest-source" export condition, so they run
// against src without a build. Vite resolves server-side imports with `ssr.resolve`, hence both;
// the defaults stay, so packages in node_modules resolve as Node resolves them.
const sourceCondition = "@mastra/inngest-source";
// "module" is dropped: some dependencies (OpenTelemetry, pulled in by the inngest SDK) point it at
// ESM files with extensionless imports that Node cannot load, while Node itself never uses it.
const withoutModule = (conditions: readonly string[]): string[] => conditions.filter((name) => name !== "module");

export default defineConfig({
  resolve: { conditions: [sourceCondition, ...withoutModule(defaultClientConditions)] },
  ssr: { resolve: { conditions: [sourceCondition, ...withoutModule(defaultServerConditions)] } },
  test: {
    projects: [
      {
        extends: true,
        test: {
          name: "unit",
          include: [
            "packages/*/src/**/*.test.ts",
            "e2e/**/*.test.ts",
            "e2e-inngest-v3/src/**/*.test.ts",
            "chaos/src/**/*.test.ts",
            "examples/*/src/**/*.test.ts",
          ],
          exclude: ["**/*.int.test.ts", "**/node_modules/**", "**/dist/**"],
          // Type tests (`*.test-d.ts`) pin the public types: tsc checks them, and a type error fails the run.
          typecheck: {
            enabled: true,
            include: ["packages/*/src/**/*.test-d.ts"],
            tsconfig: "./tsconfig.typecheck.json",
          },
        },
      },
      {
        extends: true,
        test: {
          name: "integration",
          include: [
            "packages/*/src/**/*.int.test.ts",
            "e2e/**/*.int.test.ts",
            "e2e-inngest-v3/src/**/*.int.test.ts",
            "chaos/src/**/*.int.test.ts",
            "examples/*/src/**/*.int.test.ts",
          ],
          exclude: ["**/node_modules/**", "**/dist/**"],
          testTimeout: 60_000,
          hookTimeout: 60_000,
        },
      },
    ],
  },
});
