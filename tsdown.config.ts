import { defineConfig, type UserConfig } from "tsdown";

/**
 * The build every public package shares: ESM with `.d.mts` declarations, sourcemaps and a publint
 * pass. A package's own `tsdown.config.ts` reuses it in one line, adding entries only when it has
 * subpaths.
 */
export function packageBuild(overrides: UserConfig = {}): UserConfig {
  return defineConfig({
    entry: ["src/index.ts"],
    format: "esm",
    platform: "node",
    target: "node22",
    dts: true,
    sourcemap: true,
    clean: true,
    publint: true,
    ...overrides,
  });
}
